import type { PathwiseConfig } from '../config/index.js';
import type { World } from '../sim/index.js';

/** Problems that make a scenario and its workspace disagree: the simulator would not test what it says. */
export const checkWorkspace = (world: World, config: PathwiseConfig): string[] => {
  const s = world.scenario;
  const issues: string[] = [];
  if (config.goal === undefined)
    issues.push(`${s.config}: no goal: the scenario's goal is "${s.goal.event}"`);
  else if (config.goal.event !== s.goal.event)
    issues.push(
      `goal.event: the workspace's goal is "${config.goal.event}", the scenario's "${s.goal.event}"`,
    );
  if (config.sources.length === 0) issues.push(`${s.config}: no sources: the customers need a write key`);
  for (const [id, action] of Object.entries(s.actions)) {
    const a = config.actions.find((x) => x.id === id);
    if (a === undefined) issues.push(`actions.${id}: not in the workspace's actions`);
    else {
      if (a.channel !== action.channel)
        issues.push(`actions.${id}.channel: ${action.channel} here, ${a.channel} in the workspace`);
      if (a.status !== 'approved') issues.push(`actions.${id}: not approved in the workspace`);
      if (!a.trigger.events.includes(s.trigger.event))
        issues.push(`actions.${id}: its workspace trigger does not include "${s.trigger.event}"`);
      if (a.channel !== 'web' && config.channels[a.channel] === undefined)
        issues.push(`actions.${id}: the workspace has no ${a.channel} channel`);
    }
  }
  return issues;
};

/** The workspace with its providers replaced by the local receivers (the simulated customers' devices). */
export const pointAtSinks = (
  config: PathwiseConfig,
  smtpPort: number,
  hookUrl: (path: string) => string,
  publicUrl: string,
): PathwiseConfig => {
  const channels = { ...config.channels };
  if (channels.email !== undefined) {
    const { user: _user, pass: _pass, ...smtp } = channels.email.smtp;
    channels.email = {
      ...channels.email,
      smtp: { ...smtp, host: '127.0.0.1', port: smtpPort, secure: false },
      publicUrl,
    };
  }
  for (const name of ['sms', 'push', 'webhook'] as const) {
    const ch = channels[name];
    if (ch !== undefined) channels[name] = { ...ch, url: hookUrl(`/${name}`) };
  }
  return { ...config, channels };
};

import { resolve } from 'node:path';
import type { Channel } from '../domain/index.js';
import type { ActionConfig, ChannelsConfig } from '../config/index.js';
import { checkTemplate } from './render.js';
import type { ChannelAdapter } from './channel.js';
import type { RetryPolicy } from './retry.js';
import { createWebhookChannel } from './webhook/index.js';
import { checkEmailTemplates, createEmailChannel } from './email/index.js';

export interface ChannelEntry {
  adapter: ChannelAdapter;
  retry: RetryPolicy;
}

/**
 * Opens an adapter for every channel in the config. A bad setting (a missing `${ENV}` secret, a bad header)
 * is an error here, at start, not at the first send.
 */
export const openChannels = (
  config: ChannelsConfig,
  deps: { env: NodeJS.ProcessEnv; configDir: string; now: () => number },
): Map<Channel, ChannelEntry> => {
  const channels = new Map<Channel, ChannelEntry>();
  if (config.email !== undefined) {
    channels.set('email', {
      adapter: createEmailChannel(config.email, {
        env: deps.env,
        templatesDir: resolve(deps.configDir, config.email.templates),
        now: deps.now,
      }),
      retry: config.email.retry,
    });
  }
  for (const name of ['sms', 'push', 'webhook'] as const) {
    const c = config[name];
    if (c === undefined) continue;
    channels.set(name, {
      adapter: createWebhookChannel(c, { env: deps.env, now: deps.now, name }),
      retry: c.retry,
    });
  }
  return channels;
};

export const closeChannels = async (channels: ReadonlyMap<Channel, ChannelEntry>): Promise<void> => {
  await Promise.all([...channels.values()].map((c) => c.adapter.close()));
};

/**
 * Every template the catalog's message actions use, checked before anything is sent: email templates (files,
 * Liquid, MJML, subject) and the Liquid in webhook payloads. Returns `actions[i].field: problem` lines.
 */
export const checkActionTemplates = async (
  actions: readonly ActionConfig[],
  config: ChannelsConfig,
  configDir: string,
): Promise<string[]> => {
  const problems: string[] = [];
  if (config.email !== undefined) {
    const issues = await checkEmailTemplates(actions, resolve(configDir, config.email.templates));
    for (const i of issues) problems.push(`actions[${i.actionIndex}].${i.field}: ${i.message}`);
  }
  actions.forEach((a, i) => {
    if (a.channel === 'email' || a.channel === 'web') return;
    const walk = (value: unknown, path: string): void => {
      if (typeof value === 'string') {
        const problem = checkTemplate(value);
        if (problem !== undefined) problems.push(`actions[${i}].${path}: ${problem}`);
      } else if (Array.isArray(value)) value.forEach((v, j) => walk(v, `${path}[${j}]`));
      else if (value !== null && typeof value === 'object')
        for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`);
    };
    walk(
      a.content.payload ?? a.content.body ?? '',
      a.content.payload === undefined ? 'content.body' : 'content.payload',
    );
  });
  return problems;
};

import { parse } from '@marcbachmann/cel-js';
import type { ActionConfig, GoalConfig, PathwiseConfig } from '../config/index.js';
import type { Channel } from '../domain/index.js';

/** An action ready for the pipeline: its eligibility expression parsed once, its value resolved. */
export interface CompiledAction {
  /** Position in `actions:`, so explanations can name the rule (`actions[3].eligible`). */
  index: number;
  config: ActionConfig;
  id: string;
  channel: Channel;
  /** Value of reaching the goal through this action (the action's own, else the goal's expected value). */
  value: number;
  eligible?: (ctx: Record<string, unknown>) => unknown;
}

/** Everything `decide` needs from the config, prepared once per config version. */
export interface Catalog {
  actions: CompiledAction[];
  byId: ReadonlyMap<string, CompiledAction>;
  placements: ReadonlySet<string>;
  /** Expected value of the goal when nothing is sent (for the "do nothing" option). */
  goalValue: number;
  policy: PathwiseConfig['policy'];
  holdout: PathwiseConfig['holdout'];
  exploration: PathwiseConfig['exploration'];
  propensitySamples: number;
  /** Channels that can deliver; absent: every channel (pure tests, offline evaluation). `web` always can. */
  deliverable?: ReadonlySet<Channel>;
}

/** The goal's expected value: a constant, or the default declared for a property-valued goal. */
export const expectedGoalValue = (goal: GoalConfig | undefined): number =>
  goal === undefined ? 1 : typeof goal.value === 'number' ? goal.value : goal.value.default;

/** Compiles the decisioning config (config check has already proved every expression parses). */
export const compileCatalog = (
  config: Pick<
    PathwiseConfig,
    'goal' | 'actions' | 'placements' | 'policy' | 'holdout' | 'exploration' | 'model'
  >,
  opts: { deliverable?: readonly Channel[] } = {},
): Catalog => {
  const goalValue = expectedGoalValue(config.goal);
  const actions = config.actions.map((a, index): CompiledAction => ({
    index,
    config: a,
    id: a.id,
    channel: a.channel,
    value: a.value ?? goalValue,
    ...(a.eligible === undefined ? {} : { eligible: parse(a.eligible) }),
  }));
  return {
    actions,
    byId: new Map(actions.map((a) => [a.id, a])),
    placements: new Set(config.placements.map((p) => p.id)),
    goalValue,
    policy: config.policy,
    holdout: config.holdout,
    exploration: config.exploration,
    propensitySamples: config.model.propensitySamples,
    ...(opts.deliverable === undefined
      ? {}
      : { deliverable: new Set<Channel>([...opts.deliverable, 'web']) }),
  };
};

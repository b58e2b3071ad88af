import type { JsonObject } from './event.js';

/** A channel an action is delivered on (mirrors config CHANNELS; kept here so the core needs no config import). */
export type Channel = 'email' | 'sms' | 'push' | 'webhook' | 'web';

/** What asked for a decision. */
export type Signal =
  | { kind: 'event'; event: string; messageId: string; properties: JsonObject }
  | { kind: 'segment'; segment: string; messageId: string }
  | { kind: 'placement'; placement: string; context: JsonObject }
  /**
   * A re-decision after an action got no response or could not be delivered (orchestration): the candidates
   * of the original signal (`origin`), except the actions already tried (`exclude`).
   */
  | { kind: 'redecide'; after: string; exclude: string[]; origin?: OriginSignal };

/** A signal that starts a chain of decisions (a re-decision keeps the one it came from). */
export type OriginSignal =
  | { kind: 'event'; event: string; messageId: string; properties: JsonObject }
  | { kind: 'segment'; segment: string; messageId: string };

/** A hashed sparse feature vector: parallel arrays of slot indices and values. */
export interface SparseFeatures {
  idx: number[];
  val: number[];
}

/** How the model scored one option (an action, or doing nothing). */
export interface ScoreParts {
  /** Which estimate produced it: the contextual model, or the Beta-Bernoulli prior of a young action. */
  model: 'logistic' | 'beta';
  /** Posterior mean probability of reaching the goal. */
  probability: number;
  /** Posterior standard deviation of that probability. */
  uncertainty: number;
  /** Observations the estimate rests on. */
  observations: number;
  value: number;
  weight: number;
  cost: number;
  /** probability × value × weight − cost: the exploit score. */
  expectedValue: number;
  /** Probability this option is chosen (the Thompson-sampling policy after exploration bounds). */
  probabilityChosen: number;
}

export type RemovalStage = 'trigger' | 'eligibility' | 'policy';

/** One candidate action and what happened to it. */
export interface CandidateTrace {
  actionId: string;
  channel: Channel;
  /** The rule that removed it, when it was removed: e.g. `policy.frequencyCaps[0]`, `actions[2].eligible`. */
  removed?: { stage: RemovalStage; rule: string; reason: string };
  score?: ScoreParts;
}

export type DecisionMode =
  /** The best-known option was chosen. */
  | 'exploit'
  /** Sampling chose another option than the best-known one. */
  | 'explore'
  /** The customer is in the holdout group: no autonomous action. */
  | 'holdout'
  /** The kill switch is on. */
  | 'kill-switch'
  /** No action survived eligibility and policy. */
  | 'no-candidates';

export interface Explanation {
  mode: DecisionMode;
  /** Every action the signal made a candidate, in catalog order. */
  candidates: CandidateTrace[];
  /** Doing nothing, scored like an action (its learned baseline). */
  nothing?: ScoreParts;
  /** The chosen action, or null for "do nothing". */
  chosen: string | null;
  /** Probability the policy had of making this choice, in (0, 1]. */
  propensity: number;
  modelVersion: number;
  /** One sentence for people. */
  summary: string;
}

/** One decision, as logged. */
export interface Decision {
  id: string;
  profileId: string;
  at: number;
  signal: Signal;
  /** Null: do nothing. */
  actionId: string | null;
  channel: Channel | null;
  /** When the action should go out (quiet hours may defer it); null when no action. */
  sendAt: number | null;
  propensity: number;
  mode: DecisionMode;
  holdout: boolean;
  modelVersion: number;
  /** The features the model saw, kept so the outcome can update the model for exactly this context. */
  features: SparseFeatures;
  explanation: Explanation;
  /** The end of the attribution window: a goal after this no longer counts for this decision. */
  attributionEndsAt: number;
}

/** What a decision earned. `reward` is the learning target in [0, 1]; `value` the business value reached. */
export interface Outcome {
  decisionId: string;
  at: number;
  kind: 'goal' | 'engagement' | 'none';
  reward: number;
  value: number;
  /** What caused it: the goal or engagement event's messageId, an outcome API call, or `window-ended`. */
  cause: string;
}

/** The id of the "do nothing" arm in the model. */
export const NOTHING = '__nothing__';

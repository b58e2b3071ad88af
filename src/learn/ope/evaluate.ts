import { OnPolicyMean } from './on-policy.js';
import { PolicyEvaluation, type OffPolicyEstimates } from './evaluation.js';
import type { Estimate } from './estimate.js';
import type { Policy } from './policy.js';
import type { LoggedRecord } from './record.js';
import { Replay } from './replay.js';
import { RunningRewardModel } from './reward-model.js';

/**
 * `estimate(loggedRecords, targetPolicy)` in one call, for logs that fit in an iterable (tests, small files):
 * IPS, SNIPS and DR of `policy`, with the progressive per-action reward model of reward-model.ts. The streaming
 * classes underneath take one row at a time for logs that do not.
 */
export const evaluateOffPolicy = <X>(
  records: Iterable<LoggedRecord<X>>,
  policy: Policy<X>,
): OffPolicyEstimates => {
  const q = new RunningRewardModel();
  const evaluation = PolicyEvaluation.empty();
  for (const r of records) {
    evaluation.add(r, policy(r.context), q);
    q.learn(r.action, r.reward);
  }
  return evaluation.estimates();
};

/** The logging policy's value: the mean logged reward with its interval. */
export const onPolicyValue = (records: Iterable<LoggedRecord<unknown>>): Estimate => {
  const m = new OnPolicyMean();
  for (const r of records) m.add(r.reward);
  return m.estimate();
};

/**
 * Replay (Li et al. 2011) of a fixed policy: `choose(x)` is the policy's action for context x. For a policy that
 * learns from the matched rows, use ReplayLearning (learned.ts).
 */
export const replayValue = <X>(records: Iterable<LoggedRecord<X>>, choose: (x: X) => number): Estimate => {
  const replay = new Replay();
  for (const r of records) replay.add(choose(r.context) === r.action, r.reward);
  return replay.estimate();
};

/**
 * Offline policy evaluation (zr-obp's `ope/`): pure estimators over logged bandit feedback. A logged record
 * meets a target policy only through the policy's distribution over actions and the logged propensity; every
 * estimator streams (one row at a time, O(1) memory) and returns a value with a 95% normal interval.
 */
export { Z95, normalInterval, type Estimate } from './estimate.js';
export { Moments, WeightedMoments } from './moments.js';
export { recordProblem, type LoggedRecord } from './record.js';
export {
  always,
  uniform,
  probabilityOf,
  expectedUnder,
  type Distribution,
  type Policy,
  type Predictions,
} from './policy.js';
export { RunningRewardModel } from './reward-model.js';
export { OnPolicyMean } from './on-policy.js';
export { Ips } from './ips.js';
export { Snips } from './snips.js';
export { DoublyRobust } from './doubly-robust.js';
export { Replay } from './replay.js';
export { PolicyEvaluation, type OffPolicyEstimates } from './evaluation.js';
export { ActionValues } from './action-values.js';
export { thompsonChoice, greedyChoice, greedyPolicy, ReplayLearning } from './learned.js';
export { evaluateOffPolicy, onPolicyValue, replayValue } from './evaluate.js';

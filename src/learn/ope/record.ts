/**
 * One logged decision, as every estimator reads it (zr-obp's bandit feedback, one row):
 * - `action`: index of the logged action in the evaluation's action list (0 … K − 1);
 * - `reward`: what followed, a finite number (0/1 for a click; any unit for revenue);
 * - `propensity`: the probability the logging policy had of choosing that action in that context, in (0, 1];
 * - `context`: what the policies may look at (hashed features, or nothing for context-free policies).
 */
export interface LoggedRecord<X = unknown> {
  action: number;
  reward: number;
  propensity: number;
  context: X;
}

/**
 * Checks a record's numbers; returns what is wrong with it (naming the field) or undefined. Estimators assume
 * valid records: readers call this at the boundary, where they can name the row.
 */
export const recordProblem = (r: {
  action: number;
  reward: number;
  propensity: number;
}): { field: 'action' | 'reward' | 'propensity'; reason: string } | undefined => {
  if (!Number.isInteger(r.action) || r.action < 0)
    return { field: 'action', reason: `${r.action} is not an action index` };
  if (!Number.isFinite(r.reward)) return { field: 'reward', reason: `${r.reward} is not a finite number` };
  if (!(r.propensity > 0 && r.propensity <= 1))
    return { field: 'propensity', reason: `${r.propensity} is not a probability in (0, 1]` };
  return undefined;
};

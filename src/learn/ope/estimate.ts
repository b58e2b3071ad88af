/**
 * What every estimator returns: the estimated value of a policy (mean reward per decision, in the reward's own
 * units) with a two-sided 95% normal confidence interval, and the number of logged rows it rests on.
 * A value that cannot be estimated (no rows, or no row the target policy could have chosen) is NaN, and so is an
 * interval that needs at least two rows.
 */
export interface Estimate {
  value: number;
  ciLow: number;
  ciHigh: number;
  n: number;
}

/** The 97.5% quantile of the standard normal: value ± Z95 · se is a two-sided 95% interval. */
export const Z95 = 1.959963984540054;

/** value ± Z95 · se; a NaN or infinite standard error gives a NaN interval (unknown, not "exact"). */
export const normalInterval = (value: number, se: number, n: number): Estimate => {
  const known = Number.isFinite(se);
  return {
    value,
    ciLow: known ? value - Z95 * se : NaN,
    ciHigh: known ? value + Z95 * se : NaN,
    n,
  };
};

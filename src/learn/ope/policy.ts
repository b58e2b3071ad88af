/**
 * A target policy meets an estimator only through the distribution it gives over actions (zr-obp's
 * `action_dist`): π(· | x) for a context x. Three shapes, so the common cases cost O(1) per row:
 * - `point`: one action with probability 1 (a deterministic policy: "always a", greedy);
 * - `uniform`: 1 / `actions` for each of the actions 0 … actions − 1;
 * - `dense`: `probs[a]` for each action a (missing entries are 0); the probabilities sum to 1.
 */
export type Distribution =
  | { readonly kind: 'point'; readonly action: number }
  | { readonly kind: 'uniform'; readonly actions: number }
  | { readonly kind: 'dense'; readonly probs: ArrayLike<number> };

/** A target policy: context → π(· | x). Pure, and called once per logged row, in log order. */
export type Policy<X> = (context: X) => Distribution;

/** The deterministic policy that always picks `action`. */
export const always = <X>(action: number): Policy<X> => {
  const d: Distribution = { kind: 'point', action };
  return () => d;
};

/** The uniform random policy over `actions` actions. */
export const uniform = <X>(actions: number): Policy<X> => {
  if (!Number.isInteger(actions) || actions < 1)
    throw new Error(`uniform: actions must be a positive integer, got ${actions}`);
  const d: Distribution = { kind: 'uniform', actions };
  return () => d;
};

/** π(a | x) under `d`. */
export const probabilityOf = (d: Distribution, action: number): number => {
  switch (d.kind) {
    case 'point':
      return d.action === action ? 1 : 0;
    case 'uniform':
      return action >= 0 && action < d.actions ? 1 / d.actions : 0;
    case 'dense':
      return d.probs[action] ?? 0;
    default:
      return unreachable(d);
  }
};

/** What a reward model can say about one context: q̂(x, a) per action, and the mean of q̂ over the first k. */
export interface Predictions {
  of(action: number): number;
  meanOfFirst(k: number): number;
}

/** E_{a ~ π(·|x)} q̂(x, a), the direct-method term of the doubly robust estimator. */
export const expectedUnder = (d: Distribution, q: Predictions): number => {
  switch (d.kind) {
    case 'point':
      return q.of(d.action);
    case 'uniform':
      return q.meanOfFirst(d.actions);
    case 'dense': {
      let sum = 0;
      for (let a = 0; a < d.probs.length; a++) {
        const p = d.probs[a] ?? 0;
        if (p !== 0) sum += p * q.of(a);
      }
      return sum;
    }
    default:
      return unreachable(d);
  }
};

const unreachable = (d: never): never => {
  throw new Error(`unknown distribution ${JSON.stringify(d)}`);
};

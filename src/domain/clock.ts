/** Time comes in through a Clock so the core stays pure and tests can move time. */
export interface Clock {
  now(): number;
}

export const fixedClock = (start: number): Clock & { advance(ms: number): void; set(ms: number): void } => {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
    set: (ms) => {
      t = ms;
    },
  };
};

import type { Clock } from '../domain/clock.js';

/** The wall clock, for adapters and the process edge; the core receives it as a plain `Clock`. */
export const systemClock: Clock = { now: () => Date.now() };

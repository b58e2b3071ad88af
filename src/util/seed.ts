import { randomBytes } from 'node:crypto';

/** A fresh 32-bit seed for the engine's random generator (the core takes randomness only through a seed). */
export const randomSeed = (): number => randomBytes(4).readUInt32LE(0);

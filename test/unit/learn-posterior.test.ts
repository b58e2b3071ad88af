import { describe, expect, it } from 'vitest';
import {
  meanProbability,
  sampleProbability,
  sdProbability,
  seededRng,
  sigmoid,
  type ArmPosterior,
} from '../../src/learn/index.js';

const empirical = (p: ArmPosterior, n = 100_000): { mean: number; sd: number } => {
  const rng = seededRng(21);
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const x = sampleProbability(p, rng);
    sum += x;
    sumSq += x * x;
  }
  const mean = sum / n;
  return { mean, sd: Math.sqrt(sumSq / n - mean * mean) };
};

describe('posterior summaries', () => {
  it('Beta: exact mean and standard deviation, matched by its samples', () => {
    const p: ArmPosterior = { model: 'beta', alpha: 3, beta: 9, observations: 10 };
    expect(meanProbability(p)).toBe(0.25);
    expect(sdProbability(p)).toBeCloseTo(Math.sqrt(27 / (144 * 13)), 12);
    const e = empirical(p);
    expect(Math.abs(e.mean - 0.25)).toBeLessThan(0.002);
    expect(Math.abs(e.sd - sdProbability(p))).toBeLessThan(0.002);
  });

  it('logistic: σ(μ) without uncertainty, shrunk toward 0.5 with it', () => {
    const sure: ArmPosterior = { model: 'logistic', mean: -2, variance: 0, observations: 100 };
    expect(meanProbability(sure)).toBeCloseTo(sigmoid(-2), 12);
    expect(sdProbability(sure)).toBe(0);
    const unsure: ArmPosterior = { ...sure, variance: 4 };
    expect(meanProbability(unsure)).toBeGreaterThan(sigmoid(-2));
    expect(meanProbability(unsure)).toBeLessThan(0.5);
  });

  it('logistic: the probit approximation of E[σ(z)] agrees with the samples', () => {
    for (const [mean, variance] of [
      [-3, 0.5],
      [1, 1],
      [0.5, 0.04],
    ] as const) {
      const p: ArmPosterior = { model: 'logistic', mean, variance, observations: 100 };
      const e = empirical(p);
      expect(Math.abs(e.mean - meanProbability(p))).toBeLessThan(0.01);
    }
    // The delta method is good when the logit is tight.
    const tight: ArmPosterior = { model: 'logistic', mean: 0.5, variance: 0.04, observations: 100 };
    expect(Math.abs(empirical(tight).sd - sdProbability(tight))).toBeLessThan(0.003);
  });

  it('σ does not overflow', () => {
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(1000)).toBe(1);
    expect(sigmoid(0)).toBe(0.5);
  });
});

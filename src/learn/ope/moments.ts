/**
 * Streaming mean and variance of a sequence in O(1) memory: Welford's update (1962, "Note on a method for
 * calculating corrected sums of squares and products") for the sum of squared deviations, beside the plain sum.
 * The mean is reported as sum / n rather than Welford's running mean, so a mean of 0/1 rewards is exactly the
 * rate a reader computes by hand (46 / 10,000 is 0.0046, not 0.004600000000000001).
 */
export class Moments {
  n = 0;
  sum = 0;
  private running = 0;
  private m2 = 0;

  add(x: number): void {
    this.n++;
    this.sum += x;
    const d = x - this.running;
    this.running += d / this.n;
    this.m2 += d * (x - this.running);
  }

  /** sum / n; NaN before the first value. */
  get mean(): number {
    return this.n === 0 ? NaN : this.sum / this.n;
  }

  /** The sample variance (n − 1 denominator); NaN below two values. */
  get variance(): number {
    return this.n < 2 ? NaN : this.m2 / (this.n - 1);
  }

  /** The standard error of the mean, √(variance / n). */
  get standardError(): number {
    return Math.sqrt(this.variance / this.n);
  }

  /** The moments of `n` zeros. */
  static zeros(n: number): Moments {
    const m = new Moments();
    m.n = n;
    return m;
  }

  copy(): Moments {
    const c = new Moments();
    c.n = this.n;
    c.sum = this.sum;
    c.running = this.running;
    c.m2 = this.m2;
    return c;
  }
}

/**
 * Streaming weighted mean of x and the weighted sum of squared deviations from it, Σ wᵢ(xᵢ − mean)², by West's
 * update (1979, "Updating mean and variance estimates: an improved method"), for non-negative weights. Stable
 * where Σwx² − (Σwx)²/Σw would cancel.
 */
export class WeightedMoments {
  weight = 0;
  mean = 0;
  squares = 0;

  add(x: number, w: number): void {
    if (w === 0) return;
    this.weight += w;
    const d = x - this.mean;
    this.mean += (w / this.weight) * d;
    this.squares += w * d * (x - this.mean);
  }

  /** Σ wᵢ(xᵢ − c)² for any c: the sum around the mean plus the shift, Σw · (mean − c)². */
  squaresAround(c: number): number {
    const shift = this.mean - c;
    return this.squares + this.weight * shift * shift;
  }

  copy(): WeightedMoments {
    const c = new WeightedMoments();
    c.weight = this.weight;
    c.mean = this.mean;
    c.squares = this.squares;
    return c;
  }
}

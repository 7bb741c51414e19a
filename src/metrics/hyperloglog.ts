// HyperLogLog (Flajolet et al. 2007) with Ertl's improved estimator ("New cardinality estimation
// algorithms for HyperLogLog sketches", 2017, algorithm 6): unbiased from 0 to billions without
// empirical bias tables. With 2^14 one-byte registers (16 KiB) the relative standard error is
// 1.04 / √16384 ≈ 0.81 %, so an estimate is within ±2.5 % of the truth 99.7 % of the time.
// npm's maintained HyperLogLogs hash strings themselves (and bring several dependencies); this one
// takes the two 32-bit hashes the metrics already have.

export const HLL_PRECISION = 14;
/** Relative standard error of an estimate: 1.04 / √(2^precision). */
export const HLL_RELATIVE_ERROR = 1.04 / Math.sqrt(2 ** HLL_PRECISION);
const RANK_BITS = 32;

export class HyperLogLog {
  private readonly registers = new Uint8Array(2 ** HLL_PRECISION);

  /** Adds an item by two independent 32-bit hashes: `high` picks the register, `low` gives the rank. */
  add(high: number, low: number): void {
    const index = high >>> (32 - HLL_PRECISION);
    const rank = Math.clz32(low) + 1; // 1–33: the position of the first 1 bit
    if (rank > this.registers[index]) this.registers[index] = rank;
  }

  /** The estimated number of distinct items added. */
  estimate(): number {
    const m = this.registers.length;
    const counts = new Array<number>(RANK_BITS + 2).fill(0);
    for (const r of this.registers) counts[r]++;
    let z = m * tau(1 - counts[RANK_BITS + 1] / m);
    for (let k = RANK_BITS; k >= 1; k--) z = 0.5 * (z + counts[k]);
    z += m * sigma(counts[0] / m);
    return (m * m) / (2 * Math.LN2 * z);
  }
}

/** Ertl's σ(x) = x + Σ_{k≥1} x^(2^k) · 2^(k−1): the correction for empty registers. */
function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  for (let previous = -1; z !== previous;) {
    x *= x;
    previous = z;
    z += x * y;
    y += y;
  }
  return z;
}

/** Ertl's τ(x): the correction for saturated registers. */
function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  for (let previous = -1; z !== previous;) {
    x = Math.sqrt(x);
    previous = z;
    y *= 0.5;
    z -= (1 - x) ** 2 * y;
  }
  return z / 3;
}

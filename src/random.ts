// Small seeded randomness, pure functions of their inputs: the workflow uses it to draw turn
// counts and the seed activity to order seed questions, so a run with the same `randomSeed`
// makes the same choices, and a retried or replayed step makes them again.

/** mulberry32: a 32-bit PRNG returning floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed for item `index` of a run seeded with `runSeed`. */
export function derivedSeed(runSeed: number, index: number, salt: number): number {
  return Math.imul(runSeed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35) ^ salt;
}

/** A uniform integer in [min, max]. */
export function uniformInt(rand: () => number, min: number, max: number): number {
  return min + Math.floor(rand() * (max - min + 1));
}

/** Fisher-Yates permutation of 0..n-1. */
export function permutation(n: number, rand: () => number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** A draw from weighted outcomes: `weights` maps each outcome to its (unnormalised) weight. */
export function weightedPick(rand: () => number, weights: [number, number][]): number {
  const total = weights.reduce((n, [, w]) => n + w, 0);
  let r = rand() * total;
  for (const [value, w] of weights) {
    if ((r -= w) < 0) return value;
  }
  return weights[weights.length - 1][0];
}

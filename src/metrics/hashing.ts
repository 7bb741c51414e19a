// 32-bit integer hashes for the metrics' sketches: words are hashed once, and n-grams, shingles
// and MinHash rows are hashed from those integers, never from joined strings. Hashes are signed
// int32s: V8 keeps those unboxed, where uint32s above 2^31 become doubles and run ~10× slower.

/** MurmurHash3's finalizer: a bijection of 32-bit integers whose every output bit depends on every input bit. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** FNV-1a over the string's UTF-16 code units with a seed, finished by mix32. */
export function hashString(s: string, seed: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix32(h);
}

/** A hash of the ordered pair (a, b). */
export function combine(a: number, b: number): number {
  return mix32(((Math.imul(a, 0x9e3779b1) ^ b) + 0x7f4a7c15) | 0);
}

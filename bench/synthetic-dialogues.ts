// Deterministic synthetic dialogue records for the metrics benchmark: Zipf-distributed words from
// a made-up vocabulary, questions of 6–18 words, answers of 30–90, 3–6 rounds; and every 100th
// record a near-copy of an earlier one (one word added), so the true near-duplicate count is
// known: floor(n / 100).
import type { DialogueRecord } from '../src/types';

/**
 * sfc32 (Chris Doty-Humphrey's small fast counting PRNG), uniform in [0, 1). Its 128-bit state
 * keeps records' streams apart: mulberry32's single 32-bit counter made records whose seeds sat a
 * few hundred steps apart on its cycle replay each other's words (false near-duplicates at 10^6).
 */
export function prng(seed: number): () => number {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed | 0;
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 15; i++) next(); // mixes the seed into the whole state
  return next;
}

const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  'ne',
  'ru',
  'sa',
  'ti',
  'vo',
  'ze',
  'pa',
  'qu',
  'do',
  'fe',
  'gi',
  'ho',
  'ju',
  'bra',
  'sto',
  'ple',
  'tri',
];
const VOCABULARY_SIZE = 50_000;

/** Word r of the vocabulary: its syllables are the digits of r in base 20. */
function word(r: number): string {
  let s = '';
  let x = r + SYLLABLES.length;
  while (x > 0) {
    s += SYLLABLES[x % SYLLABLES.length];
    x = Math.floor(x / SYLLABLES.length);
  }
  return s;
}

const VOCABULARY = Array.from({ length: VOCABULARY_SIZE }, (_, r) => word(r));
// Cumulative Zipf weights (exponent 1.1): a few words everywhere, a long tail of rare ones.
const CUMULATIVE = (() => {
  const c = new Float64Array(VOCABULARY_SIZE);
  let sum = 0;
  for (let r = 0; r < VOCABULARY_SIZE; r++) c[r] = sum += 1 / (r + 1) ** 1.1;
  return c.map((x) => x / sum);
})();

function zipfRank(random: () => number): number {
  const u = random();
  let lo = 0;
  let hi = VOCABULARY_SIZE - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (CUMULATIVE[mid] < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Half the time a word is followed by one of its 8 usual followers (common words), as phrases recur in real text. */
function sentence(random: () => number, min: number, max: number, end: string): string {
  const n = min + Math.floor(random() * (max - min + 1));
  const ranks = [zipfRank(random)];
  while (ranks.length < n) {
    const last = ranks[ranks.length - 1];
    ranks.push(random() < 0.5 ? (last * 31 + Math.floor(random() * 8)) % 2_000 : zipfRank(random));
  }
  return ranks.map((r) => VOCABULARY[r]).join(' ') + end;
}

function original(index: number): DialogueRecord {
  const random = prng(index);
  const turns = 3 + Math.floor(random() * 4);
  const conversations: DialogueRecord['conversations'] = [];
  for (let t = 0; t < turns; t++) {
    conversations.push({ from: 'human', value: sentence(random, 6, 18, '?'), tokens: 20 });
    conversations.push({
      from: 'gpt',
      value: `${sentence(random, 15, 45, '.')} ${sentence(random, 15, 45, '.')}`,
      tokens: 120,
    });
  }
  return {
    id: `synthetic-${index}`,
    datasetId: 'synthetic',
    datasetRunId: 'synthetic',
    index,
    seed: conversations[0].value,
    turns,
    targetTurns: turns,
    endedBy: 'target',
    filterHits: {},
    models: { ask: 'a', answer: 'b' },
    usage: {
      ask: { promptTokens: 0, completionTokens: 0, calls: 0 },
      answer: { promptTokens: 0, completionTokens: 0, calls: 0 },
    },
    conversations,
  };
}

/** Record `index`: an original, or (index ≡ 99 mod 100) record index − 50 with one word added. */
export function syntheticRecord(index: number): DialogueRecord {
  if (index % 100 !== 99) return original(index);
  const copy = original(index - 50);
  const last = copy.conversations[copy.conversations.length - 1];
  last.value = `${last.value.slice(0, -1)} changed.`;
  return { ...copy, id: `synthetic-${index}`, index };
}

// First questions for dialogues: the built-in set, or a user's file on disk or in S3.
// Formats: plain text (one question a line) or ShareGPT JSONL (the first human turn).
// A run visits the seeds in a permutation fixed by its randomSeed: without replacement
// until every seed has been used once.
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { permutation, prng } from '../random';
import { openBlobStore } from '../storage/blob-store';

const BUILTIN_PATH = path.join(__dirname, 'builtin-seeds.txt');

export interface SkippedLine {
  line: number;
  reason: string;
}

/** The seeds of a file, and the lines that held none (1-based), with why: counted, not fatal. */
export function parseSeeds(text: string, format: 'text' | 'jsonl'): { seeds: string[]; skipped: SkippedLine[] } {
  const lines = text.split(/\r?\n/);
  if (format === 'text') return { seeds: lines.map((l) => l.trim()).filter(Boolean), skipped: [] };
  const seeds: string[] = [];
  const skipped: SkippedLine[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let row: { conversations?: unknown };
    try {
      row = JSON.parse(line);
    } catch (err) {
      return void skipped.push({ line: i + 1, reason: `not JSON (${(err as Error).message})` });
    }
    const first = Array.isArray(row?.conversations) ? row.conversations.find((t: { from?: string }) => t?.from === 'human') : undefined;
    if (typeof first?.value === 'string' && first.value.trim()) seeds.push(first.value.trim());
    else skipped.push({ line: i + 1, reason: 'no "conversations" entry with from "human" and a non-empty value' });
  });
  return { seeds, skipped };
}

/** What a run's seed source holds: shown in the run's result, manifest and UI. */
export interface SeedReport {
  uri: string;
  seeds: number;
  skippedLines: number;
  /** The first skipped lines, with their reasons. */
  firstSkipped: SkippedLine[];
}

export class SeedSource {
  private readonly cache = new Map<string, Promise<{ seeds: string[]; skipped: SkippedLine[] }>>();
  private readonly orders = new Map<string, Uint32Array>();

  private load(uri: string): Promise<{ seeds: string[]; skipped: SkippedLine[] }> {
    let p = this.cache.get(uri);
    if (!p) {
      p = this.read(uri);
      p.catch(() => this.cache.delete(uri));
      this.cache.set(uri, p);
    }
    return p;
  }

  private async read(uri: string): Promise<{ seeds: string[]; skipped: SkippedLine[] }> {
    let text: string | undefined;
    if (uri === 'builtin') text = await fs.promises.readFile(BUILTIN_PATH, 'utf8');
    else {
      const slash = uri.lastIndexOf('/');
      text = await openBlobStore(uri.slice(0, slash)).get(uri.slice(slash + 1));
    }
    if (text === undefined) throw ApplicationFailure.nonRetryable(`seeds: ${uri} does not exist`, 'InvalidInput');
    const parsed = parseSeeds(text, /\.jsonl?$/.test(uri) ? 'jsonl' : 'text');
    if (parsed.seeds.length === 0) {
      const why = parsed.skipped.slice(0, 3).map((s) => `line ${s.line}: ${s.reason}`).join('; ');
      throw ApplicationFailure.nonRetryable(`seeds: ${uri} holds no questions${why ? ` (${why})` : ''}`, 'InvalidInput');
    }
    return parsed;
  }

  async inspect(uri: string): Promise<SeedReport> {
    const { seeds, skipped } = await this.load(uri);
    return { uri, seeds: seeds.length, skippedLines: skipped.length, firstSkipped: skipped.slice(0, 20) };
  }

  async pick(uri: string, randomSeed: number, index: number): Promise<string> {
    const { seeds } = await this.load(uri);
    const key = `${uri}#${randomSeed}`;
    let order = this.orders.get(key);
    if (!order) {
      order = permutation(seeds.length, prng(randomSeed));
      this.orders.set(key, order);
    }
    return seeds[order[index % seeds.length]];
  }
}

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

export function parseSeeds(text: string, format: 'text' | 'jsonl'): string[] {
  const lines = text.split(/\r?\n/);
  if (format === 'text') return lines.map((l) => l.trim()).filter(Boolean);
  const seeds: string[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const row = JSON.parse(line);
      const first = Array.isArray(row.conversations) ? row.conversations.find((t: { from?: string }) => t.from === 'human') : undefined;
      if (typeof first?.value === 'string' && first.value.trim()) seeds.push(first.value.trim());
    } catch {
      // Issue 4 will count and report malformed lines; for now they are skipped, by line number.
      console.warn(`seeds: line ${i + 1} is not JSON; skipped`);
    }
  });
  return seeds;
}

export class SeedSource {
  private readonly cache = new Map<string, Promise<string[]>>();
  private readonly orders = new Map<string, Uint32Array>();

  private load(uri: string): Promise<string[]> {
    let p = this.cache.get(uri);
    if (!p) {
      p = this.read(uri);
      p.catch(() => this.cache.delete(uri));
      this.cache.set(uri, p);
    }
    return p;
  }

  private async read(uri: string): Promise<string[]> {
    let text: string | undefined;
    if (uri === 'builtin') text = await fs.promises.readFile(BUILTIN_PATH, 'utf8');
    else {
      const slash = uri.lastIndexOf('/');
      text = await openBlobStore(uri.slice(0, slash)).get(uri.slice(slash + 1));
    }
    if (text === undefined) throw ApplicationFailure.nonRetryable(`seeds: ${uri} does not exist`, 'InvalidInput');
    const seeds = parseSeeds(text, /\.jsonl?$/.test(uri) ? 'jsonl' : 'text');
    if (seeds.length === 0) throw ApplicationFailure.nonRetryable(`seeds: ${uri} holds no questions`, 'InvalidInput');
    return seeds;
  }

  async pick(uri: string, randomSeed: number, index: number): Promise<string> {
    const seeds = await this.load(uri);
    const key = `${uri}#${randomSeed}`;
    let order = this.orders.get(key);
    if (!order) {
      order = permutation(seeds.length, prng(randomSeed));
      this.orders.set(key, order);
    }
    return seeds[order[index % seeds.length]];
  }
}

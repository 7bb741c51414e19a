// First questions for dialogues: the built-in set, or a user's file on disk or in S3.
// Formats, by extension: .jsonl (ShareGPT, UltraChat or OpenAI-messages rows: the first user
// turn), .json (an array of such rows), .csv (a column: `file.csv#column`, default the first),
// anything else plain text, one question a line.
// A run visits the seeds in a permutation fixed by its randomSeed: without replacement
// until every seed has been used once.
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { parse as parseCsv } from 'csv-parse/sync';
import { permutation, prng } from '../random';
import { openBlobStore } from '../storage/open-blob-store';

const BUILTIN_PATH = path.join(__dirname, 'builtin-seeds.txt');

export interface SkippedLine {
  line: number;
  reason: string;
}

export type SeedFormat = 'text' | 'jsonl' | 'json' | 'csv';

/** The format of a seed file, from its extension (`#column` picks a CSV column). */
export function seedFormatOf(uri: string): SeedFormat {
  const path = uri.replace(/#.*$/, '');
  if (/\.jsonl$/i.test(path)) return 'jsonl';
  if (/\.json$/i.test(path)) return 'json';
  if (/\.csv$/i.test(path)) return 'csv';
  return 'text';
}

/**
 * The first user turn of a dataset row: ShareGPT (`conversations`, from human/user), UltraChat
 * (`data`: [question, answer, ...]) or OpenAI messages (`messages`, role user).
 */
function firstUserTurn(row: any): string | undefined {
  const pick = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
  if (Array.isArray(row?.conversations)) return pick(row.conversations.find((t: any) => t?.from === 'human' || t?.from === 'user')?.value);
  if (Array.isArray(row?.data)) return pick(row.data[0]);
  if (Array.isArray(row?.messages)) return pick(row.messages.find((m: any) => m?.role === 'user')?.content);
  return undefined;
}

const NO_USER_TURN = 'no first user turn (ShareGPT "conversations", UltraChat "data" or OpenAI "messages")';

/** The seeds of a file, and the lines (or JSON items, CSV records) that held none, with why: counted, not fatal. */
export function parseSeeds(text: string, format: SeedFormat, csvColumn?: string): { seeds: string[]; skipped: SkippedLine[] } {
  const seeds: string[] = [];
  const skipped: SkippedLine[] = [];
  if (format === 'text') return { seeds: text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean), skipped };
  if (format === 'json') {
    let rows: unknown;
    try {
      rows = JSON.parse(text);
    } catch (err) {
      return { seeds, skipped: [{ line: 1, reason: `not JSON (${(err as Error).message})` }] };
    }
    if (!Array.isArray(rows)) return { seeds, skipped: [{ line: 1, reason: 'a .json seed file must hold an array of rows' }] };
    rows.forEach((row, i) => {
      const q = firstUserTurn(row);
      if (q) seeds.push(q);
      else skipped.push({ line: i + 1, reason: `item ${i + 1}: ${NO_USER_TURN}` });
    });
    return { seeds, skipped };
  }
  if (format === 'csv') {
    let records: Record<string, string>[];
    try {
      records = parseCsv(text, { columns: true, skip_empty_lines: true, relax_column_count: true, bom: true });
    } catch (err) {
      return { seeds, skipped: [{ line: (err as { lines?: number }).lines ?? 1, reason: `not CSV (${(err as Error).message})` }] };
    }
    const column = csvColumn ?? (records[0] && Object.keys(records[0])[0]);
    records.forEach((r, i) => {
      const q = column ? r[column]?.trim() : undefined;
      if (q) seeds.push(q);
      else skipped.push({ line: i + 2, reason: `no value in column '${column}'` }); // line 1 is the header
    });
    return { seeds, skipped };
  }
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (err) {
      return void skipped.push({ line: i + 1, reason: `not JSON (${(err as Error).message})` });
    }
    const q = firstUserTurn(row);
    if (q) seeds.push(q);
    else skipped.push({ line: i + 1, reason: NO_USER_TURN });
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
      const path = uri.replace(/#.*$/, ''); // a CSV's #column is not part of the key
      const slash = path.lastIndexOf('/');
      text = await openBlobStore(path.slice(0, slash)).get(path.slice(slash + 1));
    }
    if (text === undefined) throw ApplicationFailure.nonRetryable(`seeds: ${uri} does not exist`, 'InvalidInput');
    const column = /#(.+)$/.exec(uri)?.[1];
    const parsed = parseSeeds(text, seedFormatOf(uri), column && decodeURIComponent(column));
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

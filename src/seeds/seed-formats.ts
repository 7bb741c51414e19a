// Seed files read as a stream of seeds, one format at a time, so that a file of any size (ShareGPT's
// JSON is ~670 MB, past V8's string limit) never sits whole in memory.
// Formats, by extension: .jsonl (ShareGPT, UltraChat or OpenAI-messages rows: the first user
// turn), .json (an array of such rows), .csv (a column: `file.csv#column`, default the first),
// anything else plain text, one question a line.
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse as csvParser } from 'csv-parse';
import chain from 'stream-chain';
import fixUtf8Stream from 'stream-chain/utils/fixUtf8Stream.js';
import lines from 'stream-chain/utils/lines.js';
import { parser as jsonParser } from 'stream-json';
import { streamArray } from 'stream-json/streamers/stream-array.js';
import verifier from 'stream-json/utils/verifier.js';

export type SeedFormat = 'text' | 'jsonl' | 'json' | 'csv';

export interface SkippedLine {
  line: number;
  reason: string;
}

/** One seed, or a line (JSON item, CSV record) that held none: counted, not fatal. */
export type SeedItem = { seed: string } | { skipped: SkippedLine };

/** A file that cannot be read past some point (broken JSON array, broken CSV quoting): fatal. */
export class SeedFileError extends Error {
  constructor(
    readonly where: string,
    readonly reason: string,
  ) {
    super(`${where}: ${reason}`);
  }
}

/** The format of a seed file, from its extension (`#column` picks a CSV column). */
export function seedFormatOf(uri: string): SeedFormat {
  const path = uri.replace(/#.*$/, '');
  if (/\.jsonl$/i.test(path)) return 'jsonl';
  if (/\.json$/i.test(path)) return 'json';
  if (/\.csv$/i.test(path)) return 'csv';
  return 'text';
}

/**
 * The first user turn of a dataset row: ShareGPT (`conversations`, the first turn from
 * human/user), UltraChat (`data`: [question, answer, ...]) or OpenAI messages (`messages`, the
 * first with role user). A blank first user turn means none, not the next one.
 */
export function firstUserTurn(row: unknown): string | undefined {
  const pick = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
  const r = (row ?? {}) as { conversations?: unknown; data?: unknown; messages?: unknown };
  if (Array.isArray(r.conversations))
    return pick((r.conversations as Turn[]).find((t) => t?.from === 'human' || t?.from === 'user')?.value);
  if (Array.isArray(r.data)) return pick((r.data as unknown[])[0]);
  if (Array.isArray(r.messages)) return pick((r.messages as Turn[]).find((m) => m?.role === 'user')?.content);
  return undefined;
}

/** A turn of any of the three formats, as read: nothing in it is trusted. */
type Turn = { from?: unknown; value?: unknown; role?: unknown; content?: unknown } | null | undefined;

const NO_USER_TURN = 'no first user turn (ShareGPT "conversations", UltraChat "data" or OpenAI "messages")';

/** The seeds of a file's bytes, in file order. */
export function readSeedItems(
  bytes: Readable,
  format: SeedFormat,
  csvColumn?: string,
): AsyncGenerator<SeedItem> {
  if (format === 'json') return jsonArrayItems(bytes);
  if (format === 'csv') return csvItems(bytes, csvColumn);
  return lineItems(bytes, format);
}

/** Text lines split on \n or \r\n; a byte-order mark is kept, as a whole-file read kept it. */
function textLines(bytes: Readable): AsyncIterable<string> {
  return chain([bytes, fixUtf8Stream({ ignoreBOM: true }), lines()]);
}

async function* lineItems(bytes: Readable, format: 'text' | 'jsonl'): AsyncGenerator<SeedItem> {
  let line = 0;
  for await (const text of textLines(bytes)) {
    line++;
    if (!text.trim()) continue;
    if (format === 'text') {
      yield { seed: text.trim() };
      continue;
    }
    let row: unknown;
    try {
      row = JSON.parse(text);
    } catch (err) {
      yield { skipped: { line, reason: `not JSON (${(err as Error).message})` } };
      continue;
    }
    const seed = firstUserTurn(row);
    yield seed ? { seed } : { skipped: { line, reason: NO_USER_TURN } };
  }
}

async function* jsonArrayItems(bytes: Readable): AsyncGenerator<SeedItem> {
  // Packed values only: a long answer arrives as one string token, not a stream of pieces.
  // Counted inside the parsing chain, which runs ahead of this reader: an error names the item it broke in.
  let parsed = 0;
  const items = chain([jsonParser({ streamValues: false }), streamArray(), (x: unknown) => (parsed++, x)]);
  const source = failureOf(bytes, items);
  let item = 0;
  try {
    for await (const { value } of items as AsyncIterable<{ value: unknown }>) {
      item++;
      const seed = firstUserTurn(value);
      yield seed ? { seed } : { skipped: { line: item, reason: `item ${item}: ${NO_USER_TURN}` } };
    }
  } catch (err) {
    if (err === source.error) throw err; // the source failed or was cancelled: not the file's fault
    throw new SeedFileError(`item ${parsed + 1}`, `not a JSON array of rows (${(err as Error).message})`);
  }
}

async function* csvItems(bytes: Readable, csvColumn?: string): AsyncGenerator<SeedItem> {
  const records = csvParser({
    columns: true,
    skip_empty_lines: true,
    relax_column_count: true,
    bom: true,
    info: true,
  });
  const source = failureOf(bytes, records);
  let column = csvColumn;
  try {
    for await (const { record, info } of records as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number };
    }>) {
      column ??= Object.keys(record)[0];
      const seed = column ? record[column]?.trim() : undefined;
      yield seed ? { seed } : { skipped: { line: info.lines, reason: `no value in column '${column}'` } };
    }
  } catch (err) {
    if (err === source.error) throw err;
    throw new SeedFileError(
      `line ${(err as { lines?: number }).lines ?? '?'}`,
      `not CSV (${(err as Error).message})`,
    );
  }
}

/** Pipes the source's bytes into a parser, and remembers the source's own failure (or cancellation) apart from the parser's. */
function failureOf(bytes: Readable, parser: Writable): { error?: Error } {
  const source: { error?: Error } = {};
  bytes.once('error', (err) => {
    source.error = err;
    parser.destroy(err);
  });
  bytes.pipe(parser);
  return source;
}

/**
 * Where JSON text first breaks, as `line L, column C`, from a second read by a validator that
 * counts lines (the parser does not): undefined when the text is valid JSON.
 */
export async function jsonErrorPosition(bytes: Readable): Promise<string | undefined> {
  const check = verifier.asStream();
  check.resume();
  try {
    await pipeline(bytes, check);
    return undefined;
  } catch (err) {
    const { line, pos } = err as { line?: number; pos?: number };
    return line === undefined ? undefined : `line ${line}, column ${pos}`;
  }
}

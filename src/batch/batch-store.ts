// The batch objects in a dataset's storage (names: ./batch-layout.ts): a group's requests, what
// a submitted batch holds, and each group's outcomes once it finished.
import { createInterface } from 'node:readline';
import type { BlobStore } from '../storage/blob-store';
import { pieceMetaKey } from './batch-layout';
import { customIdOfLine, type PieceLines } from './batch-requests';
import type { BatchOutcome, PieceRef } from './batch-types';

/** What a submitted batch holds (written before it is created), then its file's and its own ID. */
export interface SubmittedManifest {
  key: string;
  pieces: (PieceRef & { ids: string[] })[];
  fileId?: string;
  batchId?: string;
}

export async function writePiece(store: BlobStore, key: string, piece: PieceLines): Promise<void> {
  await store.put(key, piece.lines);
  if (piece.meta !== undefined) await store.put(pieceMetaKey(key), piece.meta);
}

export async function readJson<T>(store: BlobStore, key: string): Promise<T | undefined> {
  const text = await store.get(key);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

/** Lines of an object, streamed; an absent object has none. */
export async function* storedLines(store: BlobStore, key: string): AsyncGenerator<string> {
  const stream = await store.getStream(key);
  if (!stream) return;
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity }))
    if (line.trim()) yield line;
}

/** The batch file: the pieces' lines in order, and each piece's custom_ids (line n of the file is the n-th id). */
export async function buildBatchFile(store: BlobStore, pieces: PieceRef[]) {
  const chunks: Buffer[] = [];
  const withIds: SubmittedManifest['pieces'] = [];
  for (const p of pieces) {
    const text = await store.get(p.key);
    if (text === undefined) throw new Error(`batch requests ${p.key} are missing from storage`);
    chunks.push(Buffer.from(text));
    withIds.push({ ...p, ids: text.split('\n').filter(Boolean).map(customIdOfLine) });
  }
  return { content: Buffer.concat(chunks), pieces: withIds };
}

/** Ask pieces: each request's earlier questions, by custom_id. */
export async function readEarlier(store: BlobStore, pieces: PieceRef[]): Promise<Map<string, string[]>> {
  const earlier = new Map<string, string[]>();
  for (const p of pieces)
    for await (const line of storedLines(store, pieceMetaKey(p.key))) {
      const m = JSON.parse(line) as { custom_id: string; earlier: string[] };
      earlier.set(m.custom_id, m.earlier);
    }
  return earlier;
}

/** Outcomes from `from` (a line number) until about `maxBytes` of them (at least one), and where the next read starts. */
export async function readOutcomes(store: BlobStore, key: string, from: number, maxBytes: number) {
  const outcomes: BatchOutcome[] = [];
  let bytes = 0;
  let n = 0;
  for await (const line of storedLines(store, key)) {
    if (n++ < from) continue;
    if (outcomes.length && bytes + line.length > maxBytes) return { outcomes, next: n - 1 };
    outcomes.push(JSON.parse(line) as BatchOutcome);
    bytes += line.length;
  }
  return { outcomes };
}

// Which queued pieces the next batch takes: in order, whole pieces, within a batch's request and
// byte limits and the room the provider's queue limit leaves. Pure: the batcher workflow and the
// tests call it.
import type { PieceRef } from './batch-types';

export interface BatchRoom {
  maxRequests: number;
  maxBytes: number;
  /** Prompt tokens the provider's queue still takes (Infinity: no limit declared). */
  tokens: number;
}

/**
 * How many of the first `pieces` the next batch takes: as many as fit. A first piece that alone
 * exceeds the token room is taken anyway when `alone` (nothing else is queued at the provider):
 * it cannot fit better later.
 */
export function piecesForBatch(pieces: readonly PieceRef[], room: BatchRoom, alone: boolean): number {
  let requests = 0;
  let bytes = 0;
  let tokens = 0;
  let n = 0;
  for (const p of pieces) {
    if (
      requests + p.count > room.maxRequests ||
      bytes + p.bytes > room.maxBytes ||
      tokens + p.tokens > room.tokens
    )
      break;
    requests += p.count;
    bytes += p.bytes;
    tokens += p.tokens;
    n++;
  }
  return n === 0 && alone && pieces.length ? 1 : n;
}

/** The queue's totals. */
export function queued(pieces: readonly PieceRef[]) {
  return pieces.reduce(
    (t, p) => ({ requests: t.requests + p.count, bytes: t.bytes + p.bytes, tokens: t.tokens + p.tokens }),
    { requests: 0, bytes: 0, tokens: 0 },
  );
}

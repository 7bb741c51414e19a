// Heartbeats while an activity waits on I/O. They are how a worker hears that its activity was
// cancelled or timed out (the cancellation signal then aborts the request), and how the server
// notices a dead worker within the heartbeat timeout rather than the start-to-close timeout.
import { Context } from '@temporalio/activity';

export const HEARTBEAT_EVERY_MS = 5_000;
/** A pass over many records heartbeats every this many, with its progress. */
export const HEARTBEAT_EVERY = 200;

/**
 * Runs `work` with the activity's cancellation signal, heartbeating every few seconds until it
 * settles; with `details`, each heartbeat carries them (the progress the UI shows).
 */
export async function heartbeatWhile<T>(
  work: (signal: AbortSignal) => Promise<T>,
  details?: () => unknown,
): Promise<T> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(details?.()), HEARTBEAT_EVERY_MS);
  try {
    return await work(ctx.cancellationSignal);
  } finally {
    clearInterval(timer);
  }
}

// What one worker does for one endpoint between a call being asked for and its request going
// out, and what it counts: the rate gate (tokens and requests per minute, a 429's cool-down),
// then the concurrency limiter (src/providers/adaptive-concurrency.ts). A call waits at both
// without a timeout running: its own timeout starts when its request is sent, and the time the
// caller has left (the activity's retry budget) decides whether it is sent at all.
import { ApplicationFailure } from '@temporalio/common';
import type { EndpointConfig } from '../config/endpoints';
import type { EndpointStatus } from '../types';
import { AdaptiveConcurrency, type Permit } from './adaptive-concurrency';
import { RateGate, type Ticket } from './rate-gate';
import { eventLoopLagMs } from './event-loop-lag';

/** Requests a worker opens to an endpoint before it knows better, and at most. */
const INITIAL_CONCURRENCY = 24;
const MAX_CONCURRENCY = 10_000;

/** The endpoint as one worker sees it, the worker count aside. */
export type EndpointState = Omit<EndpointStatus, 'workers'>;

/** How a sent request ended, for the limiter and the rate gate. */
export interface Sent {
  /** A reply, with the tokens the provider counted. */
  ok?: { promptTokens: number; completionTokens: number };
  rateLimited?: { retryAfterMs: number };
  /** Nothing reached the provider, or it refused outright (a 4xx): it counted no tokens. */
  rejected?: boolean;
  /** The request was given up after it was sent (timeout, cancel)... */
  abandoned?: boolean;
  /** ...at its timeout: the endpoint may be overloaded. */
  timedOut?: boolean;
}

export class EndpointFlow {
  private readonly gate: RateGate;
  private readonly limiter: AdaptiveConcurrency;
  private waiting = 0;
  private abandoned = 0;

  constructor(
    private readonly endpoint: EndpointConfig,
    workers = 1,
  ) {
    this.gate = new RateGate(endpoint);
    // A declared RPM already holds the rate (the server dispatches no faster): start wide open.
    const max = endpoint.maxConcurrency ?? MAX_CONCURRENCY;
    const initial = endpoint.maxConcurrency ?? (endpoint.rpm ? MAX_CONCURRENCY : INITIAL_CONCURRENCY);
    this.limiter = new AdaptiveConcurrency({ initial, max, lagMs: () => eventLoopLagMs() });
    this.setWorkers(workers);
  }

  /** Declared limits are the endpoint's as a whole: each of `workers` workers takes its share. */
  setWorkers(workers: number): void {
    this.gate.setShare(1 / workers);
    if (this.endpoint.maxConcurrency) this.limiter.setMax(Math.ceil(this.endpoint.maxConcurrency / workers));
  }

  /** Tokens a call is expected to use, for the tokens-per-minute gate. */
  estimate(promptChars: number, maxTokens?: number): number {
    return this.gate.estimate(promptChars, maxTokens);
  }

  /**
   * Waits until a call of `tokens` may be sent (abortably), then returns what to hand back to
   * `settle` and how long it waited (ms) at the rate gate, then at the concurrency limit. Throws,
   * without sending, when `deadline` (epoch ms) leaves less time than the endpoint's calls take.
   */
  async admit(
    tokens: number,
    signal?: AbortSignal,
    deadline?: number,
  ): Promise<{ ticket: Ticket; permit: Permit; rateWaitMs: number; limitWaitMs: number }> {
    const asked = performance.now();
    this.waiting++;
    let ticket: Ticket | undefined;
    try {
      ticket = await this.gate.admit(tokens, signal);
      const admitted = performance.now();
      const permit = await this.limiter.acquire(signal);
      const left = deadline === undefined ? Infinity : deadline - Date.now();
      const needed = this.limiter.baselineMs ?? 0;
      if (left <= 0 || left < needed) {
        this.limiter.release(permit, 'other');
        throw ApplicationFailure.nonRetryable(
          `${this.endpoint.name}: ${Math.max(0, Math.round(left))} ms left of the call's retry budget (llmRetryBudgetSeconds), less than the ${Math.round(needed)} ms a call takes: not sent`,
          'RetryBudgetExhausted',
        );
      }
      const now = performance.now();
      return {
        ticket,
        permit,
        rateWaitMs: Math.round(admitted - asked),
        limitWaitMs: Math.round(now - admitted),
      };
    } catch (err) {
      if (ticket) this.gate.settle(ticket, 0);
      throw err;
    } finally {
      this.waiting--;
    }
  }

  /** After a sent request: `ms` from sent to its end. */
  settle(ticket: Ticket, permit: Permit, estimated: number, ms: number, sent: Sent): void {
    if (sent.abandoned) this.abandoned++;
    if (sent.ok) {
      this.limiter.release(permit, 'ok', ms);
      const { promptTokens, completionTokens } = sent.ok;
      this.gate.settle(ticket, promptTokens + completionTokens, completionTokens);
      return;
    }
    this.gate.settle(ticket, sent.rejected ? 0 : estimated);
    this.limiter.release(permit, sent.rateLimited ? 'rateLimited' : sent.timedOut ? 'timedOut' : 'other');
    if (sent.rateLimited) this.gate.coolDown(sent.rateLimited.retryAfterMs);
  }

  state(): EndpointState {
    return {
      inFlight: this.limiter.active,
      waiting: this.waiting,
      limit: this.limiter.limit,
      abandoned: this.abandoned,
      latencyMs: Math.round(this.limiter.baselineMs ?? 0),
      ...(this.endpoint.tpm && { tpm: this.endpoint.tpm }),
      tokensPerCall: Math.round(this.gate.meanTokens || this.gate.estimate(0)),
    };
  }
}

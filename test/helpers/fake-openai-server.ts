// A FAKE OpenAI-compatible server, for the tests and the benchmarks: it runs no model.
// Answers echo the question; the simulated user (recognised by the prompted-user instruction)
// replies with a numbered follow-up wrapped in a role prefix and quotes, as real models often do,
// so the cleaning is exercised. Raw completions, embeddings and the context judge are faked too.
//
// Chat completions can be made to misbehave:
//   failNext / slowNext / replyNext: queue a failure (or a hang), a delay or a scripted reply;
//   failNextEmbedding:               queue a failure (or a hang) of an embeddings request;
//   knownModels:                     any other model is answered 404, as OpenAI answers a model it does not have;
//   burst(fault, ms):                for a while, answer every request 429 or 500, or hang;
//   latencyMedianMs:                 lognormal latency, median × exp(latencySigma × N(0,1)),
//                                    clamped to [latencyMinMs, latencyMaxMs]; sigma 0 makes it fixed
//   latencyMs, jitterMs:             fixed latency added to it, plus uniform jitter
//   tokensPerSec:                    adds completionTokens / tokensPerSec seconds
//   answerTokens:                    answers padded to that many tokens (words), as long as a reasoning model's
//   rpm, tpm:                        over the sliding-minute limit, 429 with Retry-After (-ms)
//   errorRate:                       share of requests answered 500
//   slots, abortOnClientLeave:       a bounded server, as vLLM, TGI or llama.cpp at their batch
//                                    limit: `slots` chat requests served at once (each for its
//                                    latency), the rest queued first come first served; never a 429
// `stats` counts the outcomes, how long each request was held (so a benchmark can subtract it)
// and how many are held at once (now, peak, and sampled each second); `stats.bounded` what a
// bounded server did with its slots (see BoundedStats).
// `/v1/files` and `/v1/batches` are served too (`batch`: ./fake-batch-api.ts), each line answered
// as a chat or raw completion request is, without the faults above.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFakeBatchApi, type FakeBatchApi } from './fake-batch-api';

export interface FakeOpenAiOptions {
  latencyMedianMs?: number;
  latencySigma?: number;
  latencyMinMs?: number;
  latencyMaxMs?: number;
  latencyMs?: number;
  jitterMs?: number;
  tokensPerSec?: number;
  /** completion_tokens of every chat answer, as if it were that long (default: its text's). */
  completionTokens?: number;
  /** Answers (not the simulated user's questions) padded with filler to this many tokens (words of 3 letters: 4 characters a token). */
  answerTokens?: number;
  rpm?: number;
  tpm?: number;
  errorRate?: number;
  /** Keep every request in `requests` (default true; a long benchmark turns it off to bound memory). */
  recordRequests?: boolean;
  /** Requests one batch may hold (default OpenAI's 50,000). */
  batchMaxRequests?: number;
  /** The models it serves; absent: any. A request for another is answered 404 (model_not_found). */
  knownModels?: string[];
  /** A bounded server: this many chat requests served at once, the rest queued in order. */
  slots?: number;
  /** With `slots`: a request whose client leaves stops at once (as vLLM aborts it), or is served to its end anyway (false). Default true. */
  abortOnClientLeave?: boolean;
}

export interface QueuedFailure {
  /** 0 with `hang`: the request is never answered. */
  status: number;
  hang?: boolean;
  headers?: Record<string, string>;
  message?: string;
}

export type FaultBurst = { kind: 'status'; status: 429 | 500; retryAfterSeconds?: number } | { kind: 'hang' };

export interface FakeOpenAiStats {
  requests: number;
  ok: number;
  rateLimited: number;
  errors: number;
  hung: number;
  /** How long each answered request was held (ms), and those answered 200 alone. */
  heldMs: number[];
  okHeldMs: number[];
  /** Date.now() of each answered LLM call and its tokens. */
  okAt: number[];
  okTokens: number[];
  /** Requests held right now (hung ones until their connection closes), the most at once, and a sample each second. */
  inFlight: number;
  peakInFlight: number;
  inFlightSeries: { at: number; n: number }[];
  /** With `slots`: what the bounded server did. */
  bounded?: BoundedStats;
}

/** What a bounded server did with its slots and its queue. */
export interface BoundedStats {
  slots: number;
  /** Generations served to their end and delivered. */
  served: number;
  /** Generations started, whose client left before the end: work done for nothing. */
  abandoned: number;
  /** Requests whose client left while they were queued, never started. */
  dropped: number;
  /** Requests queued now, the most at once, and a sample each second. */
  queued: number;
  queuePeak: number;
  queueSeries: { at: number; n: number }[];
  /** Slot time (ms) of generations delivered, and of those abandoned. */
  busyMs: number;
  wastedMs: number;
  /** Date.now() of the first request and of the last delivered generation: capacity used = busyMs / (slots × that span). */
  firstAt?: number;
  lastServedAt?: number;
}

export interface FakeOpenAiServer {
  url: string;
  stats: FakeOpenAiStats;
  requests: { path: string; headers: http.IncomingHttpHeaders; body: any }[];
  /** Hung requests the client gave up on (closed the connection), with when. */
  abandoned: { at: number }[];
  /** The Files and Batches API: its faults and what was submitted. */
  batch: FakeBatchApi;
  /** The next `times` chat requests get this failure instead of an answer. */
  failNext(failure: QueuedFailure, times?: number): void;
  /** The next `times` embeddings requests get this failure instead of vectors. */
  failNextEmbedding(failure: QueuedFailure, times?: number): void;
  /** The next `times` chat requests are answered as usual, after `ms`. */
  slowNext(ms: number, times?: number): void;
  /** The next `times` simulated-user replies (prompted asks) are this text. */
  replyNext(content: string, times?: number): void;
  /** Chat requests after the next `n` wait unanswered until `release()`; `waiting()` counts those that did. */
  holdAfter(n: number): { waiting(): number; release(): void };
  /** Drops the failures and delays still queued. */
  clearFailures(): void;
  /** Every chat request for `ms` gets the fault. */
  burst(fault: FaultBurst, ms: number): void;
  /**
   * From now on a bounded server (as the `slots` option; each request served for `serviceMs` if
   * given, else its latency), or an open one again (`undefined`); `stats.bounded` counts anew.
   */
  bound(slots: number | undefined, options?: { abortOnClientLeave?: boolean; serviceMs?: number }): void;
  close(): Promise<void>;
}

export const FAKE_MODEL = 'fake-model';

/** Follow-ups by turn, different enough from each other to pass the near-duplicate filter. */
export const FOLLOW_UPS = [
  'and what about the second part?',
  'why does that matter so much?',
  'can you show a small example in Python?',
  'how would this change for a million users?',
  'what are the main downsides here?',
  'is there a simpler way to do it?',
  'how does it compare with the usual alternatives?',
  'where could I read more about this topic?',
];

/** What the fake judge takes for a question that refers back. */
export const FAKE_JUDGE_REFERS_BACK = /\b(that|it|this|second)\b/i;

/** A token a word, so that a test can count a dialogue's tokens by hand. */
const tokensIn = (...texts: string[]) => texts.reduce((n, t) => n + t.split(/\s+/).filter(Boolean).length, 0);

/** A fake embedding: words hashed into 64 dimensions, so texts sharing words are similar. */
export function fakeEmbedding(text: string): number[] {
  const v = new Array<number>(64).fill(0);
  for (const w of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    let h = 2166136261;
    for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 16777619);
    v[(h >>> 0) % 64] += 1;
  }
  return v;
}

const FILLER = ['the', 'and', 'for', 'you', 'all', 'new', 'one', 'way'];

/** `text` padded with filler words to `tokens` tokens (a token a word). */
function padded(text: string, tokens: number | undefined): string {
  const missing = (tokens ?? 0) - tokensIn(text);
  if (missing <= 0) return text;
  return `${text} ${Array.from({ length: missing }, (_, i) => FILLER[i % FILLER.length]).join(' ')}`;
}

/** A standard normal draw (Box–Muller). */
const gaussian = () => Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());

/** One request's latency (ms) under `opts`, tokens time aside. */
export function drawLatencyMs(opts: FakeOpenAiOptions): number {
  const median = opts.latencyMedianMs ?? 0;
  const lognormal =
    median > 0
      ? Math.min(
          opts.latencyMaxMs ?? Infinity,
          Math.max(opts.latencyMinMs ?? 0, median * Math.exp((opts.latencySigma ?? 0.5) * gaussian())),
        )
      : 0;
  return lognormal + (opts.latencyMs ?? 0) + Math.random() * (opts.jitterMs ?? 0);
}

/** Sliding-minute request and token limits; each check says how long to wait, or admits the call. */
function minuteLimits(opts: FakeOpenAiOptions) {
  const calls: number[] = [];
  const tokens: { at: number; n: number }[] = [];
  let windowTokens = 0;
  return (n: number): { header: string; value: string; message: string } | undefined => {
    const now = Date.now();
    if (opts.rpm) {
      while (calls.length && calls[0] <= now - 60_000) calls.shift();
      if (calls.length >= opts.rpm)
        return {
          header: 'retry-after',
          value: String(Math.max(1, Math.ceil((calls[0] + 60_000 - now) / 1000))),
          message: 'fake rate limit',
        };
    }
    if (opts.tpm) {
      while (tokens.length && tokens[0].at <= now - 60_000) windowTokens -= tokens.shift()!.n;
      if (windowTokens + n > opts.tpm)
        return {
          header: 'retry-after-ms',
          value: String(Math.max(50, tokens.length ? tokens[0].at + 60_000 - now : 1000)),
          message: 'fake token rate limit',
        };
      tokens.push({ at: now, n });
      windowTokens += n;
    }
    if (opts.rpm) calls.push(now);
    return undefined;
  };
}

let replies = 0;

export async function startFakeOpenAiServer(opts: FakeOpenAiOptions = {}): Promise<FakeOpenAiServer> {
  const stats: FakeOpenAiStats = {
    requests: 0,
    ok: 0,
    rateLimited: 0,
    errors: 0,
    hung: 0,
    heldMs: [],
    okHeldMs: [],
    okAt: [],
    okTokens: [],
    inFlight: 0,
    peakInFlight: 0,
    inFlightSeries: [],
  };
  const requests: FakeOpenAiServer['requests'] = [];
  const abandoned: FakeOpenAiServer['abandoned'] = [];
  const failures: QueuedFailure[] = [];
  const embeddingFailures: QueuedFailure[] = [];
  const scripted: string[] = [];
  const delays: number[] = [];
  const overLimit = minuteLimits(opts);
  let burst: { fault: FaultBurst; until: number } | undefined;
  let hold: { left: number; waiting: number; released: Promise<void> } | undefined;
  let questions = 0;
  let bounded = opts.slots ? boundedServer(opts.slots, opts.abortOnClientLeave ?? true) : undefined;
  stats.bounded = bounded?.stats;
  const sampler = setInterval(() => {
    stats.inFlightSeries.push({ at: Date.now(), n: stats.inFlight });
    bounded?.sample();
  }, 1000).unref();

  // http ignores a handler's promise; dropping it is explicit here (`void`), not by accident.
  const serve = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    // Held from the request's arrival until answered or its connection gone ('close' fires once either way).
    stats.inFlight++;
    stats.peakInFlight = Math.max(stats.peakInFlight, stats.inFlight);
    res.once('close', () => stats.inFlight--);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const t0 = performance.now();
    stats.requests++;
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
    if (opts.recordRequests ?? true) requests.push({ path: req.url ?? '', headers: req.headers, body });
    const send = (status: number, value: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(value));
      stats.heldMs.push(performance.now() - t0);
      if (status === 200) stats.okHeldMs.push(performance.now() - t0);
    };
    const refuse = (status: number, message: string, headers: Record<string, string> = {}) => {
      if (status === 429) stats.rateLimited++;
      else stats.errors++;
      send(status, { error: { message, type: 'fake' } }, headers);
    };
    const hang = () => {
      stats.hung++;
      res.on('close', () => abandoned.push({ at: Date.now() })); // held open until the client gives up
    };
    const answered = (tokens: number) => {
      stats.ok++;
      stats.okAt.push(Date.now());
      stats.okTokens.push(tokens);
    };

    if (req.method === 'GET' && req.url === '/v1/models')
      return send(200, { object: 'list', data: [{ id: FAKE_MODEL, object: 'model' }] });
    if (opts.knownModels && body?.model !== undefined && !opts.knownModels.includes(body.model)) {
      stats.errors++;
      return send(404, {
        error: {
          message: `The model \`${body.model}\` does not exist or you do not have access to it.`,
          type: 'invalid_request_error',
          code: 'model_not_found',
        },
      });
    }
    if (req.method === 'POST' && req.url === '/v1/completions') {
      const r = textCompletion(body);
      answered(r.usage.prompt_tokens + r.usage.completion_tokens);
      return send(200, r);
    }
    if (req.method === 'POST' && req.url === '/v1/embeddings') {
      const failure = embeddingFailures.shift();
      if (failure?.hang) return hang();
      if (failure)
        return refuse(failure.status, failure.message ?? `fake failure ${failure.status}`, failure.headers);
      const inputs: string[] = [body.input].flat();
      return send(200, {
        object: 'list',
        model: body.model,
        data: inputs.map((t, index) => ({ object: 'embedding', index, embedding: fakeEmbedding(t) })),
        usage: { prompt_tokens: tokensIn(...inputs), total_tokens: 0 },
      });
    }
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions')
      return send(404, { error: { message: 'no such route' } });

    const failure = failures.shift();
    if (failure?.hang) return hang();
    if (failure)
      return refuse(failure.status, failure.message ?? `fake failure ${failure.status}`, failure.headers);
    if (burst && Date.now() < burst.until) {
      const f = burst.fault;
      if (f.kind === 'hang') return hang(); // never answered: the client's timeout (the activity's) has to end it
      return refuse(
        f.status,
        `fake burst of ${f.status}`,
        f.retryAfterSeconds ? { 'retry-after': String(f.retryAfterSeconds) } : {},
      );
    }
    const reply = chatCompletion(body);
    const { prompt_tokens: promptTokens, completion_tokens: completionTokens } = reply.usage;
    const limited = overLimit(promptTokens + completionTokens);
    if (limited) return refuse(429, limited.message, { [limited.header]: limited.value });
    if (opts.errorRate && Math.random() < opts.errorRate) return refuse(500, 'fake server error');
    if (hold && hold.left-- <= 0) {
      const held = hold;
      held.waiting++;
      await held.released;
    }
    const delay =
      (delays.shift() ?? 0) +
      drawLatencyMs(opts) +
      (opts.tokensPerSec ? (completionTokens / opts.tokensPerSec) * 1000 : 0);
    if (bounded) {
      if (!(await bounded.serve(res, delay))) return; // the client left: nobody to answer
    } else if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    answered(promptTokens + completionTokens);
    send(200, reply);
  };

  /** A chat completion's reply: the judge's verdict, the simulated user's question, or an echo. */
  function chatCompletion(body: any) {
    const messages: { role: string; content: string }[] = body.messages;
    const last = messages[messages.length - 1].content;
    const asUser = last.includes('suppose you are the user');
    // The context judge: "no" (depends on context) when the latest message refers back.
    const judged = /The user's latest message: (.*)\n/.exec(last);
    const content = judged
      ? FAKE_JUDGE_REFERS_BACK.test(judged[1])
        ? 'No.'
        : 'Yes'
      : asUser && scripted.length
        ? scripted.shift()!
        : asUser
          ? `User: "Fake follow-up question ${++questions}: ${FOLLOW_UPS[(last.match(/^User:/gm)?.length ?? 0) % FOLLOW_UPS.length]}"`
          : padded(`Fake answer to: ${last}`, opts.answerTokens);
    const promptTokens = tokensIn(...messages.map((m) => m.content));
    return {
      id: `fake-${++replies}`,
      object: 'chat.completion',
      created: 0,
      model: body.model,
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: opts.completionTokens ?? tokensIn(content),
        total_tokens: 0,
      },
    };
  }

  /**
   * A raw completion, as a Parrot-Ask model would answer a transcript ending in "Human:": it runs
   * on into the assistant's turn, and the server cuts at the first stop sequence.
   */
  function textCompletion(body: any) {
    let text = ` Fake raw question ${++questions}: and the second one?\nAssistant: a leaked answer`;
    const stops: string[] = [body.stop ?? []].flat();
    const cut = Math.min(...stops.map((st) => text.indexOf(st)).filter((i) => i >= 0), text.length);
    text = text.slice(0, cut);
    return {
      id: `fake-${++replies}`,
      object: 'text_completion',
      created: 0,
      model: body.model,
      choices: [{ index: 0, text, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: tokensIn(body.prompt), completion_tokens: tokensIn(text), total_tokens: 0 },
    };
  }

  const batch = createFakeBatchApi(
    async (url, body) =>
      url === '/v1/completions'
        ? { status: 200, body: textCompletion(body) }
        : { status: 200, body: chatCompletion(body) },
    { maxRequests: opts.batchMaxRequests },
  );
  const server = http.createServer((req, res) => {
    void batch.api.handle(req, res).then((handled) => {
      if (!handled) return serve(req, res);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    stats,
    requests,
    abandoned,
    batch,
    failNext(failure, times = 1) {
      for (let i = 0; i < times; i++) failures.push(failure);
    },
    failNextEmbedding(failure, times = 1) {
      for (let i = 0; i < times; i++) embeddingFailures.push(failure);
    },
    slowNext(ms, times = 1) {
      for (let i = 0; i < times; i++) delays.push(ms);
    },
    replyNext(content, times = 1) {
      for (let i = 0; i < times; i++) scripted.push(content);
    },
    holdAfter(n) {
      let release!: () => void;
      const held = { left: n, waiting: 0, released: new Promise<void>((r) => (release = r)) };
      hold = held;
      return {
        waiting: () => held.waiting,
        release() {
          if (hold === held) hold = undefined;
          release();
        },
      };
    },
    clearFailures() {
      failures.length = 0;
      embeddingFailures.length = 0;
      delays.length = 0;
    },
    burst(fault, ms) {
      burst = { fault, until: Date.now() + ms };
    },
    bound(slots, { abortOnClientLeave = true, serviceMs } = {}) {
      bounded = slots ? boundedServer(slots, abortOnClientLeave, serviceMs) : undefined;
      if (bounded) stats.bounded = bounded.stats;
    },
    async close() {
      clearInterval(sampler);
      batch.api.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/**
 * A server that serves `slots` requests at once and queues the rest in order. `serve` holds a
 * request's place in line, then a slot for `serviceMs` (or the request's latency); it resolves true when the generation is done
 * and the client still waits for it, false when the client left (queued: dropped; started: the
 * slot is freed at once when `abortOnLeave`, else held to the generation's end).
 */
function boundedServer(slots: number, abortOnLeave: boolean, serviceMs?: number) {
  const stats: BoundedStats = {
    slots,
    served: 0,
    abandoned: 0,
    dropped: 0,
    queued: 0,
    queuePeak: 0,
    queueSeries: [],
    busyMs: 0,
    wastedMs: 0,
  };
  let busy = 0;
  const line: (() => void)[] = [];
  const next = () => {
    const start = line.shift();
    if (start) start();
    else busy--;
  };
  const waitForSlot = (gone: Promise<void>) =>
    new Promise<boolean>((resolve) => {
      if (busy < slots) {
        busy++;
        return resolve(true);
      }
      const start = () => {
        stats.queued--;
        resolve(true);
      };
      line.push(start);
      stats.queuePeak = Math.max(stats.queuePeak, ++stats.queued);
      void gone.then(() => {
        const i = line.indexOf(start);
        if (i < 0) return; // started already
        line.splice(i, 1);
        stats.queued--;
        stats.dropped++;
        resolve(false);
      });
    });
  return {
    stats,
    sample: () => stats.queueSeries.push({ at: Date.now(), n: stats.queued }),
    async serve(res: http.ServerResponse, latencyMs: number): Promise<boolean> {
      const ms = serviceMs ?? latencyMs;
      stats.firstAt ??= Date.now();
      const gone = new Promise<void>((r) => res.once('close', () => r()));
      if (!(await waitForSlot(gone))) return false;
      const started = performance.now();
      let left = false;
      void gone.then(() => (left = true));
      const done = new Promise((r) => setTimeout(r, ms));
      await (abortOnLeave ? Promise.race([done, gone]) : done);
      const held = performance.now() - started;
      next();
      if (left) {
        stats.abandoned++;
        stats.wastedMs += held;
        return false;
      }
      stats.served++;
      stats.busyMs += held;
      stats.lastServedAt = Date.now();
      return true;
    },
  };
}

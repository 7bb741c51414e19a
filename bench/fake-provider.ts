// A FAKE OpenAI-compatible provider for benchmarks: no model, configurable behaviour.
//   latencyMedianMs: lognormal latency per request, median × exp(latencySigma × N(0,1)) (0: none),
//                    clamped to [latencyMinMs, latencyMaxMs]; sigma 0 makes it fixed
//   latencyMs:       fixed latency added to it, plus `jitterMs` uniform jitter
//   tokensPerSec:    adds completion_tokens / tokensPerSec seconds (0: instant)
//   rpm:             requests per minute; over it, 429 with Retry-After (sliding 60 s window)
//   tpm:             tokens (prompt + completion) per minute, the same way
//   errorRate:       share of requests answered 500
//   burst(...):      for a while, answer every request 429 or 500, or hold it unanswered (a hang)
// It records how long it held each request, so the benchmark can subtract it, and how many it
// holds at once (now, peak, and sampled each second).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const FOLLOW_UPS = [
  'And what about the second part?', 'Why does that matter so much?', 'Can you show a small example in Python?',
  'How would this change for a million users?', 'What are the main downsides here?', 'Is there a simpler way to do it?',
  'How does it compare with the usual alternatives?', 'Where could I read more about this topic?',
];

export interface FakeProviderOptions {
  latencyMedianMs?: number;
  latencySigma?: number;
  latencyMinMs?: number;
  latencyMaxMs?: number;
  latencyMs?: number;
  jitterMs?: number;
  tokensPerSec?: number;
  completionTokens?: number;
  rpm?: number;
  tpm?: number;
  errorRate?: number;
}

export type FaultBurst = { kind: 'status'; status: 429 | 500; retryAfterSeconds?: number } | { kind: 'hang' };

export interface FakeProviderStats {
  requests: number; ok: number; rateLimited: number; errors: number; hung: number;
  /** How long each answered request was held (ms), and those answered 200 alone. */
  heldMs: number[]; okHeldMs: number[];
  /** Date.now() of each 200 and its tokens. */
  okAt: number[]; okTokens: number[];
  /** Requests held right now (hung ones until their connection closes), the most at once, and a sample each second. */
  inFlight: number; peakInFlight: number; inFlightSeries: { at: number; n: number }[];
}

export interface FakeProvider {
  url: string;
  stats: FakeProviderStats;
  /** Every request for `ms` gets the fault. */
  burst(fault: FaultBurst, ms: number): void;
  close(): Promise<void>;
}

/** A standard normal draw (Box–Muller). */
const gaussian = () => Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());

/** One request's latency (ms) under `opts`, tokens time aside. */
export function drawLatencyMs(opts: FakeProviderOptions): number {
  const median = opts.latencyMedianMs ?? 0;
  const lognormal = median > 0
    ? Math.min(opts.latencyMaxMs ?? Infinity, Math.max(opts.latencyMinMs ?? 0, median * Math.exp((opts.latencySigma ?? 0.5) * gaussian())))
    : 0;
  return lognormal + (opts.latencyMs ?? 0) + Math.random() * (opts.jitterMs ?? 0);
}

export async function startFakeProvider(opts: FakeProviderOptions = {}): Promise<FakeProvider> {
  const stats: FakeProviderStats = {
    requests: 0, ok: 0, rateLimited: 0, errors: 0, hung: 0, heldMs: [], okHeldMs: [], okAt: [], okTokens: [], inFlight: 0, peakInFlight: 0, inFlightSeries: [],
  };
  const completionTokens = opts.completionTokens ?? 40;
  const window: number[] = [];
  const tokenWindow: { at: number; tokens: number }[] = [];
  let windowTokens = 0;
  let question = 0;
  let fault: { fault: FaultBurst; until: number } | undefined;
  const sampler = setInterval(() => stats.inFlightSeries.push({ at: Date.now(), n: stats.inFlight }), 1000).unref();

  const server = http.createServer((req, res) => {
    // Held from the request's arrival until answered or its connection gone ('close' fires once either way).
    stats.inFlight++;
    stats.peakInFlight = Math.max(stats.peakInFlight, stats.inFlight);
    res.once('close', () => stats.inFlight--);
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const t0 = performance.now();
      stats.requests++;
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
        stats.heldMs.push(performance.now() - t0);
        if (status === 200) stats.okHeldMs.push(performance.now() - t0);
      };
      if (fault && Date.now() < fault.until) {
        const f = fault.fault;
        if (f.kind === 'hang') {
          stats.hung++;
          return; // never answered: the client's timeout (the activity's) has to end it
        }
        if (f.status === 429) stats.rateLimited++;
        else stats.errors++;
        return send(f.status, { error: { message: `fake burst of ${f.status}`, type: 'fake' } }, f.retryAfterSeconds ? { 'retry-after': String(f.retryAfterSeconds) } : {});
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const promptTokens = Math.ceil(body.messages.reduce((n: number, m: { content: string }) => n + m.content.length, 0) / 4);
      if (opts.rpm) {
        const now = Date.now();
        while (window.length && window[0] <= now - 60_000) window.shift();
        if (window.length >= opts.rpm) {
          stats.rateLimited++;
          return send(429, { error: { message: 'fake rate limit', type: 'rate_limit' } }, { 'retry-after': String(Math.max(1, Math.ceil((window[0] + 60_000 - now) / 1000))) });
        }
        window.push(now);
      }
      if (opts.tpm) {
        const now = Date.now();
        while (tokenWindow.length && tokenWindow[0].at <= now - 60_000) windowTokens -= tokenWindow.shift()!.tokens;
        const tokens = promptTokens + completionTokens;
        if (windowTokens + tokens > opts.tpm) {
          stats.rateLimited++;
          const wait = tokenWindow.length ? tokenWindow[0].at + 60_000 - now : 1000;
          return send(429, { error: { message: 'fake token rate limit', type: 'tokens' } }, { 'retry-after-ms': String(Math.max(50, wait)) });
        }
        tokenWindow.push({ at: now, tokens });
        windowTokens += tokens;
      }
      if (opts.errorRate && Math.random() < opts.errorRate) {
        stats.errors++;
        return send(500, { error: { message: 'fake server error', type: 'server_error' } });
      }
      const last: string = body.messages[body.messages.length - 1].content;
      // Follow-ups differ by turn, so that the question filters (near-duplicates) pass them.
      const content = last.includes('suppose you are the user')
        ? `${FOLLOW_UPS[(last.match(/^User:/gm)?.length ?? 0) % FOLLOW_UPS.length]} (${++question})`
        : `Fake answer (${last.length} chars in).`;
      const delay = drawLatencyMs(opts) + (opts.tokensPerSec ? (completionTokens / opts.tokensPerSec) * 1000 : 0);
      const reply = () => {
        stats.ok++;
        stats.okAt.push(Date.now());
        stats.okTokens.push(promptTokens + completionTokens);
        send(200, {
          id: `fake-${stats.requests}`, object: 'chat.completion', created: 0, model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
          usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: 0 },
        });
      };
      if (delay > 0) setTimeout(reply, delay);
      else reply();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    stats,
    burst(f, ms) {
      fault = { fault: f, until: Date.now() + ms };
    },
    async close() {
      clearInterval(sampler);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

// A FAKE OpenAI-compatible provider for benchmarks: no model, configurable behaviour.
//   latencyMs:    fixed base latency per request, plus `jitterMs` uniform jitter
//   tokensPerSec: adds completion_tokens / tokensPerSec seconds (0: instant)
//   rpm:          requests per minute; over it, 429 with Retry-After (sliding 60 s window)
//   errorRate:    share of requests answered 500
// It records how long it held each request, so the benchmark can subtract it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeProviderOptions {
  latencyMs?: number;
  jitterMs?: number;
  tokensPerSec?: number;
  completionTokens?: number;
  rpm?: number;
  errorRate?: number;
}

export interface FakeProvider {
  url: string;
  stats: { requests: number; ok: number; rateLimited: number; errors: number; heldMs: number[] };
  close(): Promise<void>;
}

export async function startFakeProvider(opts: FakeProviderOptions = {}): Promise<FakeProvider> {
  const stats: FakeProvider['stats'] = { requests: 0, ok: 0, rateLimited: 0, errors: 0, heldMs: [] };
  const completionTokens = opts.completionTokens ?? 40;
  const window: number[] = [];
  let question = 0;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const t0 = performance.now();
      stats.requests++;
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
        stats.heldMs.push(performance.now() - t0);
      };
      if (opts.rpm) {
        const now = Date.now();
        while (window.length && window[0] <= now - 60_000) window.shift();
        if (window.length >= opts.rpm) {
          stats.rateLimited++;
          return send(429, { error: { message: 'fake rate limit', type: 'rate_limit' } }, { 'retry-after': String(Math.max(1, Math.ceil((window[0] + 60_000 - now) / 1000))) });
        }
        window.push(now);
      }
      if (opts.errorRate && Math.random() < opts.errorRate) {
        stats.errors++;
        return send(500, { error: { message: 'fake server error', type: 'server_error' } });
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const last: string = body.messages[body.messages.length - 1].content;
      const content = last.includes('suppose you are the user') ? `And what about part ${++question}?` : `Fake answer (${last.length} chars in).`;
      const delay = (opts.latencyMs ?? 0) + Math.random() * (opts.jitterMs ?? 0) + (opts.tokensPerSec ? (completionTokens / opts.tokensPerSec) * 1000 : 0);
      const reply = () => {
        stats.ok++;
        send(200, {
          id: `fake-${stats.requests}`, object: 'chat.completion', created: 0, model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
          usage: { prompt_tokens: Math.ceil(last.length / 4), completion_tokens: completionTokens, total_tokens: 0 },
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
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

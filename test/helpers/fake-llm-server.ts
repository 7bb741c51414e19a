// A FAKE OpenAI-compatible LLM server for deterministic tests: it runs no model. Answers echo
// the question; the simulated user (recognised by the prompted-user instruction) replies with a
// numbered follow-up wrapped in a role prefix and quotes, as real models often do, so the
// cleaning is exercised. Failures can be queued per route to test retries.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface QueuedFailure {
  /** 0 with `hang`: the request is never answered. */
  status: number;
  hang?: boolean;
  headers?: Record<string, string>;
  message?: string;
}

export interface FakeLlmServer {
  url: string;
  requests: { path: string; headers: http.IncomingHttpHeaders; body: any }[];
  /** Hung requests the client gave up on (closed the connection), with when. */
  abandoned: { at: number }[];
  /** The next `times` chat requests get this failure instead of an answer. */
  failNext(failure: QueuedFailure, times?: number): void;
  /** The next `times` chat requests are answered as usual, after `ms`. */
  slowNext(ms: number, times?: number): void;
  /** The next `times` simulated-user replies (prompted asks) are this text. */
  replyNext(content: string, times?: number): void;
  /** Drops the failures and delays still queued. */
  clearFailures(): void;
  close(): Promise<void>;
}

export const FAKE_MODEL = 'fake-model';

/** Follow-ups by turn, different enough from each other to pass the near-duplicate filter. */
export const FOLLOW_UPS = [
  'and what about the second part?', 'why does that matter so much?', 'can you show a small example in Python?',
  'how would this change for a million users?', 'what are the main downsides here?', 'is there a simpler way to do it?',
  'how does it compare with the usual alternatives?', 'where could I read more about this topic?',
];

const wordCount = (s: string) => s.split(/\s+/).filter(Boolean).length;

let replies = 0;
const chatReply = (model: string, content: string, messages: { content: string }[]) => ({
  id: `fake-${++replies}`, object: 'chat.completion', created: 0, model,
  choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
  usage: { prompt_tokens: messages.reduce((n, m) => n + wordCount(m.content), 0), completion_tokens: wordCount(content), total_tokens: 0 },
});

/** What the fake judge takes for a question that refers back. */
export const FAKE_JUDGE_REFERS_BACK = /\b(that|it|this|second)\b/i;

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

export async function startFakeLlmServer(): Promise<FakeLlmServer> {
  const requests: FakeLlmServer['requests'] = [];
  const abandoned: FakeLlmServer['abandoned'] = [];
  const failures: QueuedFailure[] = [];
  const scripted: string[] = [];
  const delays: number[] = [];
  let questions = 0;

  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
    requests.push({ path: req.url ?? '', headers: req.headers, body });
    const send = (status: number, value: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(value));
    };
    if (req.method === 'GET' && req.url === '/v1/models') return send(200, { object: 'list', data: [{ id: FAKE_MODEL, object: 'model' }] });
    if (req.method === 'POST' && req.url === '/v1/completions') {
      // Raw completion, as a Parrot-Ask model would answer a transcript ending in "Human:": it
      // runs on into the assistant's turn, and the server cuts at the first stop sequence.
      let text = ` Fake raw question ${++questions}: and the second one?\nAssistant: a leaked answer`;
      const stops: string[] = [body.stop ?? []].flat();
      const cut = Math.min(...stops.map((st) => text.indexOf(st)).filter((i) => i >= 0), text.length);
      text = text.slice(0, cut);
      return send(200, {
        id: `fake-${requests.length}`, object: 'text_completion', created: 0, model: body.model,
        choices: [{ index: 0, text, finish_reason: 'stop', logprobs: null }],
        usage: { prompt_tokens: wordCount(body.prompt), completion_tokens: wordCount(text), total_tokens: 0 },
      });
    }
    if (req.method === 'POST' && req.url === '/v1/embeddings') {
      const inputs: string[] = [body.input].flat();
      return send(200, { object: 'list', model: body.model, data: inputs.map((t, index) => ({ object: 'embedding', index, embedding: fakeEmbedding(t) })), usage: { prompt_tokens: inputs.reduce((n, t) => n + wordCount(t), 0), total_tokens: 0 } });
    }
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return send(404, { error: { message: 'no such route' } });

    const failure = failures.shift();
    if (failure?.hang) return void res.on('close', () => abandoned.push({ at: Date.now() })); // held open until the client gives up
    if (failure) return send(failure.status, { error: { message: failure.message ?? `fake failure ${failure.status}`, type: 'fake' } }, failure.headers);

    const delay = delays.shift();
    if (delay) await new Promise((r) => setTimeout(r, delay));
    const messages: { role: string; content: string }[] = body.messages;
    const last = messages[messages.length - 1].content;
    const asUser = last.includes('suppose you are the user');
    // The context judge: "no" (depends on context) when the latest message refers back.
    const judged = /The user's latest message: (.*)\n/.exec(last);
    if (judged) return send(200, chatReply(body.model, FAKE_JUDGE_REFERS_BACK.test(judged[1]) ? 'No.' : 'Yes', messages));
    const content = asUser && scripted.length
      ? scripted.shift()!
      : asUser
      ? `User: "Fake follow-up question ${++questions}: ${FOLLOW_UPS[(last.match(/^User:/gm)?.length ?? 0) % FOLLOW_UPS.length]}"`
      : `Fake answer to: ${last}`;
    send(200, chatReply(body.model, content, messages));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    abandoned,
    failNext(failure, times = 1) {
      for (let i = 0; i < times; i++) failures.push(failure);
    },
    slowNext(ms, times = 1) {
      for (let i = 0; i < times; i++) delays.push(ms);
    },
    replyNext(content, times = 1) {
      for (let i = 0; i < times; i++) scripted.push(content);
    },
    clearFailures() {
      failures.length = 0;
      delays.length = 0;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

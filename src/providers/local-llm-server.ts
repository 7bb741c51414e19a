// The built-in `local` endpoint: a small OpenAI-compatible HTTP server over node-llama-cpp.
// It serves /v1/chat/completions, /v1/completions (raw prompts, for Ask models served as
// plain completion), /v1/embeddings (the model's own, for the topic metrics), /v1/models, and
// /v1/files + /v1/batches (./local-batch-api.ts, for batch mode). Requests share one llama context: each takes one of its
// sequences (llama.cpp batches the sequences together) and waits in a queue when all are busy.
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { localBatchApi } from './local-batch-api';
import type {
  Llama,
  LlamaContext,
  LlamaContextSequence,
  LlamaEmbeddingContext,
  LlamaModel,
} from 'node-llama-cpp';

export interface LocalLlmServerOptions {
  modelPath: string;
  /** The id clients pass as `model`. */
  modelId: string;
  /** Parallel sequences in the shared context (requests beyond this wait in a queue). */
  sequences?: number;
  /** Context tokens per sequence. */
  contextSize?: number;
  /** CPU threads; more threads than cores makes llama.cpp's spinning workers crawl. */
  threads?: number;
}

export interface LocalLlmServer {
  url: string;
  modelId: string;
  close(): Promise<void>;
}

interface ChatMessage {
  role: string;
  content: unknown;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Hands out context sequences one request at a time, first come first served. */
class SequencePool {
  private readonly free: LlamaContextSequence[] = [];
  private readonly waiting: ((s: LlamaContextSequence) => void)[] = [];
  constructor(context: LlamaContext, size: number) {
    for (let i = 0; i < size; i++) this.free.push(context.getSequence());
  }
  async use<T>(fn: (s: LlamaContextSequence) => Promise<T>): Promise<T> {
    const seq = this.free.pop() ?? (await new Promise<LlamaContextSequence>((r) => this.waiting.push(r)));
    try {
      return await fn(seq);
    } finally {
      await seq.clearHistory();
      const next = this.waiting.shift();
      if (next) next(seq);
      else this.free.push(seq);
    }
  }
}

export async function startLocalLlmServer(
  opts: LocalLlmServerOptions,
  listen: { host?: string; port?: number } = {},
): Promise<LocalLlmServer> {
  // node-llama-cpp is ESM-only; a dynamic import keeps this CommonJS project loading it.
  const { getLlama, LlamaChat, LlamaCompletion } = await import('node-llama-cpp');
  const llama: Llama = await getLlama({ build: 'never', gpu: false, progressLogs: false });
  const model: LlamaModel = await llama.loadModel({ modelPath: opts.modelPath });
  const sequences = opts.sequences ?? 4;
  const threads = opts.threads ?? Math.max(1, os.availableParallelism());
  const context = await model.createContext({ sequences, contextSize: opts.contextSize ?? 4096, threads });
  const pool = new SequencePool(context, sequences);
  const created = Math.floor(Date.now() / 1000);
  const countTokens = (text: string) => model.tokenize(text, true).length;

  const sampling = (body: Record<string, unknown>) => ({
    maxTokens: optionalNumber(body, 'max_tokens') ?? optionalNumber(body, 'max_completion_tokens') ?? 256,
    temperature: optionalNumber(body, 'temperature') ?? 0.7,
    topP: optionalNumber(body, 'top_p'),
    seed: optionalNumber(body, 'seed'),
  });

  const finishReason = (stop: string) => (stop === 'maxTokens' ? 'length' : 'stop');

  async function chatCompletion(body: Record<string, unknown>, signal: AbortSignal) {
    const messages = body.messages;
    if (!Array.isArray(messages) || messages.length === 0)
      throw new HttpError(400, 'messages: must be a non-empty array');
    const history = (messages as ChatMessage[]).map((m, i) => {
      const text = contentText(m.content, `messages[${i}].content`);
      if (m.role === 'system' || m.role === 'developer') return { type: 'system' as const, text };
      if (m.role === 'user') return { type: 'user' as const, text };
      if (m.role === 'assistant') return { type: 'model' as const, response: [text] };
      throw new HttpError(400, `messages[${i}].role: unsupported role '${String(m.role)}'`);
    });
    const stop = stopList(body.stop);
    return pool.use(async (contextSequence) => {
      const chat = new LlamaChat({ contextSequence, autoDisposeSequence: false });
      try {
        const promptText = chat.chatWrapper.generateContextState({
          chatHistory: [...history, { type: 'model', response: [] }],
        }).contextText;
        const promptTokens = promptText.tokenize(model.tokenizer).length;
        if (promptTokens >= context.contextSize) {
          throw new HttpError(
            400,
            `This model's maximum context length is ${context.contextSize} tokens; the messages have ${promptTokens}.`,
            'invalid_request_error',
            'context_length_exceeded',
          );
        }
        const r = await chat.generateResponse(history, {
          ...sampling(body),
          signal,
          customStopTriggers: stop,
        });
        return {
          id: `chatcmpl-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: opts.modelId,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: r.response },
              finish_reason: finishReason(r.metadata.stopReason),
            },
          ],
          usage: usage(promptTokens, countTokens(r.response)),
        };
      } finally {
        chat.dispose({ disposeSequence: false });
      }
    });
  }

  async function textCompletion(body: Record<string, unknown>, signal: AbortSignal) {
    if (typeof body.prompt !== 'string') throw new HttpError(400, 'prompt: must be a string');
    const prompt = body.prompt;
    const promptTokens = countTokens(prompt);
    if (promptTokens >= context.contextSize) {
      throw new HttpError(
        400,
        `This model's maximum context length is ${context.contextSize} tokens; the prompt has ${promptTokens}.`,
        'invalid_request_error',
        'context_length_exceeded',
      );
    }
    const stop = stopList(body.stop);
    return pool.use(async (contextSequence) => {
      const completion = new LlamaCompletion({ contextSequence, autoDisposeSequence: false });
      try {
        const r = await completion.generateCompletionWithMeta(prompt, {
          ...sampling(body),
          signal,
          customStopTriggers: stop,
        });
        return {
          id: `cmpl-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`,
          object: 'text_completion',
          created: Math.floor(Date.now() / 1000),
          model: opts.modelId,
          choices: [
            {
              index: 0,
              text: r.response,
              finish_reason: finishReason(r.metadata.stopReason),
              logprobs: null,
            },
          ],
          usage: usage(promptTokens, countTokens(r.response)),
        };
      } finally {
        completion.dispose({ disposeSequence: false });
      }
    });
  }

  // Embeddings get a context of their own, made on first use, one text at a time.
  let embeddingContext: Promise<LlamaEmbeddingContext> | undefined;
  let embeddingQueue: Promise<unknown> = Promise.resolve();
  async function embeddings(body: Record<string, unknown>) {
    const input = typeof body.input === 'string' ? [body.input] : body.input;
    if (!Array.isArray(input) || input.length === 0 || !input.every((t) => typeof t === 'string'))
      throw new HttpError(400, 'input: must be a string or a non-empty array of strings');
    // The openai client asks for base64 (little-endian float32) unless told otherwise.
    const format = body.encoding_format ?? 'float';
    if (format !== 'float' && format !== 'base64')
      throw new HttpError(400, 'encoding_format: must be "float" or "base64"');
    const encode = (v: readonly number[]) =>
      format === 'base64' ? Buffer.from(new Float32Array(v).buffer).toString('base64') : [...v];
    embeddingContext ??= model.createEmbeddingContext({ contextSize: 512, threads });
    const ctx = await embeddingContext;
    const run = embeddingQueue.then(async () => {
      const data: { object: 'embedding'; index: number; embedding: number[] | string }[] = [];
      let tokens = 0;
      for (const [index, text] of input.entries()) {
        const n = countTokens(text);
        if (n > 512)
          throw new HttpError(
            400,
            `input[${index}]: ${n} tokens; the embedding context holds 512`,
            'invalid_request_error',
            'context_length_exceeded',
          );
        tokens += n;
        data.push({
          object: 'embedding',
          index,
          embedding: encode((await ctx.getEmbeddingFor(text)).vector),
        });
      }
      return {
        object: 'list',
        data,
        model: opts.modelId,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      };
    });
    embeddingQueue = run.catch(() => undefined);
    return run;
  }

  const batches = localBatchApi(opts.modelId, sequences, { chat: chatCompletion, text: textCompletion });

  // http ignores a handler's promise; dropping it is explicit here (`void`), not by accident.
  const serve = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (await batches.handle(req, res)) return;
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    try {
      const path = (req.url ?? '').split('?')[0];
      if (req.method === 'GET' && path === '/v1/models') {
        return sendJson(res, 200, {
          object: 'list',
          data: [{ id: opts.modelId, object: 'model', created, owned_by: 'parrot-local' }],
        });
      }
      if (
        req.method !== 'POST' ||
        !['/v1/chat/completions', '/v1/completions', '/v1/embeddings'].includes(path)
      ) {
        throw new HttpError(404, `no route for ${req.method} ${path}`);
      }
      const body = await readJson(req);
      if (body.stream) throw new HttpError(400, 'stream: streaming is not supported by the local endpoint');
      if (body.model !== opts.modelId) {
        throw new HttpError(
          404,
          `The model '${String(body.model)}' does not exist; this endpoint serves '${opts.modelId}'`,
          'invalid_request_error',
          'model_not_found',
        );
      }
      const result =
        path === '/v1/chat/completions'
          ? await chatCompletion(body, abort.signal)
          : path === '/v1/embeddings'
            ? await embeddings(body)
            : await textCompletion(body, abort.signal);
      sendJson(res, 200, result);
    } catch (err) {
      const e =
        err instanceof HttpError
          ? err
          : new HttpError(500, String((err as Error)?.message ?? err), 'server_error');
      if (!res.headersSent && !res.destroyed)
        sendJson(res, e.status, { error: { message: e.message, type: e.type, code: e.code ?? null } });
    }
  };
  const server = http.createServer((req, res) => void serve(req, res));
  await new Promise<void>((resolve) => server.listen(listen.port ?? 0, listen.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    modelId: opts.modelId,
    async close() {
      batches.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (embeddingContext) await (await embeddingContext).dispose();
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}

function usage(prompt: number, completion: number) {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function optionalNumber(body: Record<string, unknown>, field: string): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new HttpError(400, `${field}: must be a number`);
  return v;
}

function stopList(stop: unknown): string[] | undefined {
  if (stop === undefined || stop === null) return undefined;
  const list = Array.isArray(stop) ? stop : [stop];
  if (!list.every((s) => typeof s === 'string' && s.length > 0))
    throw new HttpError(400, 'stop: must be a string or an array of strings');
  return list as string[];
}

const isTextPart = (p: unknown): p is { type: 'text'; text: string } =>
  typeof p === 'object' &&
  p !== null &&
  'type' in p &&
  p.type === 'text' &&
  'text' in p &&
  typeof p.text === 'string';

function contentText(content: unknown, field: string): string {
  if (typeof content === 'string') return content;
  // OpenAI's content-part form: [{type: 'text', text}]
  if (Array.isArray(content) && content.every(isTextPart)) {
    return content.map((p) => p.text).join('');
  }
  throw new HttpError(400, `${field}: must be a string or text parts`);
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  try {
    const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* fall through */
  }
  throw new HttpError(400, 'body: must be a JSON object');
}

function sendJson(res: http.ServerResponse, status: number, value: unknown) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

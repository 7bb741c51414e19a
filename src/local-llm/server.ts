// The built-in `local` endpoint: a small OpenAI-compatible HTTP server over node-llama-cpp.
// It serves /v1/chat/completions, /v1/completions (raw prompts, for Ask models served as plain
// completion), /v1/embeddings (the model's own, for the topic metrics), /v1/models, and
// /v1/files + /v1/batches (./local-batch-api.ts, for batch mode). Requests share one llama
// context (see sequence-pool.ts).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chatCompletion } from './chat-completion';
import { createEmbeddingService } from './embeddings';
import { loadLocalModel, type LocalModelOptions } from './loaded-model';
import { requestListener, type Handler } from './routes';
import { textCompletion } from './text-completion';
import { localBatchApi } from './local-batch-api';

export type LocalLlmServerOptions = LocalModelOptions;

export interface LocalLlmServer {
  url: string;
  modelId: string;
  close(): Promise<void>;
}

export async function startLocalLlmServer(
  opts: LocalLlmServerOptions,
  listen: { host?: string; port?: number } = {},
): Promise<LocalLlmServer> {
  const llm = await loadLocalModel(opts);
  const embeddings = createEmbeddingService(llm);
  const batches = localBatchApi(opts.modelId, llm.sequences, {
    chat: (body, signal) => chatCompletion(llm, body, signal),
    text: (body, signal) => textCompletion(llm, body, signal),
  });
  const listener = requestListener({
    modelId: opts.modelId,
    created: Math.floor(Date.now() / 1000),
    post: new Map<string, Handler>([
      ['/v1/chat/completions', (body, signal) => chatCompletion(llm, body, signal)],
      ['/v1/completions', (body, signal) => textCompletion(llm, body, signal)],
      ['/v1/embeddings', (body) => embeddings.embeddings(body)],
    ]),
  });
  const server = http.createServer((req, res) => {
    void batches.handle(req, res).then((handled) => {
      if (!handled) listener(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(listen.port ?? 0, listen.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    modelId: opts.modelId,
    async close() {
      batches.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await embeddings.dispose();
      await llm.dispose();
    },
  };
}

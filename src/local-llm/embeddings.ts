// POST /v1/embeddings: the model's own embeddings, for the topic metrics. They get a context of
// their own, made on first use so a server that never embeds pays nothing, and embed one text at
// a time in a queue, since that context has a single sequence.
import type { LlamaEmbeddingContext } from 'node-llama-cpp';
import { contextLengthExceeded, HttpError } from './http-error';
import type { LoadedModel } from './loaded-model';
import type { RequestBody } from './request-fields';

/** Tokens the embedding context holds; a longer input is a 400, never silently cut. */
const EMBEDDING_CONTEXT_TOKENS = 512;

type Encoding = 'float' | 'base64';

function requestedInputs(body: RequestBody): string[] {
  const input = typeof body.input === 'string' ? [body.input] : body.input;
  if (!Array.isArray(input) || input.length === 0 || !input.every((t) => typeof t === 'string'))
    throw new HttpError(400, 'input: must be a string or a non-empty array of strings');
  return input;
}

function requestedEncoding(body: RequestBody): Encoding {
  // The openai client asks for base64 (little-endian float32) unless told otherwise.
  const format = body.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64')
    throw new HttpError(400, 'encoding_format: must be "float" or "base64"');
  return format;
}

const encode = (v: readonly number[], format: Encoding) =>
  format === 'base64' ? Buffer.from(new Float32Array(v).buffer).toString('base64') : [...v];

export interface EmbeddingService {
  embeddings(body: RequestBody): Promise<unknown>;
  dispose(): Promise<void>;
}

export function createEmbeddingService(llm: LoadedModel): EmbeddingService {
  let context: Promise<LlamaEmbeddingContext> | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  async function embedAll(ctx: LlamaEmbeddingContext, input: string[], format: Encoding) {
    const data: { object: 'embedding'; index: number; embedding: number[] | string }[] = [];
    let tokens = 0;
    for (const [index, text] of input.entries()) {
      const n = llm.countTokens(text);
      if (n > EMBEDDING_CONTEXT_TOKENS)
        throw contextLengthExceeded(
          `input[${index}]: ${n} tokens; the embedding context holds ${EMBEDDING_CONTEXT_TOKENS}`,
        );
      tokens += n;
      data.push({
        object: 'embedding',
        index,
        embedding: encode((await ctx.getEmbeddingFor(text)).vector, format),
      });
    }
    return {
      object: 'list',
      data,
      model: llm.modelId,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  }

  return {
    async embeddings(body) {
      const input = requestedInputs(body);
      const format = requestedEncoding(body);
      context ??= llm.model.createEmbeddingContext({
        contextSize: EMBEDDING_CONTEXT_TOKENS,
        threads: llm.threads,
      });
      const ctx = await context;
      const run = queue.then(() => embedAll(ctx, input, format));
      // A failed request must not stop the ones queued behind it.
      queue = run.catch(() => undefined);
      return run;
    },
    async dispose() {
      if (context) await (await context).dispose();
    },
  };
}

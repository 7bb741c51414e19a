// Loading the GGUF model once per server: the llama runtime, the model, and the shared context
// whose sequences the chat and completion handlers take turns on.
import os from 'node:os';
import type { LlamaContext, LlamaModel } from 'node-llama-cpp';
import { SequencePool } from './sequence-pool';

export interface LocalModelOptions {
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

/** What every handler needs from the model; `lib` is node-llama-cpp itself, loaded at run time. */
export interface LoadedModel {
  lib: typeof import('node-llama-cpp');
  modelId: string;
  model: LlamaModel;
  context: LlamaContext;
  pool: SequencePool;
  /** Parallel sequences in the shared context. */
  sequences: number;
  threads: number;
  countTokens(text: string): number;
  dispose(): Promise<void>;
}

export async function loadLocalModel(opts: LocalModelOptions): Promise<LoadedModel> {
  // node-llama-cpp is ESM-only; a dynamic import keeps this CommonJS project loading it.
  const lib = await import('node-llama-cpp');
  const llama = await lib.getLlama({ build: 'never', gpu: false, progressLogs: false });
  const model = await llama.loadModel({ modelPath: opts.modelPath });
  const sequences = opts.sequences ?? 4;
  const threads = opts.threads ?? Math.max(1, os.availableParallelism());
  const context = await model.createContext({ sequences, contextSize: opts.contextSize ?? 4096, threads });
  return {
    lib,
    modelId: opts.modelId,
    model,
    context,
    pool: new SequencePool(context, sequences),
    sequences,
    threads,
    countTokens: (text) => model.tokenize(text, true).length,
    async dispose() {
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}

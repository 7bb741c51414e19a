// Requests share one llama context: each takes one of its sequences (llama.cpp batches the
// sequences together) and waits in a queue when all are busy.
import type { LlamaContext, LlamaContextSequence } from 'node-llama-cpp';

/** Hands out context sequences one request at a time, first come first served. */
export class SequencePool {
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

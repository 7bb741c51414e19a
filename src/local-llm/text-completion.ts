// POST /v1/completions: a raw prompt, no chat template (for Ask models served as plain completion).
import { contextLengthExceeded, HttpError } from './http-error';
import type { LoadedModel } from './loaded-model';
import { finishReason, responseId, sampling, stopList, usage, type RequestBody } from './request-fields';

export async function textCompletion(llm: LoadedModel, body: RequestBody, signal: AbortSignal) {
  if (typeof body.prompt !== 'string') throw new HttpError(400, 'prompt: must be a string');
  const prompt = body.prompt;
  const promptTokens = llm.countTokens(prompt);
  if (promptTokens >= llm.context.contextSize) {
    throw contextLengthExceeded(
      `This model's maximum context length is ${llm.context.contextSize} tokens; the prompt has ${promptTokens}.`,
    );
  }
  const stop = stopList(body.stop);
  return llm.pool.use(async (contextSequence) => {
    const completion = new llm.lib.LlamaCompletion({ contextSequence, autoDisposeSequence: false });
    try {
      const r = await completion.generateCompletionWithMeta(prompt, {
        ...sampling(body),
        signal,
        customStopTriggers: stop,
      });
      return {
        id: responseId('cmpl'),
        object: 'text_completion',
        created: Math.floor(Date.now() / 1000),
        model: llm.modelId,
        choices: [
          { index: 0, text: r.response, finish_reason: finishReason(r.metadata.stopReason), logprobs: null },
        ],
        usage: usage(promptTokens, llm.countTokens(r.response)),
      };
    } finally {
      completion.dispose({ disposeSequence: false });
    }
  });
}

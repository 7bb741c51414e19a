// `--estimate-sample N`: the first round of N dialogues (an answer to a seed, then the next
// question) sent to the input's real endpoints, to measure what the estimate otherwise assumes: a
// call's latency, and how long answers and questions are. The calls are made as the activities
// make them (src/activities/llm.ts), without Temporal; they are paid for.
import type { DatasetInput } from '../config/dataset-input';
import type { EndpointRegistry } from '../config/endpoints';
import { requestAnswer, requestQuestion } from '../activities/llm';
import { personaFor } from '../prompts/personas';
import { LlmProvider } from '../providers/openai-provider';
import type { TokenUsage } from '../types';
import { addUsage, emptyUsage } from '../usage';
import type { MeasuredCalls } from './dataset-estimate';

export interface SampleResult extends MeasuredCalls {
  /** What the sample calls used and cost, both roles together. */
  usage: TokenUsage;
}

/** Runs the N first rounds at once, each an answer then a question, on seeds[0..N-1] (cycling). */
export async function sampleCalls(
  input: DatasetInput,
  endpoints: EndpointRegistry,
  seeds: string[],
  dialogues: number,
): Promise<SampleResult> {
  const endpoint = (field: string, name: string) => {
    const e = endpoints.get(name);
    if (!e)
      throw new Error(
        `${field}: endpoint '${name}' is not configured here (PARROT_ENDPOINT_${name.toUpperCase().replace(/-/g, '_')}_URL): cannot sample it`,
      );
    return e;
  };
  const answerEndpoint = endpoint('answer.endpoint', input.answer.endpoint);
  const askEndpoint = endpoint('ask.endpoint', input.ask.endpoint);
  const provider = new LlmProvider();
  const timeoutMs = input.llmCallTimeoutSeconds * 1000;
  const rounds = await Promise.all(
    Array.from({ length: dialogues }, async (_, index) => {
      const seed = seeds[index % seeds.length];
      const answer = await requestAnswer(
        provider,
        answerEndpoint,
        input.answer,
        [{ role: 'user', content: seed }],
        { timeoutMs },
      );
      const persona =
        input.ask.mode === 'prompted' ? personaFor(input.ask.personas, input.randomSeed, index) : undefined;
      const question = await requestQuestion(
        provider,
        askEndpoint,
        input.ask,
        [
          { role: 'user', content: seed },
          { role: 'assistant', content: answer.text },
        ],
        persona,
        { timeoutMs },
      );
      return { answer, question };
    }),
  );
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    dialogues,
    latencyMs: mean(rounds.flatMap((r) => [r.answer.ms ?? 0, r.question.ms ?? 0])),
    answerTokens: mean(rounds.map((r) => r.answer.usage.completionTokens)),
    questionTokens: mean(rounds.map((r) => r.question.usage.completionTokens)),
    usage: rounds.reduce((u, r) => addUsage(addUsage(u, r.answer.usage), r.question.usage), emptyUsage()),
  };
}

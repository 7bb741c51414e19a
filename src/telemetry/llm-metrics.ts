// Parrot's LLM metrics, recorded on the activity's metric meter (Context.current().metricMeter):
// they reach the same Prometheus endpoint as the SDK's (src/telemetry/runtime.ts), and nothing
// when metrics are off. Labels stay few-valued: endpoint, role, outcome, filter; never a dataset
// or a dialogue. Names as scraped, and queries over them: docs/OPERATIONS.md.
import type { MetricMeter } from '@temporalio/common';
import type { CallRecord } from '../providers/openai-provider';
import type { QuestionFilter } from '../prompts/question-filters';

/** Who made a call: the simulated user, the answerer, or the metrics step's embeddings and judge. */
export type LlmRole = 'ask' | 'answer' | 'embed' | 'judge';

export const LLM_METRICS = {
  calls: 'parrot_llm_calls',
  latency: 'parrot_llm_call_latency',
  gateWait: 'parrot_llm_gate_wait',
  promptTokens: 'parrot_llm_prompt_tokens',
  completionTokens: 'parrot_llm_completion_tokens',
  concurrencyLimit: 'parrot_llm_concurrency_limit',
  inFlight: 'parrot_llm_in_flight',
  filterRejections: 'parrot_question_filter_rejections',
} as const;

/** Records each call a provider reports (CallLimits.observe) as `role`'s. */
export function llmCallObserver(meter: MetricMeter, role: LlmRole): (call: CallRecord) => void {
  return (call) => {
    const tags = { endpoint: call.endpoint, role };
    meter
      .createCounter(LLM_METRICS.calls, 'calls', 'LLM calls sent, by how they ended')
      .add(1, { ...tags, outcome: call.outcome });
    meter
      .createHistogram(
        LLM_METRICS.latency,
        'int',
        'ms',
        'Time from sending an LLM call to its reply or error',
      )
      .record(call.ms, { ...tags, outcome: call.outcome });
    const gateWait = meter.createHistogram(
      LLM_METRICS.gateWait,
      'int',
      'ms',
      "Time an LLM call waited before it was sent: gate=window (this worker's AIMD concurrency window), gate=rate (TPM, RPM, a 429's cool-down)",
    );
    gateWait.record(call.windowWaitMs, { ...tags, gate: 'window' });
    gateWait.record(call.rateWaitMs, { ...tags, gate: 'rate' });
    if (call.promptTokens)
      meter
        .createCounter(LLM_METRICS.promptTokens, 'tokens', 'Prompt tokens, as the provider counted them')
        .add(call.promptTokens, tags);
    if (call.completionTokens)
      meter
        .createCounter(
          LLM_METRICS.completionTokens,
          'tokens',
          'Completion tokens, as the provider counted them',
        )
        .add(call.completionTokens, tags);
    const endpoint = { endpoint: call.endpoint };
    meter
      .createGauge(
        LLM_METRICS.concurrencyLimit,
        'int',
        'calls',
        'Calls this worker may keep open to the endpoint (AIMD: cut on 429s)',
      )
      .set(call.concurrencyLimit, endpoint);
    meter
      .createGauge(LLM_METRICS.inFlight, 'int', 'calls', 'Calls this worker has open to the endpoint')
      .set(call.inFlight, endpoint);
  };
}

/** A question the filters rejected (the workflow asks again). */
export function countFilterRejection(meter: MetricMeter, endpoint: string, filter: QuestionFilter): void {
  meter
    .createCounter(LLM_METRICS.filterRejections, 'questions', 'Questions rejected by a filter, asked again')
    .add(1, { endpoint, filter });
}

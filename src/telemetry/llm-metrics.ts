// Parrot's LLM metrics, on the SDK's metric meter: they reach the same Prometheus endpoint as the
// SDK's own (src/telemetry/runtime.ts), and nothing when metrics are off. The instruments are
// created once per worker process, as the SDK does for workflow metrics: creating one costs a
// call down to the native runtime. Labels stay few-valued: endpoint, role, outcome, gate, filter;
// never a dataset or a dialogue. Names as scraped, and queries over them: docs/OPERATIONS.md.
import { noopMetricMeter, type MetricMeter } from '@temporalio/common';
import type { CallRecord } from '../providers/openai-provider';
import type { QuestionFilter } from '../planning/filter-hits';

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
  waiting: 'parrot_llm_waiting',
  abandoned: 'parrot_llm_abandoned',
  filterRejections: 'parrot_question_filter_rejections',
} as const;

export class LlmMetrics {
  private readonly calls;
  private readonly latency;
  private readonly gateWait;
  private readonly promptTokens;
  private readonly completionTokens;
  private readonly concurrencyLimit;
  private readonly inFlight;
  private readonly waiting;
  private readonly abandoned;
  private readonly filterRejections;

  /** `meter`: the worker runtime's (Runtime.instance().metricMeter); none: metrics off. */
  constructor(meter: MetricMeter = noopMetricMeter) {
    this.calls = meter.createCounter(LLM_METRICS.calls, 'calls', 'LLM calls sent, by how they ended');
    this.latency = meter.createHistogram(
      LLM_METRICS.latency,
      'int',
      'ms',
      'Time from sending an LLM call to its reply or error',
    );
    this.gateWait = meter.createHistogram(
      LLM_METRICS.gateWait,
      'int',
      'ms',
      "Time an LLM call waited before it was sent: gate=rate (TPM, RPM, a 429's cool-down), then gate=window (a place under this worker's concurrency limit)",
    );
    this.promptTokens = meter.createCounter(
      LLM_METRICS.promptTokens,
      'tokens',
      'Prompt tokens, as the provider counted them',
    );
    this.completionTokens = meter.createCounter(
      LLM_METRICS.completionTokens,
      'tokens',
      'Completion tokens, as the provider counted them',
    );
    this.concurrencyLimit = meter.createGauge(
      LLM_METRICS.concurrencyLimit,
      'int',
      'calls',
      'Calls this worker may keep open to the endpoint (cut on 429s and on replies slowed by a queue)',
    );
    this.inFlight = meter.createGauge(
      LLM_METRICS.inFlight,
      'int',
      'calls',
      'Calls this worker has open to the endpoint',
    );
    this.waiting = meter.createGauge(
      LLM_METRICS.waiting,
      'int',
      'calls',
      "Calls waiting at this worker's gates for the endpoint, not yet sent",
    );
    this.abandoned = meter.createCounter(
      LLM_METRICS.abandoned,
      'calls',
      'Requests given up after they were sent (timed out or cancelled): work the endpoint may have done for nothing',
    );
    this.filterRejections = meter.createCounter(
      LLM_METRICS.filterRejections,
      'questions',
      'Questions rejected by a filter, asked again',
    );
  }

  /** Records each call a provider reports (CallLimits.observe) as `role`'s. */
  observer(role: LlmRole): (call: CallRecord) => void {
    return (call) => {
      const tags = { endpoint: call.endpoint, role };
      this.calls.add(1, { ...tags, outcome: call.outcome });
      this.latency.record(call.ms, { ...tags, outcome: call.outcome });
      this.gateWait.record(call.limitWaitMs, { ...tags, gate: 'window' });
      this.gateWait.record(call.rateWaitMs, { ...tags, gate: 'rate' });
      if (call.promptTokens) this.promptTokens.add(call.promptTokens, tags);
      if (call.completionTokens) this.completionTokens.add(call.completionTokens, tags);
      if (call.outcome === 'timeout' || call.outcome === 'cancelled') this.abandoned.add(1, tags);
      const endpoint = { endpoint: call.endpoint };
      this.concurrencyLimit.set(call.state.limit, endpoint);
      this.inFlight.set(call.state.inFlight, endpoint);
      this.waiting.set(call.state.waiting, endpoint);
    };
  }

  /** A question the filters rejected (the workflow asks again). */
  filterRejected(endpoint: string, filter: QuestionFilter): void {
    this.filterRejections.add(1, { endpoint, filter });
  }
}

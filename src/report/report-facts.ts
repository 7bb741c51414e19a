// The report's table of facts about a run: what was asked of which models, what it cost, how
// dialogues ended, and where the data is.
import type { DatasetMetrics, TokenUsage } from '../types';
import { formatUsd } from '../usage';
import { escapeHtml, fmt } from './html-text';
import type { ReportData } from './report-data';

/** The run's cost at the declared prices, and the calls it leaves out; undefined when no call was priced or counted unpriced. */
export function costSummary(usage: { ask: TokenUsage; answer: TokenUsage }): string | undefined {
  const { ask, answer } = usage;
  if (
    ask.costUsd === undefined &&
    answer.costUsd === undefined &&
    !ask.unpricedCalls &&
    !answer.unpricedCalls
  )
    return undefined;
  const usd = (ask.costUsd ?? 0) + (answer.costUsd ?? 0);
  const unpriced = (ask.unpricedCalls ?? 0) + (answer.unpricedCalls ?? 0);
  const priced = ask.costUsd !== undefined || answer.costUsd !== undefined;
  return [
    priced && formatUsd(usd),
    unpriced && `${fmt(unpriced)} calls to endpoints with no declared price${priced ? ' not included' : ''}`,
  ]
    .filter(Boolean)
    .join(', ');
}

/** `[label, value]` rows; every value is plain text but the data links, which are HTML already. */
export function reportFacts(d: ReportData, m: Partial<DatasetMetrics>): [string, string][] {
  const generated = d.usage.ask.completionTokens + d.usage.answer.completionTokens;
  const cost = costSummary(d.usage);
  return [
    [
      'dialogues exported',
      `${fmt(d.exported)} of ${fmt(d.input.count)}${d.missing ? ` (${fmt(d.missing)} missing, ${fmt(d.failed)} failed: see manifest.json)` : ''}`,
    ],
    ['simulated user', `${d.input.ask.endpoint} / ${d.input.ask.model}, ${d.input.ask.mode} mode`],
    ['answerer', `${d.input.answer.endpoint} / ${d.input.answer.model}`],
    ['target turns', JSON.stringify(d.input.turns)],
    ['seeds', `${d.input.seeds}, random seed ${d.input.randomSeed}`],
    [
      'LLM calls',
      `${fmt(d.usage.ask.calls + d.usage.answer.calls)} (${fmt(generated)} tokens generated, ${fmt(d.usage.ask.promptTokens + d.usage.answer.promptTokens)} prompt tokens)`,
    ],
    ...(cost !== undefined ? [['cost at the declared prices', cost] as [string, string]] : []),
    [
      'dialogues ended by',
      Object.entries(m.dialoguesEndedBy ?? {})
        .map(([k, v]) => `${k} ${fmt(v)}`)
        .join(', ') || '–',
    ],
    [
      'questions rejected by filters',
      Object.entries(m.questionFilterHits ?? {})
        .map(([k, v]) => `${k} ${fmt(v)}`)
        .join(', ') || 'none',
    ],
    [
      'near-duplicate dialogues',
      // Beyond its sample the count is an estimate: shown with its standard error.
      m.nearDuplicateDialoguesStandardError === undefined
        ? fmt(m.nearDuplicateDialogues)
        : `${fmt(m.nearDuplicateDialogues)} ± ${fmt(m.nearDuplicateDialoguesStandardError)} (estimated from a sample)`,
    ],
    ['distinct-1 / distinct-2 of questions', `${fmt(m.distinct1Questions)} / ${fmt(m.distinct2Questions)}`],
    ['tokens per question / answer', `${fmt(m.tokensPerQuestion)} / ${fmt(m.tokensPerAnswer)}`],
    [
      'data',
      d.formats
        .map(
          ({ format, files }) =>
            `${format}: ${files.map((f) => `<a href="${escapeHtml(f)}">${escapeHtml(f)}</a>`).join(', ') || '–'}`,
        )
        .join('; '),
    ],
  ];
}

/** The facts as table rows, their text escaped. */
export function factsHtml(facts: [string, string][]): string {
  return facts
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${k === 'data' ? v : escapeHtml(v)}</td></tr>`)
    .join('');
}

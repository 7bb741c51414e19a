// A dataset's report: one self-contained HTML file (Chart.js inlined, the data as JSON) that
// opens from disk or S3 with no network: the metrics beside the paper's reference numbers,
// charts of turns and lengths, and a few sample dialogues.
import fs from 'node:fs';
import path from 'node:path';
import type { DatasetInput } from '../config/dataset-input';
import type { DatasetMetrics, DialogueRecord, FormatExport, TokenUsage } from '../types';
import { REFERENCE_DATASETS, REFERENCE_ROWS } from './reference-metrics';
import { formatUsd } from '../usage';

export interface ReportData {
  datasetId: string;
  generatedAt: string;
  input: DatasetInput;
  exported: number;
  missing: number;
  failed: number;
  /** Absent when they could not be computed; `metricsError` says why (also when only some failed). */
  metrics?: DatasetMetrics;
  metricsError?: string;
  usage: { ask: TokenUsage; answer: TokenUsage };
  /** The first few dialogues, shown in full. */
  samples: DialogueRecord[];
  /** Each format exported, the first the default, with its shards relative to the report. */
  formats: ReportFormat[];
}

export interface ReportFormat extends FormatExport {
  files: string[];
}

/** The charts the report draws; the test checks each of them rendered. */
export const REPORT_CHARTS = ['turns', 'question-lengths', 'answer-lengths', 'versus-references'] as const;

let chartJs: string | undefined;
function chartJsSource(): string {
  // chart.js does not export its UMD build's path; it sits beside the CommonJS entry point.
  chartJs ??= fs.readFileSync(
    path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js'),
    'utf8',
  );
  return chartJs;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
/** JSON safe inside a <script> element. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');
const fmt = (x: number | string | undefined) =>
  x === undefined ? '–' : typeof x === 'number' ? x.toLocaleString('en-US', { maximumFractionDigits: 2 }) : x;

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

export function renderHtmlReport(d: ReportData): string {
  const m: Partial<DatasetMetrics> = d.metrics ?? {};
  const rows = REFERENCE_ROWS.map(
    (r) =>
      `<tr><th>${escapeHtml(r.label)}${r.note ? `<div class="note">${escapeHtml(r.note)}</div>` : ''}</th>` +
      `<td class="ours">${fmt(r.ours(m))}</td>${REFERENCE_DATASETS.map((ds) => `<td>${fmt(r.reference[ds])}</td>`).join('')}</tr>`,
  ).join('\n');
  const generated = d.usage.ask.completionTokens + d.usage.answer.completionTokens;
  const cost = costSummary(d.usage);
  const facts: [string, string][] = [
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
  const samples = d.samples
    .map(
      (r) =>
        `<details${r === d.samples[0] ? ' open' : ''}><summary>${escapeHtml(r.id)} · ${r.turns} turns</summary>` +
        r.conversations
          .map(
            (c) =>
              `<div class="turn ${c.from}"><b>${c.from === 'human' ? 'User' : 'Assistant'}</b> ${escapeHtml(c.value)}</div>`,
          )
          .join('') +
        '</details>',
    )
    .join('\n');
  const chartData = {
    histograms: m.histograms,
    versus: {
      labels: ['turns per dialogue', 'context-dependent questions per dialogue'],
      datasets: [
        {
          label: `${d.datasetId} (ours)`,
          data: [m.turnsPerDialogue, m.contextDependentQuestionsPerDialogue ?? null],
        },
        ...REFERENCE_DATASETS.map((ds) => ({
          label: ds,
          data: REFERENCE_ROWS.slice(0, 2).map((r) =>
            typeof r.reference[ds] === 'number' ? r.reference[ds] : null,
          ),
        })),
      ],
    },
  };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(d.datasetId)} · parrot dataset report</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1d2433}
h1{margin-bottom:.2rem}.sub{color:#667}table{border-collapse:collapse;width:100%;margin:1rem 0}
th,td{border-bottom:1px solid #e3e6ee;padding:.35rem .5rem;text-align:left;vertical-align:top}td{text-align:right;white-space:nowrap}
td.ours{font-weight:600;background:#f3f7ff}.note{font-weight:normal;color:#778;font-size:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:1.5rem}.chart{height:280px;position:relative}
.facts th{width:16rem;font-weight:500;color:#445}.facts td{text-align:left;white-space:normal}
.turn{margin:.4rem 0;padding:.4rem .6rem;border-radius:6px;white-space:pre-wrap}.human{background:#eef4ff}.gpt{background:#f5f5f5}
details{margin:.6rem 0}summary{cursor:pointer;font-weight:600}.error{color:#a11;font-weight:600}
</style></head><body>
<h1>${escapeHtml(d.datasetId)}</h1>
<div class="sub">parrot dataset report · generated ${escapeHtml(d.generatedAt)}</div>
<table class="facts">${facts.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${k === 'data' ? v : escapeHtml(v)}</td></tr>`).join('')}</table>
<h2>Metrics beside the Parrot paper's reference numbers</h2>
${d.metricsError ? `<p class="error">Some metrics could not be computed (the dialogues are all exported): ${escapeHtml(d.metricsError)}</p>` : ''}
<table class="metrics"><tr><th>metric</th><th>this dataset</th>${REFERENCE_DATASETS.map((ds) => `<th>${ds}</th>`).join('')}</tr>
${rows}
</table>
<p class="note">Reference numbers as reported in the Parrot paper (Sun et al., 2023) and its summaries; its data and code were never published. – : not reported, or not measured here (topic metrics need <code>metrics.embeddings</code>, the judge <code>metrics.judge</code> in the input).</p>
<h2>Charts</h2>
<div class="grid">
${REPORT_CHARTS.map((id) => `<div><div class="chart"><canvas id="chart-${id}" data-chart="${id}"></canvas></div></div>`).join('\n')}
</div>
<h2>Sample dialogues</h2>
${samples || '<p>none</p>'}
<script>${chartJsSource().replace(/<\/script/gi, '<\\/script')}</script>
<script id="report-data" type="application/json">${scriptJson(chartData)}</script>
<script>
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  function bars(id, title, counts, xTitle) {
    var keys = Object.keys(counts).sort(function (a, b) { return parseFloat(a) - parseFloat(b); });
    new Chart(document.getElementById('chart-' + id), {
      type: 'bar',
      data: { labels: keys, datasets: [{ label: 'count', data: keys.map(function (k) { return counts[k]; }), backgroundColor: '#4f7cff' }] },
      options: { plugins: { title: { display: true, text: title }, legend: { display: false } }, scales: { x: { title: { display: true, text: xTitle } }, y: { beginAtZero: true } } },
    });
  }
  bars('turns', 'Turns per dialogue', data.histograms.turns, 'turns');
  bars('question-lengths', 'Question length', data.histograms.questionTokens, 'tokens');
  bars('answer-lengths', 'Answer length', data.histograms.answerTokens, 'tokens');
  var colors = ['#4f7cff', '#f2a541', '#7ac27a', '#c76dd1', '#e06060'];
  new Chart(document.getElementById('chart-versus-references'), {
    type: 'bar',
    data: { labels: data.versus.labels, datasets: data.versus.datasets.map(function (s, i) { return { label: s.label, data: s.data, backgroundColor: colors[i % colors.length] }; }) },
    options: { plugins: { title: { display: true, text: 'Beside the paper\\'s datasets' } }, scales: { y: { beginAtZero: true } } },
  });
  window.reportRendered = true;
})();
</script>
</body></html>
`;
}

// A dataset's report: one self-contained HTML file (Chart.js inlined, the data as JSON) that
// opens from disk or S3 with no network: the metrics beside the paper's reference numbers,
// charts of turns and lengths (report-charts.ts), and a few sample dialogues.
import type { DatasetMetrics, DialogueRecord } from '../types';
import { escapeHtml, fmt } from './html-text';
import { chartCanvasesHtml, chartScriptsHtml } from './report-charts';
import type { ReportData } from './report-data';
import { factsHtml, reportFacts } from './report-facts';
import { REFERENCE_DATASETS, REFERENCE_ROWS } from './reference-metrics';

const STYLE = `body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1d2433}
h1{margin-bottom:.2rem}.sub{color:#667}table{border-collapse:collapse;width:100%;margin:1rem 0}
th,td{border-bottom:1px solid #e3e6ee;padding:.35rem .5rem;text-align:left;vertical-align:top}td{text-align:right;white-space:nowrap}
td.ours{font-weight:600;background:#f3f7ff}.note{font-weight:normal;color:#778;font-size:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:1.5rem}.chart{height:280px;position:relative}
.facts th{width:16rem;font-weight:500;color:#445}.facts td{text-align:left;white-space:normal}
.turn{margin:.4rem 0;padding:.4rem .6rem;border-radius:6px;white-space:pre-wrap}.human{background:#eef4ff}.gpt{background:#f5f5f5}
details{margin:.6rem 0}summary{cursor:pointer;font-weight:600}.error{color:#a11;font-weight:600}`;

/** Our metrics beside each reference dataset's, one row per metric. */
function metricsRowsHtml(m: Partial<DatasetMetrics>): string {
  return REFERENCE_ROWS.map(
    (r) =>
      `<tr><th>${escapeHtml(r.label)}${r.note ? `<div class="note">${escapeHtml(r.note)}</div>` : ''}</th>` +
      `<td class="ours">${fmt(r.ours(m))}</td>${REFERENCE_DATASETS.map((ds) => `<td>${fmt(r.reference[ds])}</td>`).join('')}</tr>`,
  ).join('\n');
}

/** The sample dialogues in full, the first one open. */
function samplesHtml(samples: DialogueRecord[]): string {
  return samples
    .map(
      (r) =>
        `<details${r === samples[0] ? ' open' : ''}><summary>${escapeHtml(r.id)} · ${r.turns} turns</summary>` +
        r.conversations
          .map(
            (c) =>
              `<div class="turn ${c.from}"><b>${c.from === 'human' ? 'User' : 'Assistant'}</b> ${escapeHtml(c.value)}</div>`,
          )
          .join('') +
        '</details>',
    )
    .join('\n');
}

export function renderHtmlReport(d: ReportData): string {
  const m: Partial<DatasetMetrics> = d.metrics ?? {};
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(d.datasetId)} · parrot dataset report</title>
<style>
${STYLE}
</style></head><body>
<h1>${escapeHtml(d.datasetId)}</h1>
<div class="sub">parrot dataset report · generated ${escapeHtml(d.generatedAt)}</div>
<table class="facts">${factsHtml(reportFacts(d, m))}</table>
<h2>Metrics beside the Parrot paper's reference numbers</h2>
${d.metricsError ? `<p class="error">Some metrics could not be computed (the dialogues are all exported): ${escapeHtml(d.metricsError)}</p>` : ''}
<table class="metrics"><tr><th>metric</th><th>this dataset</th>${REFERENCE_DATASETS.map((ds) => `<th>${ds}</th>`).join('')}</tr>
${metricsRowsHtml(m)}
</table>
<p class="note">Reference numbers as reported in the Parrot paper (Sun et al., 2023) and its summaries; its data and code were never published. – : not reported, or not measured here (topic metrics need <code>metrics.embeddings</code>, the judge <code>metrics.judge</code> in the input).</p>
<h2>Charts</h2>
<div class="grid">
${chartCanvasesHtml()}
</div>
<h2>Sample dialogues</h2>
${samplesHtml(d.samples) || '<p>none</p>'}
${chartScriptsHtml(d, m)}
</body></html>
`;
}

// The report's charts: Chart.js inlined (so the file opens with no network), the data they
// draw as JSON, and the script that draws them in the browser.
import fs from 'node:fs';
import path from 'node:path';
import type { DatasetMetrics } from '../types';
import { scriptJson } from './html-text';
import type { ReportData } from './report-data';
import { REFERENCE_DATASETS, REFERENCE_ROWS } from './reference-metrics';

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

/** What the charts draw: our histograms, and our dialogues beside the paper's datasets. */
function chartData(d: ReportData, m: Partial<DatasetMetrics>) {
  return {
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
}

/** One canvas per chart, each named by `data-chart` so the test can find it. */
export function chartCanvasesHtml(): string {
  return REPORT_CHARTS.map(
    (id) => `<div><div class="chart"><canvas id="chart-${id}" data-chart="${id}"></canvas></div></div>`,
  ).join('\n');
}

/** Chart.js, the chart data and the script that draws them; it sets `window.reportRendered` when done. */
export function chartScriptsHtml(d: ReportData, m: Partial<DatasetMetrics>): string {
  return `<script>${chartJsSource().replace(/<\/script/gi, '<\\/script')}</script>
<script id="report-data" type="application/json">${scriptJson(chartData(d, m))}</script>
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
</script>`;
}

// The report's summary table, rendered without a server: an estimated count shows its error.
import assert from 'node:assert/strict';
import { parseDatasetInput } from '../../src/config/dataset-input';
import { renderHtmlReport, type ReportData } from '../../src/report/html-report';
import type { DatasetMetrics } from '../../src/types';

const metrics: DatasetMetrics = {
  dialogues: 40_000,
  turnsPerDialogue: 4,
  tokensPerQuestion: 20,
  tokensPerAnswer: 200,
  wordsPerQuestion: 15,
  wordsPerAnswer: 150,
  distinct1Questions: 0.3,
  distinct2Questions: 0.7,
  distinct1Answers: 0.2,
  distinct2Answers: 0.6,
  nearDuplicateDialogues: 1_234,
  histograms: { turns: {}, questionTokens: {}, answerTokens: {} },
};

const report = (m: DatasetMetrics | undefined, metricsError?: string): string => {
  const data: ReportData = {
    datasetId: 'd',
    generatedAt: '2026-11-30T00:00:00Z',
    input: parseDatasetInput({
      count: 40_000,
      turns: 4,
      output: 's3://bucket/prefix',
      ask: { endpoint: 'local', model: 'm' },
      answer: { endpoint: 'local', model: 'm' },
    }),
    exported: 40_000,
    missing: 0,
    failed: 0,
    metrics: m,
    metricsError,
    usage: {
      ask: { promptTokens: 0, completionTokens: 0, calls: 0 },
      answer: { promptTokens: 0, completionTokens: 0, calls: 0 },
    },
    samples: [],
    formats: [],
  };
  return renderHtmlReport(data);
};

describe('HTML report', () => {
  it('shows near-duplicates as counted, or as estimated with their standard error', () => {
    const row = (html: string) => /near-duplicate dialogues<\/t[hd]>\s*<td>([^<]*)</.exec(html)?.[1];
    assert.equal(row(report(metrics)), '1,234');
    assert.equal(
      row(report({ ...metrics, nearDuplicateDialoguesStandardError: 56 })),
      '1,234 ± 56 (estimated from a sample)',
    );
  });

  it('says why metrics are missing, and shows the others', () => {
    const error =
      "metrics.judge.model: 'gpt-4o-mnii' on endpoint 'openai' failed: HTTP 404 <model_not_found>";
    const html = report(metrics, error);
    assert.match(
      html,
      /could not be computed \(the dialogues are all exported\): metrics\.judge\.model: &#39;gpt-4o-mnii&#39;.*HTTP 404 &lt;model_not_found&gt;/,
    );
    assert.match(html, /<td class="ours">4<\/td>/, 'the text metrics stand');
    const none = report(undefined, 'metrics: storage down');
    assert.ok(none.includes('metrics: storage down'));
    assert.doesNotMatch(none, /<td class="ours">[0-9]/, 'no metric at all');
    assert.doesNotMatch(report(metrics), /could not be computed/);
  });
});

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
};

const report = (m: DatasetMetrics): string => {
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
});

// Model metrics in a dataset run against the FAKE LLM server's endpoints (the math on hand-made
// vectors: test/unit/model-metrics.test.ts).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { questionsOf, topicMetrics } from '../src/metrics/model-metrics';
import { sampleDatasetRecords } from '../src/storage/dialogue-records';
import { openBlobStore } from '../src/storage/open-blob-store';
import { recordKey } from '../src/storage/dataset-layout';
import type { DialogueRecord } from '../src/types';
import { pauseUpdate, unpauseUpdate } from '../src/workflows';
import { FAKE_JUDGE_REFERS_BACK, FAKE_MODEL, fakeEmbedding } from './helpers/fake-openai-server';
import { useFakeLlmSuite } from './helpers/fake-llm-suite';
import { progressWhen } from './helpers/progress';
import { fakeDatasetInput } from './helpers/inputs';
import { runDataset, startDataset } from './helpers/temporal';

describe('model metrics', () => {
  describe('in a dataset (fake LLM server)', () => {
    // The fake serves these models only: any other is answered 404, as OpenAI does.
    const s = useFakeLlmSuite('model-metrics', { fake: { knownModels: [FAKE_MODEL, 'fake-embed'] } });
    const datasetInput = (name: string, extra: Record<string, unknown> = {}) =>
      fakeDatasetInput(path.join(s.outDir, name), { count: 4, turns: 2, ...extra });
    /** Starts a dataset paused, waits until it has opened (models probed), lets `meanwhile` run, then unpauses it. */
    async function runOpened(workflowId: string, input: Record<string, unknown>, meanwhile: () => void) {
      const handle = await startDataset(s.t, workflowId, input);
      await handle.executeUpdate(pauseUpdate);
      await progressWhen(handle, (p) => p.phase === 'paused', { what: 'the dataset to open, paused' });
      meanwhile();
      await handle.executeUpdate(unpauseUpdate);
      return handle.result();
    }

    it('embeds the sampled questions and judges them through the endpoints named in the input', async () => {
      const output = path.join(s.outDir, 'run');
      const result = await runDataset(
        s.t,
        'model-metrics',
        fakeDatasetInput(output, {
          count: 6,
          turns: 4,
          metrics: {
            embeddings: { endpoint: 'fake', model: 'fake-embed' },
            judge: { endpoint: 'fake', model: FAKE_MODEL, sampleDialogues: 4 },
          },
        }),
      );
      const m = result.metrics!;
      assert.equal(m.embeddedQuestions, 24, 'all 6 dialogues × 4 questions (fewer than the sample size)');
      assert.ok(s.fake.requests.some((r) => r.path === '/v1/embeddings' && r.body.model === 'fake-embed'));
      const records: DialogueRecord[] = Array.from({ length: 6 }, (_, i) =>
        JSON.parse(fs.readFileSync(path.join(output, recordKey(i)), 'utf8')),
      );
      // The samples the activity draws (seed 0): all 6 dialogues for the embeddings, 4 for the judge.
      const store = openBlobStore(pathToFileURL(output).href);
      const lineage = [{ datasetId: 'model-metrics', runId: records[0].datasetRunId }];
      const embedded = await sampleDatasetRecords(store, lineage, 6, 500, 0 ^ 0x656d62);
      assert.deepEqual(embedded.map((r) => r.index).sort(), [0, 1, 2, 3, 4, 5]);
      // The fake's embeddings are a pure function of the text: the metrics over the same vectors are exact.
      const topics = topicMetrics(embedded.map((r) => questionsOf(r).map(fakeEmbedding)));
      assert.ok(topics.topicSimilarity > 0 && topics.topicSimilarity < 1, 'neither all alike nor all apart');
      assert.deepEqual(
        { similarity: m.topicSimilarity, shifts: m.topicShiftsPerDialogue },
        { similarity: topics.topicSimilarity, shifts: topics.topicShiftsPerDialogue },
      );
      // The fake judge says "no" to questions that refer back.
      const sample = await sampleDatasetRecords(store, lineage, 6, 4, 0 ^ 0x6a7564);
      const referBack = sample.map(
        (r) =>
          questionsOf(r)
            .slice(1)
            .filter((q) => FAKE_JUDGE_REFERS_BACK.test(q)).length,
      );
      assert.ok(
        referBack.some((n) => n > 0),
        `some questions refer back: ${referBack.join(',')}`,
      );
      assert.equal(
        m.contextDependentQuestionsPerDialogueJudge,
        Math.round((referBack.reduce((a, b) => a + b, 0) / 4) * 1000) / 1000,
      );
      assert.doesNotMatch(
        fs.readFileSync(path.join(output, 'report.html'), 'utf8'),
        /<td class="ours">–<\/td>/,
        'every metric of ours is in the report',
      );
    });

    it('probes the metrics models when the dataset starts: a judge model the endpoint does not have fails it at once, naming the field, before any dialogue is paid for', async () => {
      const before = s.fake.requests.length;
      await assert.rejects(
        runDataset(
          s.t,
          'model-metrics-typo',
          datasetInput('typo', { metrics: { judge: { endpoint: 'fake', model: 'gpt-4o-mnii' } } }),
        ),
        (err: Error) => {
          const message = String((err as { cause?: { cause?: Error } }).cause?.cause?.message);
          assert.match(
            message,
            /^metrics\.judge\.model: 'gpt-4o-mnii' on endpoint 'fake' failed: .*HTTP 404/,
          );
          return true;
        },
      );
      const sent = s.fake.requests.slice(before);
      assert.equal(sent.length, 1, 'the probe alone: no dialogue was started');
      assert.equal(sent[0].body.model, 'gpt-4o-mnii');
      assert.equal(sent[0].body.max_tokens, 4, 'the probe asks as the judge does');
      assert.equal(fs.existsSync(path.join(s.outDir, 'typo', 'records')), false);
    });

    it('a metrics model that fails after the dialogues are paid for costs its metrics, not the export', async () => {
      const result = await runOpened(
        'model-metrics-gone',
        datasetInput('gone', {
          metrics: {
            embeddings: { endpoint: 'fake', model: 'fake-embed' },
            judge: { endpoint: 'fake', model: FAKE_MODEL },
          },
        }),
        // The embedding model passed its probe, then goes away (a 404 is not retried).
        () => s.fake.failNextEmbedding({ status: 404, message: 'The model was retired' }),
      );
      assert.equal(result.completed, 4);
      assert.match(
        result.metricsError ?? '',
        /^metrics\.embeddings\.model: 'fake-embed' on endpoint 'fake' failed: fake: HTTP 404: .*retired/,
      );
      assert.equal(result.metrics?.dialogues, 4, 'the text metrics stand');
      assert.equal(result.metrics?.judgedDialogues, 4, "and so does the judge's");
      assert.equal(result.metrics?.topicSimilarity, undefined);
      const out = path.join(s.outDir, 'gone');
      const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
      assert.equal(manifest.exported, 4);
      assert.equal(manifest.metricsError, result.metricsError);
      assert.equal(manifest.metrics.dialogues, 4);
      assert.equal(
        fs.readFileSync(path.join(out, 'data/part-00000.jsonl'), 'utf8').trim().split('\n').length,
        4,
      );
      assert.ok(fs.readFileSync(path.join(out, 'report.html'), 'utf8').includes('The model was retired'));
      assert.ok(fs.readFileSync(path.join(out, 'README.md'), 'utf8').includes('The model was retired'));
      assert.equal(result.export.reportUri, pathToFileURL(path.join(out, 'report.html')).href);
    });

    it('an embedding request that hangs is abandoned at its deadline and tried again, not the whole metrics pass', async () => {
      const abandoned = s.fake.abandoned.length;
      const result = await runOpened(
        'model-metrics-hang',
        datasetInput('hang', {
          llmCallTimeoutSeconds: 3,
          metrics: { embeddings: { endpoint: 'fake', model: 'fake-embed' } },
        }),
        () => s.fake.failNextEmbedding({ status: 0, hang: true }),
      );
      assert.equal(result.metricsError, undefined);
      assert.equal(result.metrics?.embeddedQuestions, 8, 'all 4 dialogues × 2 questions');
      assert.equal(s.fake.abandoned.length, abandoned + 1, 'the hung request, given up at its deadline');
      // Each metrics activity ran once: neither the pass over the records nor the model metrics started over.
      const events = (await s.t.env.client.workflow.getHandle('model-metrics-hang').fetchHistory()).events!;
      const scheduled = new Map(
        events
          .filter((e) => e.activityTaskScheduledEventAttributes)
          .map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes!.activityType!.name!]),
      );
      const attempts = events
        .filter((e) => e.activityTaskStartedEventAttributes)
        .map((e) => ({
          type: scheduled.get(String(e.activityTaskStartedEventAttributes!.scheduledEventId)),
          attempt: e.activityTaskStartedEventAttributes!.attempt,
        }))
        .filter((a) => a.type === 'computeMetrics' || a.type === 'computeModelMetrics');
      assert.deepEqual(attempts, [
        { type: 'computeMetrics', attempt: 1 },
        { type: 'computeModelMetrics', attempt: 1 },
      ]);
    });

    it('fails at once, naming the field, when a metrics endpoint is unknown to the workers', async () => {
      const result = runDataset(
        s.t,
        'model-metrics-unknown',
        fakeDatasetInput(path.join(s.outDir, 'bad'), {
          count: 1,
          turns: 1,
          metrics: { embeddings: { endpoint: 'nowhere', model: 'x' } },
        }),
      );
      await assert.rejects(result, (err: Error) =>
        /metrics\.embeddings\.endpoint: unknown endpoint 'nowhere'/.test(
          String((err as { cause?: { cause?: Error } }).cause?.cause?.message ?? err.message),
        ),
      );
    });
  });
});

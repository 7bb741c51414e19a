// Batch mode when things go wrong, against the FAKE server's Batches API: expired lines asked
// again in a later batch; a line that keeps failing, or fails for good, fails only its dialogue
// with the provider's error; a batch rejected at validation fails the dataset naming its line and
// field; cancelling the dataset cancels its provider batch; pausing holds new batches back; and
// a resume after failures pays only for the failed dialogues.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { generateDataset, pauseUpdate, progressQuery, unpauseUpdate } from '../src/workflows';
import type { DatasetProgress } from '../src/workflows/dataset';
import { FAKE_MODEL } from './helpers/fake-openai-server';
import { useFakeLlmSuite } from './helpers/fake-llm-suite';

describe('batch mode failures and controls (FAKE batch API)', () => {
  // `smallq`: the same fake, declaring a batch queue of 40 prompt tokens (one group's requests).
  const s = useFakeLlmSuite('batch-failures', {
    endpointEnv: (url) => ({
      PARROT_ENDPOINT_SMALLQ_URL: url,
      PARROT_ENDPOINT_SMALLQ_BATCH_MAX_ENQUEUED_TOKENS: '40',
    }),
  });
  const { t, outDir } = s;

  const input = (name: string, extra: Record<string, unknown> = {}, batch: Record<string, unknown> = {}) => ({
    count: 4,
    turns: 2,
    dialoguesPerWorkflow: 2,
    output: pathToFileURL(path.join(outDir, name)).href,
    ask: { endpoint: 'fake', model: FAKE_MODEL },
    answer: { endpoint: 'fake', model: FAKE_MODEL, batch: { fillSeconds: 30, pollSeconds: 1, ...batch } },
    ...extra,
  });
  const start = (workflowId: string, args: ReturnType<typeof input>) =>
    t.env.client.workflow.start(generateDataset, { taskQueue: t.taskQueue, workflowId, args: [args] });
  const ofRun = (runId: string) =>
    [...s.fake.batch.submitted.keys()].filter((id) => id.startsWith(`${runId}:`));

  async function until(
    handle: WorkflowHandle,
    ok: (p: DatasetProgress) => boolean,
  ): Promise<DatasetProgress> {
    for (let i = 0; i < 600; i++) {
      const p = await handle.query(progressQuery).catch(() => undefined);
      if (p && ok(p)) return p;
      await new Promise((r) => setTimeout(r, 100));
    }
    const last = await handle.query(progressQuery).catch(() => undefined);
    throw new Error(`the dataset never got there: ${JSON.stringify(last?.batches)}`);
  }

  it('asks expired lines again in a later batch, and every dialogue completes', async () => {
    s.fake.batch.expireNext(2);
    const handle = await start('batch-expired', input('expired'));
    const result = await handle.result();
    assert.equal(result.completed, 4);
    assert.equal(result.failedCount, 0);
    const ids = ofRun(handle.firstExecutionRunId);
    assert.equal(ids.filter((id) => id.endsWith(':answer:2')).length, 2, 'two requests asked a second time');
    assert.equal(ids.length, result.usage.answer.calls + 2);
    assert.equal(s.fake.batch.duplicates(), 0);
  });

  it('fails only the dialogue whose line fails for good, or past maxTries, with the provider error', async () => {
    s.fake.batch.failNext(1, 400, 'this request is malformed');
    const bad = await start('batch-line-400', input('line-400')).then((h) => h.result());
    assert.equal(bad.completed, 3);
    assert.match(
      bad.failed[0].error,
      /fake: HTTP 400: this request is malformed \(turn 1 answer, 1 try in batches\)/,
    );

    s.fake.batch.expireNext(1);
    const expired = await start('batch-max-tries', input('max-tries', {}, { maxTries: 1 })).then((h) =>
      h.result(),
    );
    assert.equal(expired.completed, 3);
    assert.match(expired.failed[0].error, /fake: batch_expired: .*completion window expired/);
  });

  it('a batch rejected at validation fails the dataset, naming the line and field, and stops its groups and batchers', async () => {
    s.fake.batch.rejectNext('body.messages', 'messages must not be empty');
    const handle = await start('batch-rejected', input('rejected'));
    await assert.rejects(handle.result(), (err) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.ok(err.cause instanceof ApplicationFailure);
      assert.equal(err.cause.type, 'BatchRejected');
      assert.match(
        err.cause.message,
        new RegExp(
          `fake: answer batch batch_\\w+ rejected at validation: line 1 \\(custom_id ${handle.firstExecutionRunId}:\\d+:1:answer:1\\), field body\\.messages: messages must not be empty`,
        ),
      );
      return true;
    });
    await noneRunning('batch-rejected');
  });

  it('cancelling the dataset cancels its batch at the provider, also from a later run than the one that started its batcher', async () => {
    s.fake.batch.holdMs = 60_000;
    try {
      // A run continued as new no longer holds the batcher as its child: it cancels it by ID.
      const handle = await start(
        'batch-cancel',
        input('cancel', { dialoguesPerWorkflow: 1, maxEventsPerRun: 100 }),
      );
      const p = await until(handle, (x) => x.batches[0]?.inFlight.length > 0 && x.runs > 1);
      const batchId = p.batches[0].inFlight[0].id;
      await handle.cancel();
      await assert.rejects(
        handle.result(),
        (err) => err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure,
      );
      await noneRunning('batch-cancel');
      assert.ok(s.fake.batch.cancelRequested.includes(batchId));
      assert.equal(s.fake.batch.api.batches.get(batchId)!.status, 'cancelled');
    } finally {
      s.fake.batch.holdMs = 0;
    }
  });

  it('paused, it submits no new batch; unpaused, it goes on', async () => {
    s.fake.batch.holdMs = 3_000; // the pause comes while the first round is in flight
    const handle = await start('batch-pause', input('pause'));
    await until(handle, (x) => x.batches[0]?.rounds === 1);
    await handle.executeUpdate(pauseUpdate);
    s.fake.batch.holdMs = 0;
    // The first round's answers come back; the second round's requests wait at the batcher.
    const held = await until(handle, (x) => x.batches[0]?.queued > 0);
    assert.equal(held.batches[0].rounds, 1);
    assert.equal(held.batches[0].paused, true);
    await new Promise((r) => setTimeout(r, 2_000));
    assert.equal((await handle.query(progressQuery)).batches[0].rounds, 1);
    await handle.executeUpdate(unpauseUpdate);
    const result = await handle.result();
    assert.equal(result.completed, 4);
  });

  it('a batch refused for the queue limit is said to be, and goes again once there is room', async () => {
    s.fake.batch.refuseForQuotaNext();
    const handle = await start('batch-quota', input('quota'));
    const p = await until(handle, (x) => /refused for quota/.test(x.batches[0]?.note ?? ''));
    assert.match(
      p.batches[0].note!,
      /answer batch batch_\w+ refused for quota \(token_limit_exceeded: Enqueued token limit reached .*\): submitting again when a batch in flight finishes, or in 1 s/,
    );
    const result = await handle.result();
    assert.equal(result.completed, 4);
    assert.equal(s.fake.batch.duplicates(), 0);
    // The refused batch ran nothing: its requests were submitted once, in the next.
    assert.equal(ofRun(handle.firstExecutionRunId).length, result.usage.answer.calls);
  });

  it('holds the batches in flight under a declared queue limit: a round goes as one batch after another', async () => {
    s.fake.batch.holdMs = 300;
    try {
      const args = input('queue-limit', { count: 4, dialoguesPerWorkflow: 2 });
      const handle = await start('batch-queue-limit', {
        ...args,
        answer: { ...args.answer, endpoint: 'smallq' },
      });
      let most = 0;
      for (let done = false; !done; await new Promise((r) => setTimeout(r, 50))) {
        const p = await handle.query(progressQuery).catch(() => undefined);
        most = Math.max(most, p?.batches[0]?.inFlight.length ?? 0);
        done = (await handle.describe()).status.name !== 'RUNNING';
      }
      const result = await handle.result();
      assert.equal(result.completed, 4);
      assert.equal(most, 1, 'two batches were in flight at once');
      // Two groups, two turns: each turn's requests split in two batches, one after the other.
      const manifest = JSON.parse(fs.readFileSync(new URL(result.export.manifestUri), 'utf8'));
      assert.equal(manifest.batches[0].batches, 4);
      assert.equal(ofRun(handle.firstExecutionRunId).length, 8);
      assert.equal(s.fake.batch.duplicates(), 0);
    } finally {
      s.fake.batch.holdMs = 0;
    }
  });

  it('a resume after failures pays only for the failed dialogues', async () => {
    s.fake.batch.failNext(1, 401, 'key revoked');
    const first = await start('batch-resume-a', input('resume')).then((h) => h.result());
    assert.equal(first.failedCount, 1);
    const handle = await start('batch-resume-b', input('resume', { resumeFrom: 'batch-resume-a' }));
    const second = await handle.result();
    assert.equal(second.completed, 4);
    assert.equal(second.reused, 3);
    // Two turns of one dialogue: two answers, each submitted once.
    assert.equal(ofRun(handle.firstExecutionRunId).length, 2);
    assert.equal(second.usage.answer.calls - first.usage.answer.calls, 2);
  });

  async function noneRunning(datasetId: string) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { count } = await t.env.client.workflow.count(
        `ParrotDataset="${datasetId}" AND ExecutionStatus="Running"`,
      );
      if (count === 0) return;
      assert.ok(Date.now() < deadline, `${count} workflows of ${datasetId} still run`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
});

// Resume: a dataset whose dialogues failed is started again with `resumeFrom`; only the failed
// and missing dialogues run again, and the export holds every dialogue once.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import type { DatasetInputJson } from '../src/config/dataset-input';
import { useFakeLlmSuite } from './helpers/fake-llm-suite';
import { progressWhen } from './helpers/progress';
import { runDataset, runningGroups, startDataset } from './helpers/temporal';
import { fakeDatasetInput } from './helpers/inputs';

const execFileAsync = promisify(execFile);

describe('resuming a dataset (fake LLM server)', () => {
  const s = useFakeLlmSuite('resume');
  const { t, outDir } = s;

  const input = (extra: Partial<DatasetInputJson> = {}): DatasetInputJson =>
    fakeDatasetInput(outDir, { count: 6, turns: 2, concurrency: 1, ...extra });
  const run = (workflowId: string, args: DatasetInputJson) => runDataset(t, workflowId, args);

  it('redoes only the failed dialogues and exports every dialogue exactly once', async () => {
    // The provider rejects the first two dialogues' first calls for good (401).
    s.fake.failNext({ status: 401, message: 'key revoked' }, 2);
    const first = await run('resume-a', input());
    assert.equal(first.completed, 4);
    assert.deepEqual(
      first.failed.map((f) => f.index),
      [0, 1],
    );
    assert.equal(first.export.exported, 4);

    const requestsBefore = s.fake.requests.length;
    // The resume also asks for the chat format: it covers the dialogues of both runs.
    const second = await run(
      'resume-b',
      input({ resumeFrom: 'resume-a', exportFormats: ['sharegpt', 'openai'] }),
    );
    assert.equal(second.completed, 6);
    assert.equal(second.reused, 4);
    assert.equal(second.failedCount, 0);
    // Two dialogues of 2 turns: 2 answers + 1 question each, and nothing else.
    assert.equal(s.fake.requests.length - requestsBefore, 6);

    const manifest = JSON.parse(fs.readFileSync(path.join(outDir, 'manifest.json'), 'utf8'));
    assert.equal(manifest.datasetId, 'resume-b');
    assert.deepEqual(manifest.resumed, ['resume-a']);
    assert.equal(manifest.exported, 6);
    assert.equal(manifest.missing.count, 0);
    const rows = fs
      .readFileSync(path.join(outDir, 'data/part-00000.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const ids = ['resume-b/0', 'resume-b/1', 'resume-a/2', 'resume-a/3', 'resume-a/4', 'resume-a/5'];
    assert.deepEqual(
      rows.map((r) => r.id),
      ids,
    );
    const chatRows = fs
      .readFileSync(path.join(outDir, 'data/openai/part-00000.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; messages: unknown[] });
    assert.deepEqual(
      chatRows.map((r) => [r.id, r.messages.length]),
      ids.map((id) => [id, 4]),
      'two rounds each, in the openai shards too',
    );
    // Usage counts the whole dataset: 6 dialogues × 2 answers.
    assert.equal(second.usage.answer.calls, 12);
  });

  it('refuses to resume a dataset that still runs, and stops the groups a terminated one left running', async () => {
    const out = pathToFileURL(path.join(outDir, 'fence')).href;
    s.fake.failNext({ status: 0, hang: true }); // dialogue 0's first call never returns
    const first = await startDataset(
      t,
      'fence-a',
      input({
        output: out,
        turns: 1,
        concurrency: 2,
        dialoguesPerWorkflow: 1,
        llmCallTimeoutSeconds: 3600,
      }),
    );
    await progressWhen(first, (p) => p.completed >= 5, { what: '5 dialogues of fence-a to complete' });

    await assert.rejects(
      run('fence-b', input({ output: out, turns: 1, resumeFrom: 'fence-a' })),
      (err: unknown) => {
        const failure =
          err instanceof WorkflowFailedError && err.cause instanceof ActivityFailure
            ? err.cause.cause
            : undefined;
        assert.ok(failure instanceof ApplicationFailure && failure.nonRetryable);
        assert.match(failure.message, /resumeFrom: dataset 'fence-a' is still running/);
        return true;
      },
    );

    // Starting it again by hand is refused without suggesting a resume, which would be refused too.
    const file = path.join(outDir, 'fence-input.json');
    fs.writeFileSync(file, JSON.stringify(input({ output: out })));
    const cli = await execFileAsync(
      process.execPath,
      [
        '--require',
        'tsx/cjs',
        path.join(__dirname, '../src/cli/start.ts'),
        file,
        '--workflow-id',
        'fence-a',
        '--task-queue',
        t.taskQueue,
      ],
      {
        env: { ...process.env, TEMPORAL_ADDRESS: t.env.address },
      },
    ).then(
      () => assert.fail('start succeeded'),
      (err: { code: number; stderr: string }) => err,
    );
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /a dataset with ID 'fence-a' is still running/);
    assert.doesNotMatch(cli.stderr, /resume it/);

    // Terminated, the dataset leaves its hung group running; resuming it cancels that group first.
    await first.terminate('by hand, in a test');
    assert.equal(await runningGroups(t.env.client, 'fence-a'), 1);
    const resumed = await run('fence-c', input({ output: out, turns: 1, resumeFrom: 'fence-a' }));
    assert.equal(resumed.completed, 6);
    assert.equal(resumed.reused, 5);
    assert.equal(await runningGroups(t.env.client, 'fence-a'), 0);
  });

  it("refuses a dataset on another's output, and one started again under the same workflow ID, unless it resumes it", async () => {
    const dir = path.join(outDir, 'owned');
    const out = pathToFileURL(dir).href;
    const first = await run('owned-a', input({ output: out, count: 3, turns: 1 }));
    assert.equal(first.export.exported, 3);
    const requestsBefore = s.fake.requests.length;
    const refused = (message: RegExp) => (err: unknown) => {
      const failure =
        err instanceof WorkflowFailedError && err.cause instanceof ActivityFailure
          ? err.cause.cause
          : undefined;
      assert.ok(failure instanceof ApplicationFailure && failure.nonRetryable, String(err));
      assert.equal(failure.type, 'OutputInUse');
      assert.match(failure.message, message);
      return true;
    };
    await assert.rejects(
      run('owned-b', input({ output: out, count: 3, turns: 1 })),
      refused(
        new RegExp(
          `^output: ${out} holds dataset 'owned-a', .*set resumeFrom: 'owned-a'; to start a separate dataset, give it another output`,
        ),
      ),
    );
    await assert.rejects(
      run('owned-a', input({ output: out, count: 3, turns: 1 })),
      refused(
        /holds an earlier dataset with this workflow ID, 'owned-a' \(first run [-0-9a-f]+\).*resumeFrom: 'owned-a'/,
      ),
    );
    assert.equal(s.fake.requests.length, requestsBefore, 'neither ran a dialogue');
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    assert.equal(manifest.datasetId, 'owned-a', "the owner's export is untouched");

    // Resuming itself, the workflow ID started again counts what its earlier dataset stored.
    const again = await run('owned-a', input({ output: out, count: 4, turns: 1, resumeFrom: 'owned-a' }));
    assert.equal(again.reused, 3);
    assert.equal(again.completed, 4);
    assert.equal(s.fake.requests.length - requestsBefore, 1, 'only dialogue 3 ran');
  });

  it('fails at once, naming resumeFrom, when the earlier dataset is unknown at that output', async () => {
    await assert.rejects(run('resume-c', input({ resumeFrom: 'never-ran' })), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ActivityFailure);
      const failure = err.cause.cause;
      assert.ok(failure instanceof ApplicationFailure && failure.nonRetryable);
      assert.match(failure.message, /resumeFrom: no dataset 'never-ran'/);
      return true;
    });
  });
});

// Whoever can start a workflow picks `seeds` and `output`; the worker lets them reach only its
// allowed roots (PARROT_ALLOWED_ROOTS, src/config/allowed-roots.ts). Here the worker's one root is
// a folder of the test's own; the refused output is another of its folders, so that code without
// the check would write nowhere it matters.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { AllowedRoots } from '../src/config/allowed-roots';
import { generateDialogue } from '../src/workflows';
import { useFakeLlmSuite } from './helpers/fake-llm-suite';
import { fakeDatasetInput, fakeDialogueInput } from './helpers/inputs';
import { runDataset } from './helpers/temporal';

/** The workflow's failure is the activity's non-retryable refusal, naming the field and the setting. */
const refusal = (field: string, uri: string) => (err: unknown) => {
  assert.ok(err instanceof WorkflowFailedError, String(err));
  const failure = err.cause instanceof ActivityFailure ? err.cause.cause : err.cause;
  assert.ok(failure instanceof ApplicationFailure, `cause: ${String(failure)}`);
  assert.equal(failure.type, 'OutsideAllowedRoots');
  assert.equal(failure.nonRetryable, true);
  assert.match(failure.message, new RegExp(`^${field}: ${uri.replace(/[.*/]/g, '\\$&')} is outside`));
  assert.match(failure.message, /PARROT_ALLOWED_ROOTS/);
  return true;
};

describe('allowed roots (fake LLM server)', () => {
  const allowed = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-allowed-'));
  const s = useFakeLlmSuite('roots', { deps: { roots: AllowedRoots.parse(pathToFileURL(allowed).href) } });
  after(() => fs.rmSync(allowed, { recursive: true, force: true }));
  const input = (name: string) => fakeDatasetInput(path.join(allowed, name), { count: 2, turns: 2 });
  const run = (workflowId: string, args: Record<string, unknown>) => runDataset(s.t, workflowId, args);

  it("refuses the worker's environment as seeds, at once, before any call is paid", async () => {
    const before = s.fake.requests.length;
    await assert.rejects(
      run('roots-environ', { ...input('environ'), seeds: 'file:///proc/self/environ' }),
      refusal('seeds', 'file:///proc/self/environ'),
    );
    await assert.rejects(
      run('roots-dots', {
        ...input('dots'),
        seeds: `${pathToFileURL(s.outDir).href}/../../proc/self/environ`,
      }),
      refusal('seeds', `${pathToFileURL(s.outDir).href}/../../proc/self/environ`),
    );
    assert.equal(s.fake.requests.length, before, 'no request reached the provider');
    assert.equal(fs.existsSync(path.join(s.outDir, 'environ')), false, 'nothing was written');
  });

  it('refuses an output outside the roots before writing anything', async () => {
    const outside = pathToFileURL(path.join(s.outDir, 'outside')).href;
    await assert.rejects(run('roots-output', { ...input('x'), output: outside }), refusal('output', outside));
    assert.equal(fs.existsSync(path.join(s.outDir, 'outside')), false);
  });

  it('holds for a dialogue workflow started on its own, which picks its seed itself', async () => {
    await assert.rejects(
      s.t.env.client.workflow.execute(generateDialogue, {
        taskQueue: s.t.taskQueue,
        workflowId: 'roots-dialogue',
        args: [
          fakeDialogueInput(path.join(allowed, 'dialogue'), {
            datasetId: 'roots-dialogue',
            index: 0,
            turns: 2,
            seeds: 'file:///proc/self/environ',
          }),
        ],
      }),
      refusal('seeds', 'file:///proc/self/environ'),
    );
  });

  it('runs a dataset whose seeds and output lie under a root', async () => {
    const seeds = path.join(allowed, 'seeds.txt');
    fs.writeFileSync(seeds, 'What is a root?\nWhy allow-list folders?\n');
    const result = await run('roots-ok', { ...input('ok'), seeds: pathToFileURL(seeds).href });
    assert.equal(result.completed, 2);
  });
});

// The progress of a dialogue a group hands on to its next run: stored, loaded by the same
// dataset only, and removed once the dialogue itself is stored.
import { TEST_ROOTS } from '../helpers/roots';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createDatasetStorageActivities } from '../../src/activities/dataset-storage';
import { createDialogueProgressActivities } from '../../src/activities/dialogue-progress';
import { newDialogueState } from '../../src/workflows/dialogue';
import type { DialogueState } from '../../src/types';
import { testRecord } from '../helpers/dialogue-records';

describe('dialogue progress (handed on between runs of a group)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-progress-'));
  const output = pathToFileURL(dir).href;
  // The refusals below are expected: the worker's log of a failed activity is left out.
  const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
  const progress = createDialogueProgressActivities(TEST_ROOTS);
  const owner = { output, datasetId: 'ds', datasetRunId: 'run-1' };
  const state: DialogueState = {
    ...newDialogueState({ index: 7, turns: 3 }),
    status: 'handed-on',
    conversations: [
      { from: 'human', value: 'seed?' },
      { from: 'gpt', value: 'an answer', tokens: 2 },
    ],
    rejectedTries: 1,
  };
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('loads what was stored, for the same dataset run only', async () => {
    await env.run(() => progress.saveDialogueProgress({ ...owner, state }));
    assert.deepEqual(await env.run(() => progress.loadDialogueProgress({ ...owner, index: 7 })), state);
    await assert.rejects(
      env.run(() => progress.loadDialogueProgress({ ...owner, datasetRunId: 'run-2', index: 7 })),
      /progress\/00000007\.json holds dialogue 7 of dataset ds \(run run-1\), not of ds \(run run-2\)/,
    );
    await assert.rejects(
      env.run(() => progress.loadDialogueProgress({ ...owner, index: 8 })),
      /the progress its group stored for dialogue 8 is gone from .*progress\/00000008\.json/,
    );
  });

  it('is removed when the dialogue is stored', async () => {
    await env.run(() => progress.saveDialogueProgress({ ...owner, state }));
    const record = testRecord(7, { datasetId: 'ds', conversations: state.conversations });
    await env.run(() =>
      createDatasetStorageActivities(TEST_ROOTS).storeDialogue({ output, record, dropProgress: true }),
    );
    assert.deepEqual(fs.readdirSync(path.join(dir, 'progress')), []);
    assert.ok(fs.existsSync(path.join(dir, 'records', '00000007.json')));
  });
});

// Replays recorded histories against today's workflow code: a change that would break running
// workflows fails here unless it is guarded with patched().
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from './helpers/temporal';

const HISTORIES_DIR = path.join(__dirname, 'fixtures/histories');
// The workflow IDs the recordings ran under (test/record-histories.ts): child IDs derive from them.
const RECORDED_IDS: Record<string, string> = {
  generateDataset: 'recorded-dataset',
  generateDialogue: 'recorded-dataset/0',
};
// Every version of the workflows that may still have runs in flight keeps its recordings.
const VERSIONS = ['v1', 'v2', 'v3', 'v4', 'v5', 'v6'];
const workflowIdOf = (file: string) => RECORDED_IDS[file.replace(/-v\d+\.json$/, '')];

describe('replay of recorded workflow histories', () => {
  const files = fs.readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json'));

  it('has recorded histories of both workflows at every version', () => {
    const expected = VERSIONS.flatMap((v) => Object.keys(RECORDED_IDS).map((name) => `${name}-${v}.json`));
    assert.deepEqual(files.sort(), expected.sort());
  });

  for (const file of files) {
    it(`replays ${file} without a determinism violation`, async () => {
      const history = historyFromJSON(JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, file), 'utf8')));
      assert.ok((history.events?.length ?? 0) > 10, 'the recording holds a whole run');
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowIdOf(file));
    });
  }
});

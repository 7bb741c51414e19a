// Replays recorded histories against today's workflow code: a change that would break running
// workflows fails here unless it is guarded with patched(). The recordings (test/record-histories.ts)
// cross continue-as-new, hold a failed dialogue, and include a resumed, a cancelled and a batched
// dataset with its batcher.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from './helpers/temporal';
import type { RecordedHistory } from './record-histories';

const HISTORIES_DIR = path.join(__dirname, 'fixtures/histories');
// Every deployed version of the workflows that may still have runs in flight keeps its
// recordings. Nothing is deployed yet: v1 is the one baseline, re-recorded in place until then.
const VERSIONS = ['v1'];

describe('replay of recorded workflow histories', () => {
  for (const version of VERSIONS) {
    const index: RecordedHistory[] = JSON.parse(
      fs.readFileSync(path.join(HISTORIES_DIR, `${version}-index.json`), 'utf8'),
    );

    it(`${version}: holds a dataset across continue-as-new, a dialogue group, a resumed, a cancelled and a batched dataset`, () => {
      const names = index.map((h) => h.file);
      assert.ok(
        names.filter((f) => f.includes('recorded-a-run')).length >= 2,
        'a dataset that continued as new',
      );
      const group = index.find((h) => h.workflowType === 'generateDialogues');
      assert.ok(group, 'a dialogue group');
      const events =
        historyFromJSON(JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, group.file), 'utf8'))).events ??
        [];
      assert.ok(
        events.some((e) => e.activityTaskFailedEventAttributes),
        'the group holds a failed LLM call (its dialogue failed)',
      );
      assert.ok(
        names.some((f) => f.includes('recorded-b')),
        'a dataset that resumed it',
      );
      const cancelled = index.find((h) => h.workflowId === 'recorded-c');
      assert.ok(cancelled, 'a cancelled dataset');
      const cancelledEvents =
        historyFromJSON(JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, cancelled.file), 'utf8')))
          .events ?? [];
      assert.ok(
        cancelledEvents.some((e) => e.workflowExecutionCancelRequestedEventAttributes),
        'its history holds the cancel request',
      );
      assert.ok(
        index.some((h) => h.workflowType === 'runBatcher'),
        'a batcher of a dataset whose answers went through a batch API',
      );
    });

    for (const h of index) {
      it(`${version}: replays ${h.file} without a determinism violation`, async () => {
        const history = historyFromJSON(
          JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, h.file), 'utf8')),
        );
        assert.ok((history.events?.length ?? 0) > 10, 'the recording holds a whole run');
        await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, h.workflowId);
      });
    }
  }
});

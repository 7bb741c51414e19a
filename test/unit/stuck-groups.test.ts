// Stuck groups: which are marked and unmarked, when most of them mean a bad deploy, and the
// parrot_stuck_groups gauge summed over the datasets on a worker.
import assert from 'node:assert/strict';
import { noopMetricMeter, type MetricMeter } from '@temporalio/common';
import { StuckGroups } from '../../src/workflows/stuck-groups';
import { STUCK_GROUPS_METRIC, StuckGroupsGauge } from '../../src/telemetry/stuck-groups';

const inFlight = (n: number) =>
  new Map(Array.from({ length: n }, (_, i) => [`d/${i}`, new Set([i, i + 100])]));

describe('stuck groups', () => {
  it('marks the groups found stuck, keeps when they were first found, and unmarks those that recovered', () => {
    const groups = inFlight(6);
    const stuck = new StuckGroups();
    stuck.update(['d/0', 'd/1', 'd/2'], [{ id: 'd/1', reason: 'stuck: x'.padEnd(1000, '!') }], groups);
    assert.deepEqual(
      stuck.list().map((g) => g.id),
      ['d/1'],
    );
    const since = stuck.list()[0].since;
    assert.ok(stuck.list()[0].reason.length <= 200, 'a long failure is shortened');
    stuck.update(
      ['d/0', 'd/1', 'd/2'],
      [
        { id: 'd/1', reason: 'stuck: y' },
        { id: 'd/2', reason: 'stuck: z' },
        { id: 'gone', reason: 'stuck: no longer in flight' },
      ],
      groups,
    );
    assert.deepEqual(
      stuck.list().map((g) => [g.id, g.since === since]),
      [
        ['d/1', true],
        ['d/2', true],
      ],
    );
    stuck.update(['d/1', 'd/2'], [{ id: 'd/2', reason: 'stuck: z' }], groups); // d/1 recovered
    assert.deepEqual(
      stuck.list().map((g) => g.id),
      ['d/2'],
    );
    stuck.unmark('d/2');
    assert.equal(stuck.progress(groups), null);
  });

  it('suspects a bad deploy when more than half of the groups in flight are stuck, at least 2', () => {
    const progressWith = (stuckCount: number, groupCount: number) => {
      const groups = inFlight(groupCount);
      const stuck = new StuckGroups();
      const ids = [...groups.keys()].slice(0, stuckCount);
      stuck.update(
        ids,
        ids.map((id) => ({ id, reason: 'stuck' })),
        groups,
      );
      return stuck.progress(groups)!;
    };
    assert.equal(progressWith(1, 1).badDeploy, false, 'one group alone is not a deploy');
    assert.equal(progressWith(2, 4).badDeploy, false, 'half is not most');
    const bad = progressWith(3, 4);
    assert.equal(bad.badDeploy, true);
    assert.equal(bad.dialogues, 6);
    assert.match(bad.message, /^bad deploy\? 3 of 4 groups stuck \(6 dialogues\).*"force": true/);
    assert.match(progressWith(1, 4).message, /^1 of 4 groups stuck \(2 dialogues\).*giveUpStuckGroups/);
    assert.equal(progressWith(20, 20).sample.length, 5);
  });
});

describe('the parrot_stuck_groups gauge', () => {
  function gaugeAt(clock: { now: number }) {
    const values: number[] = [];
    const meter: MetricMeter = {
      createCounter: (...args) => noopMetricMeter.createCounter(...args),
      createHistogram: (...args) => noopMetricMeter.createHistogram(...args),
      createGauge: (name, ...rest) => {
        assert.equal(name, STUCK_GROUPS_METRIC);
        return { ...noopMetricMeter.createGauge(name, ...rest), set: (v: number) => void values.push(v) };
      },
      withTags: () => meter,
    };
    return { gauge: new StuckGroupsGauge(meter, () => clock.now), values };
  }

  it('sums the latest count of each dataset, and drops a count not renewed in time', () => {
    const clock = { now: 0 };
    const { gauge, values } = gaugeAt(clock);
    gauge.report('a', 3, 10);
    gauge.report('b', 2, 10);
    gauge.report('a', 1, 10); // a's latest count replaces its earlier one
    assert.deepEqual(values, [3, 5, 3]);
    clock.now = 5_000;
    gauge.report('b', 2, 10);
    clock.now = 10_000; // a not renewed for its 10 s
    gauge.refresh();
    assert.equal(values.at(-1), 2);
    gauge.report('b', 0, 10);
    assert.equal(values.at(-1), 0);
  });
});

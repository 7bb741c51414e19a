// Bad dataset input fails the workflow at once, non-retryably, with an error naming the field.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { parseDatasetInput } from '../src/config/dataset-input';
import { loadEndpointRegistry } from '../src/config/endpoints';
import { generateDataset } from '../src/workflows';
import { turnsFor } from '../src/workflows/dataset';
import { storageRetryBudgetSeconds, untilBudget } from '../src/workflows/retry-budget';
import { useTemporalWorker } from './helpers/temporal';

const valid = {
  count: 2, turns: 2, output: 's3://parrot/x',
  ask: { endpoint: 'local', model: 'm' }, answer: { endpoint: 'local', model: 'm' },
};

describe('dataset input validation', () => {
  describe('parseDatasetInput', () => {
    it('fills defaults for a valid input', () => {
      const input = parseDatasetInput(valid);
      assert.deepEqual({ seeds: input.seeds, concurrency: input.concurrency, mode: input.ask.mode }, { seeds: 'builtin', concurrency: 'auto', mode: 'prompted' });
    });
    it('lists every bad field at once, by path', () => {
      assert.throws(
        () => parseDatasetInput({ ...valid, count: 0, turns: { min: 5, max: 2 }, ask: { ...valid.ask, temprature: 1 }, colour: 'red', license: 'Apache 2.0' }),
        (err: Error) => {
          assert.match(err.message, /count: .*>=1/);
          assert.match(err.message, /turns: min must not exceed max/);
          assert.match(err.message, /ask\.temprature: unknown field/);
          assert.match(err.message, /colour: unknown field/);
          assert.match(err.message, /license: must be a Hugging Face license id/);
          return true;
        },
      );
    });
    it('takes concurrency as "auto" or a number, naming the field otherwise', () => {
      assert.equal(parseDatasetInput({ ...valid, concurrency: 500 }).concurrency, 500);
      assert.throws(() => parseDatasetInput({ ...valid, concurrency: 'fast' }), /concurrency: must be "auto" or a number of dialogues/);
      assert.throws(() => parseDatasetInput({ ...valid, dialoguesPerWorkflow: 0 }), /dialoguesPerWorkflow: .*>=1/);
    });
    it('takes a storage retry budget of 10 s to 7 days, 6 h by default, and never shorter than the LLM budget', () => {
      assert.equal(parseDatasetInput(valid).storageRetryBudgetSeconds, 21_600);
      assert.throws(() => parseDatasetInput({ ...valid, storageRetryBudgetSeconds: 5 }), /storageRetryBudgetSeconds: .*>=10/);
      assert.throws(() => parseDatasetInput({ ...valid, storageRetryBudgetSeconds: 1.5 }), /storageRetryBudgetSeconds: .*int/);
      assert.equal(storageRetryBudgetSeconds(parseDatasetInput({ ...valid, storageRetryBudgetSeconds: 60 })), 3_600, 'the LLM budget (default 1 h) when longer');
      assert.equal(storageRetryBudgetSeconds(parseDatasetInput({ ...valid, llmRetryBudgetSeconds: 30, storageRetryBudgetSeconds: 60 })), 60);
      assert.deepEqual(untilBudget(21_600), { scheduleToCloseTimeout: 21_600_000, retry: { initialInterval: 1_000, backoffCoefficient: 2, maximumInterval: 60_000 } });
      assert.deepEqual(untilBudget(30), { scheduleToCloseTimeout: 30_000, retry: { initialInterval: 500, backoffCoefficient: 2, maximumInterval: 500 } });
    });
  });

  it('draws turn counts from a histogram, by weight, repeatably', () => {
    const input = parseDatasetInput({ ...valid, turns: { histogram: { '2': 1, '8': 3 } }, randomSeed: 5 });
    const draws = Array.from({ length: 4000 }, (_, i) => turnsFor(input, i));
    assert.deepEqual([...new Set(draws)].sort((a, b) => a - b), [2, 8]);
    const eights = draws.filter((d) => d === 8).length / draws.length;
    assert.ok(Math.abs(eights - 0.75) < 0.03, `share of 8: ${eights}`);
    assert.deepEqual(draws.slice(0, 20), Array.from({ length: 20 }, (_, i) => turnsFor(input, i)));
  });

  describe('generateDataset on a Temporal server', () => {
    const t = useTemporalWorker(() => ({ endpoints: loadEndpointRegistry({}) }));

    const cases: [string, unknown, RegExp][] = [
      ['missing count', { ...valid, count: undefined }, /count: required/],
      ['negative turns', { ...valid, turns: -2 }, /turns: .*>=1/],
      ['a turns histogram with no positive weight', { ...valid, turns: { histogram: { '3': 0 } } }, /turns.histogram: needs at least one positive weight/],
      ['a turns histogram key that is no turn count', { ...valid, turns: { histogram: { '0': 1 } } }, /turns.histogram.*keys are turn counts/],
      ['a bad output URI', { ...valid, output: 'http://example.com/out' }, /output: must be s3:\/\/bucket\/prefix or file:\/\/\/absolute\/path/],
      ['an unknown endpoint', { ...valid, answer: { endpoint: 'nowhere', model: 'm' } }, /answer\.endpoint: unknown endpoint 'nowhere'/],
    ];
    cases.forEach(([name, input, expected], i) => {
      it(`rejects ${name}, naming the field`, async () => {
        const started = Date.now();
        await assert.rejects(t.env.client.workflow.execute(generateDataset, { taskQueue: t.taskQueue, workflowId: `bad-input-${i}`, args: [input] }), (err: unknown) => {
          assert.ok(err instanceof WorkflowFailedError);
          const failure = err.cause instanceof ActivityFailure ? err.cause.cause : err.cause;
          assert.ok(failure instanceof ApplicationFailure, `cause: ${String(failure)}`);
          assert.equal(failure.nonRetryable, true);
          assert.equal(failure.type, 'InvalidInput');
          assert.match(failure.message, expected);
          return true;
        });
        assert.ok(Date.now() - started < 15_000, 'bad input must fail fast, not after retries');
      });
    });
  });
});

describe('npm run start (the CLI checks the same schema before starting)', () => {
  const run = (args: string[]) =>
    spawnSync(process.execPath, ['--require', 'tsx/cjs', path.join(__dirname, '../src/cli/start.ts'), ...args], { encoding: 'utf8', env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' } });

  it('lists every bad field and exits 2 without contacting the server', () => {
    const file = path.join(os.tmpdir(), `parrot-bad-input-${process.pid}.json`);
    fs.writeFileSync(file, JSON.stringify({ ...valid, count: 0, ask: { endpoint: 'local' }, extra: true }));
    const r = run([file]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /3 problem\(s\)/);
    assert.match(r.stderr, /count: Too small/);
    assert.match(r.stderr, /ask\.model: required/);
    assert.match(r.stderr, /extra: unknown field/);
  });

  it('says clearly when the server cannot be reached', () => {
    const file = path.join(os.tmpdir(), `parrot-good-input-${process.pid}.json`);
    fs.writeFileSync(file, JSON.stringify(valid));
    const r = run([file]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot reach the Temporal server at 127\.0\.0\.1:1 \(TEMPORAL_ADDRESS\)/);
  });
});

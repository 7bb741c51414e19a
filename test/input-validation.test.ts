// Bad dataset input fails the workflow at once, non-retryably, with an error naming the field.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { loadEndpointRegistry } from '../src/config/endpoints';
import { runDataset, useTemporalWorker } from './helpers/temporal';
import { TEST_ROOTS } from './helpers/roots';
import { minimalDatasetInput } from './helpers/inputs';

const valid = minimalDatasetInput();

describe('dataset input validation', () => {
  describe('generateDataset on a Temporal server', () => {
    const t = useTemporalWorker(() => ({ endpoints: loadEndpointRegistry({}), roots: TEST_ROOTS }));

    const cases: [string, unknown, RegExp][] = [
      ['missing count', { ...valid, count: undefined }, /count: required/],
      ['negative turns', { ...valid, turns: -2 }, /turns: .*>=1/],
      [
        'a turns histogram with no positive weight',
        { ...valid, turns: { histogram: { '3': 0 } } },
        /turns.histogram: needs at least one positive weight/,
      ],
      [
        'a turns histogram key that is no turn count',
        { ...valid, turns: { histogram: { '0': 1 } } },
        /turns.histogram.*keys are turn counts/,
      ],
      [
        'a bad output URI',
        { ...valid, output: 'http://example.com/out' },
        /output: must be s3:\/\/bucket\/prefix or file:\/\/\/absolute\/path/,
      ],
      [
        'an unknown endpoint',
        { ...valid, answer: { endpoint: 'nowhere', model: 'm' } },
        /answer\.endpoint: unknown endpoint 'nowhere'/,
      ],
    ];
    cases.forEach(([name, input, expected], i) => {
      it(`rejects ${name}, naming the field`, async () => {
        const started = Date.now();
        await assert.rejects(runDataset(t, `bad-input-${i}`, input), (err: unknown) => {
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
    spawnSync(
      process.execPath,
      ['--require', 'tsx/cjs', path.join(__dirname, '../src/cli/start.ts'), ...args],
      { encoding: 'utf8', env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' } },
    );

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

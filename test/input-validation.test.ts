// Bad dataset input fails the workflow at once, non-retryably, with an error naming the field.
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { parseDatasetInput } from '../src/config/dataset-input';
import { loadEndpointRegistry } from '../src/config/endpoints';
import { generateDataset } from '../src/workflows';
import { useTemporalWorker } from './helpers/temporal';

const valid = {
  count: 2, turns: 2, output: 's3://parrot/x',
  ask: { endpoint: 'local', model: 'm' }, answer: { endpoint: 'local', model: 'm' },
};

describe('dataset input validation', () => {
  describe('parseDatasetInput', () => {
    it('fills defaults for a valid input', () => {
      const input = parseDatasetInput(valid);
      assert.deepEqual({ seeds: input.seeds, concurrency: input.concurrency, mode: input.ask.mode }, { seeds: 'builtin', concurrency: 8, mode: 'prompted' });
    });
    it('lists every bad field at once, by path', () => {
      assert.throws(
        () => parseDatasetInput({ ...valid, count: 0, turns: { min: 5, max: 2 }, ask: { ...valid.ask, temprature: 1 }, colour: 'red' }),
        (err: Error) => {
          assert.match(err.message, /count: .*>=1/);
          assert.match(err.message, /turns: min must not exceed max/);
          assert.match(err.message, /ask\.temprature: unknown field/);
          assert.match(err.message, /colour: unknown field/);
          return true;
        },
      );
    });
    it('refuses a continue-as-new threshold too small for the dialogues in flight', () => {
      assert.throws(() => parseDatasetInput({ ...valid, concurrency: 100, maxEventsPerRun: 200 }), /maxEventsPerRun: must leave room/);
    });
  });

  describe('generateDataset on a Temporal server', () => {
    const t = useTemporalWorker(() => ({ endpoints: loadEndpointRegistry({}) }));

    const cases: [string, unknown, RegExp][] = [
      ['missing count', { ...valid, count: undefined }, /count: required/],
      ['negative turns', { ...valid, turns: -2 }, /turns: .*>=1/],
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

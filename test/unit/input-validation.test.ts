// The dataset input schema: defaults, and every bad field named (the workflow and the CLI
// rejecting bad input: test/input-validation.test.ts).
import assert from 'node:assert/strict';
import { parseDatasetInput } from '../../src/config/dataset-input';
import { turnsFor } from '../../src/planning/turns';
import { storageRetryBudgetSeconds, untilBudget } from '../../src/workflows/activity-options';
import { minimalDatasetInput } from '../helpers/inputs';

const valid = minimalDatasetInput();

describe('dataset input validation', () => {
  describe('parseDatasetInput', () => {
    it('fills defaults for a valid input', () => {
      const input = parseDatasetInput(valid);
      assert.deepEqual(
        { seeds: input.seeds, concurrency: input.concurrency, mode: input.ask.mode },
        { seeds: 'builtin', concurrency: 'auto', mode: 'prompted' },
      );
    });
    it('lists every bad field at once, by path', () => {
      assert.throws(
        () =>
          parseDatasetInput({
            ...valid,
            count: 0,
            turns: { min: 5, max: 2 },
            ask: { ...valid.ask, temprature: 1 },
            colour: 'red',
            license: 'Apache 2.0',
          }),
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
      assert.throws(
        () => parseDatasetInput({ ...valid, concurrency: 'fast' }),
        /concurrency: must be "auto" or a number of dialogues/,
      );
      assert.throws(
        () => parseDatasetInput({ ...valid, dialoguesPerWorkflow: 0 }),
        /dialoguesPerWorkflow: .*>=1/,
      );
    });
    it('takes exportFormats as a non-empty list of distinct known formats, naming the field otherwise', () => {
      assert.deepEqual(parseDatasetInput(valid).exportFormats, ['sharegpt'], 'the default');
      assert.deepEqual(parseDatasetInput({ ...valid, exportFormats: ['openai', 'sharegpt'] }).exportFormats, [
        'openai',
        'sharegpt',
      ]);
      const rejects = (exportFormats: unknown, message: RegExp) =>
        assert.throws(() => parseDatasetInput({ ...valid, exportFormats }), message);
      rejects([], /exportFormats: must name at least one format/);
      rejects(
        ['sharegpt', 'alpaca'],
        /exportFormats\.1: "alpaca" is not a format: use "sharegpt" or "openai"/,
      );
      rejects(['openai', 'sharegpt', 'openai'], /exportFormats: lists "openai" more than once/);
      rejects('openai', /exportFormats: must be a list of formats/);
    });
    it('takes a budget of maxCostUsd and/or maxTokens, naming the field otherwise', () => {
      assert.deepEqual(parseDatasetInput({ ...valid, budget: { maxCostUsd: 2.5 } }).budget, {
        maxCostUsd: 2.5,
      });
      const rejects = (budget: unknown, message: RegExp) =>
        assert.throws(() => parseDatasetInput({ ...valid, budget }), message);
      rejects({}, /budget: must set maxCostUsd or maxTokens \(or both\)/);
      rejects({ maxCostUsd: 0 }, /budget\.maxCostUsd: .*>0/);
      rejects({ maxTokens: 1.5 }, /budget\.maxTokens: .*expected int/);
      rejects({ maxDollars: 5 }, /budget\.maxDollars: unknown field/);
    });
    it('takes a storage retry budget of 10 s to 7 days, 6 h by default, and never shorter than the LLM budget', () => {
      assert.equal(parseDatasetInput(valid).storageRetryBudgetSeconds, 21_600);
      assert.throws(
        () => parseDatasetInput({ ...valid, storageRetryBudgetSeconds: 5 }),
        /storageRetryBudgetSeconds: .*>=10/,
      );
      assert.throws(
        () => parseDatasetInput({ ...valid, storageRetryBudgetSeconds: 1.5 }),
        /storageRetryBudgetSeconds: .*int/,
      );
      assert.equal(
        storageRetryBudgetSeconds(parseDatasetInput({ ...valid, storageRetryBudgetSeconds: 60 })),
        3_600,
        'the LLM budget (default 1 h) when longer',
      );
      assert.equal(
        storageRetryBudgetSeconds(
          parseDatasetInput({ ...valid, llmRetryBudgetSeconds: 30, storageRetryBudgetSeconds: 60 }),
        ),
        60,
      );
      assert.deepEqual(untilBudget(21_600), {
        scheduleToCloseTimeout: 21_600_000,
        retry: { initialInterval: 1_000, backoffCoefficient: 2, maximumInterval: 60_000 },
      });
      assert.deepEqual(untilBudget(30), {
        scheduleToCloseTimeout: 30_000,
        retry: { initialInterval: 500, backoffCoefficient: 2, maximumInterval: 500 },
      });
    });
  });

  it('draws turn counts from a histogram, by weight, repeatably', () => {
    const input = parseDatasetInput({ ...valid, turns: { histogram: { '2': 1, '8': 3 } }, randomSeed: 5 });
    const draws = Array.from({ length: 4000 }, (_, i) => turnsFor(input, i));
    assert.deepEqual(
      [...new Set(draws)].sort((a, b) => a - b),
      [2, 8],
    );
    const eights = draws.filter((d) => d === 8).length / draws.length;
    assert.ok(Math.abs(eights - 0.75) < 0.03, `share of 8: ${eights}`);
    assert.deepEqual(
      draws.slice(0, 20),
      Array.from({ length: 20 }, (_, i) => turnsFor(input, i)),
    );
  });
});

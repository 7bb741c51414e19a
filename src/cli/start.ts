// `npm run start -- <input.json> [--workflow-id ID] [--task-queue parrot] [--check] [--estimate]`
// Checks a dataset input against the same schema the workflow uses, listing every bad field,
// and starts it (unless --check). `temporal workflow start --input-file` works too; this
// catches mistakes before anything reaches the server.
// --estimate: prints the calls, tokens, cost and wall time the input would take, and starts
// nothing (no server needed); it reads the seeds and this machine's endpoint configuration
// (src/estimate/dataset-estimate.ts lists what it assumes). --estimate-sample N first sends the
// first round of N dialogues to the real endpoints (paid calls) to measure latency and lengths.
// A role through a batch API is priced at the batch price, and its rounds and their wall time
// shown (--estimate-batch-turnaround-minutes: a round's typical turnaround).
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { DatasetInputError, parseDatasetInput, type DatasetInput } from '../config/dataset-input';
import { DEFAULT_TASK_QUEUE } from '../config/task-queues';
import { connectClient } from './connection';
import { loadEndpointRegistry } from '../config/endpoints';
import {
  DEFAULT_LATENCY_MS,
  DEFAULT_ORCHESTRATION_CALLS_PER_SECOND,
  estimateDataset,
  formatEstimate,
} from '../estimate/dataset-estimate';
import { sampleCalls } from '../estimate/sample-calls';
import { DEFAULT_BATCH_TURNAROUND_MINUTES } from '../estimate/batch-estimate';
import { firstSeeds } from '../seeds/seed-source';
import { formatUsd } from '../usage';

const USAGE =
  'usage: npm run start -- <input.json> [--workflow-id ID] [--task-queue Q] [--check]\n' +
  `       npm run start -- <input.json> --estimate [--estimate-latency-ms ${DEFAULT_LATENCY_MS}]\n` +
  `         [--estimate-calls-per-second ${DEFAULT_ORCHESTRATION_CALLS_PER_SECOND}]\n` +
  '         [--estimate-question-tokens N] [--estimate-answer-tokens N] [--estimate-seed-sample 10000]\n' +
  `         [--estimate-batch-turnaround-minutes ${DEFAULT_BATCH_TURNAROUND_MINUTES}]\n` +
  "         [--estimate-sample N  (N dialogues' first round sent to the endpoints: paid calls)]";

/** `--name` as a number > 0 (an integer if `int`), or undefined when absent. */
function positive(values: Record<string, unknown>, name: string, int = false): number | undefined {
  const raw = values[name] as string | undefined;
  if (raw === undefined) return undefined;
  const x = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(x) || x <= 0 || (int && !Number.isInteger(x)))
    throw new Error(`--${name} must be a positive ${int ? 'integer' : 'number'}, got '${raw}'\n${USAGE}`);
  return x;
}

function parseStartArgs() {
  return parseArgs({
    args: process.argv.slice(2),
    strict: true,
    allowPositionals: true,
    options: {
      'workflow-id': { type: 'string' },
      'task-queue': { type: 'string', default: process.env.PARROT_TASK_QUEUE ?? DEFAULT_TASK_QUEUE },
      check: { type: 'boolean', default: false },
      estimate: { type: 'boolean', default: false },
      'estimate-latency-ms': { type: 'string' },
      'estimate-calls-per-second': { type: 'string' },
      'estimate-question-tokens': { type: 'string' },
      'estimate-answer-tokens': { type: 'string' },
      'estimate-seed-sample': { type: 'string' },
      'estimate-sample': { type: 'string' },
      'estimate-batch-turnaround-minutes': { type: 'string' },
    },
  });
}

type StartOptions = ReturnType<typeof parseStartArgs>['values'];

/**
 * The input file as JSON (`raw`, what the workflow is started with) and as checked by the
 * workflow's own schema; undefined once every problem has been listed on stderr.
 */
function readInput(file: string): { raw: unknown; input: DatasetInput } | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: cannot read it as JSON: ${(err as Error).message}`, { cause: err });
  }
  try {
    return { raw, input: parseDatasetInput(raw) };
  } catch (err) {
    if (!(err instanceof DatasetInputError)) throw err;
    console.error(
      `${file}: ${err.problems.length} problem(s):\n${err.problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    return undefined;
  }
}

/** --estimate: what the input would take, from the seeds and this machine's endpoints; starts nothing. */
async function printEstimate(file: string, input: DatasetInput, values: StartOptions): Promise<void> {
  const sample = positive(values, 'estimate-seed-sample', true) ?? 10_000;
  const { seeds, complete } = await firstSeeds(input.seeds, sample);
  const endpoints = loadEndpointRegistry();
  const sampleDialogues = positive(values, 'estimate-sample', true);
  const measured =
    sampleDialogues === undefined ? undefined : await sampleCalls(input, endpoints, seeds, sampleDialogues);
  if (measured) {
    const { calls, promptTokens, completionTokens, costUsd, unpricedCalls } = measured.usage;
    console.log(
      `${file}: sampled ${sampleDialogues} first rounds: ${calls} calls, ${promptTokens + completionTokens} tokens` +
        (costUsd !== undefined ? `, ${formatUsd(costUsd)}` : '') +
        (unpricedCalls ? `, ${unpricedCalls} calls unpriced` : ''),
    );
  }
  const estimate = estimateDataset(
    input,
    endpoints,
    { meanChars: seeds.reduce((n, q) => n + q.length, 0) / seeds.length, sampled: seeds.length, complete },
    {
      latencyMs: positive(values, 'estimate-latency-ms'),
      callsPerSecond: positive(values, 'estimate-calls-per-second'),
      questionTokens: positive(values, 'estimate-question-tokens', true),
      answerTokens: positive(values, 'estimate-answer-tokens', true),
      batchTurnaroundMinutes: positive(values, 'estimate-batch-turnaround-minutes'),
      measured,
    },
  );
  console.log(`${file}: estimate (nothing started)\n${formatEstimate(estimate)}`);
}

/** Starts `generateDataset` with the input as written (the workflow applies the schema's defaults). */
async function startDataset(raw: unknown, values: StartOptions): Promise<void> {
  const client = await connectClient();
  const workflowId =
    values['workflow-id'] ?? `dataset-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}`;
  try {
    await client.workflow.start('generateDataset', {
      taskQueue: values['task-queue'],
      workflowId,
      args: [raw],
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new Error(
        `a dataset with ID '${workflowId}' is still running: watch it (npm run progress -- ${workflowId}), cancel it, or pick another --workflow-id. "resumeFrom" takes it once it has closed`,
        { cause: err },
      );
    }
    throw err;
  }
  console.log(
    `started ${workflowId}\n  watch: npm run progress -- ${workflowId}\n  UI:    http://localhost:8233/namespaces/${client.options.namespace}/workflows/${encodeURIComponent(workflowId)}`,
  );
}

/** The exit code: 0 done, 2 the input has problems (listed); a thrown error exits 1. */
async function main(): Promise<number> {
  const { values, positionals } = parseStartArgs();
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new Error(USAGE);
  const read = readInput(file);
  if (!read) return 2;
  if (values.estimate) {
    await printEstimate(file, read.input, values);
  } else if (values.check) {
    console.log(`${file}: valid`);
  } else {
    await startDataset(read.raw, values);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`parrot start: ${(err as Error).message}`);
    process.exit(1);
  },
);

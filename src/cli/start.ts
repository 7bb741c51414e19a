// `npm run start -- <input.json> [--workflow-id ID] [--task-queue parrot] [--check]`
// Checks a dataset input against the same schema the workflow uses, listing every bad field,
// and starts it (unless --check). `temporal workflow start --input-file` works too; this
// catches mistakes before anything reaches the server.
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { DatasetInputError, parseDatasetInput } from '../config/dataset-input';
import { DEFAULT_TASK_QUEUE } from '../config/task-queues';
import { connectClient } from './connection';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    allowPositionals: true,
    options: {
      'workflow-id': { type: 'string' },
      'task-queue': { type: 'string', default: process.env.PARROT_TASK_QUEUE ?? DEFAULT_TASK_QUEUE },
      check: { type: 'boolean', default: false },
    },
  });
  const file = positionals[0];
  if (!file || positionals.length > 1)
    throw new Error('usage: npm run start -- <input.json> [--workflow-id ID] [--task-queue Q] [--check]');
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: cannot read it as JSON: ${(err as Error).message}`, { cause: err });
  }
  try {
    parseDatasetInput(raw);
  } catch (err) {
    if (!(err instanceof DatasetInputError)) throw err;
    console.error(
      `${file}: ${err.problems.length} problem(s):\n${err.problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    return 2;
  }
  if (values.check) {
    console.log(`${file}: valid`);
    return 0;
  }
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
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`parrot start: ${(err as Error).message}`);
    process.exit(1);
  },
);

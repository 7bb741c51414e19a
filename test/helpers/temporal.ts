// A real Temporal dev server (the CLI that infra/install.sh builds) and workers for the tests.
import fs from 'node:fs';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  type Worker,
  type WorkerOptions,
  type WorkflowBundleOption,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import type { ActivityDeps } from '../../src/activities';
import { generateDataset } from '../../src/workflows';
import { createParrotWorkers, runWorkers, type ParrotWorkersOptions } from '../../src/workers';
import { PARROT_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';
import { requireTool, TEMPORAL_BIN } from './tools';

export const WORKFLOWS_PATH = require.resolve('../../src/workflows');

/**
 * A dev server with parrot's search attributes: the global fixture's, or a suite's own.
 * `dynamicConfig` sets server limits (e.g. `limit.historySize.error`) for a suite's own server.
 */
export function startTemporal(dynamicConfig: Record<string, number> = {}): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: requireTool(TEMPORAL_BIN) },
      searchAttributes: PARROT_SEARCH_ATTRIBUTES,
      extraArgs: Object.entries(dynamicConfig).flatMap(([k, v]) => ['--dynamic-config-value', `${k}=${v}`]),
    },
  });
}

const bundles = new Map<string, Promise<WorkflowBundleOption>>();
/** Where the global fixture wrote the run's workflow bundle (test/global-fixtures.ts). */
export const SHARED_BUNDLE = 'PARROT_TEST_WORKFLOW_BUNDLE';

/**
 * The workflows bundled: the one bundle the global fixture wrote for the whole run, or else one
 * per test process (and failure converter: an encrypting data converter's is bundled in,
 * src/codec/aes-gcm-codec.ts). Each worker reuses it.
 */
export function workflowBundle(failureConverterPath?: string): Promise<WorkflowBundleOption> {
  const shared = process.env[SHARED_BUNDLE];
  if (shared && !failureConverterPath) return Promise.resolve({ codePath: shared });
  let bundle = bundles.get(failureConverterPath ?? '');
  if (!bundle) {
    bundle = bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      failureConverterPath,
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
    });
    bundles.set(failureConverterPath ?? '', bundle);
  }
  return bundle;
}

/** Bundles the workflows into `file` (the global fixture's, once for every test process). */
export async function writeWorkflowBundle(file: string): Promise<void> {
  const { code } = (await workflowBundle()) as WorkflowBundleWithSourceMap;
  await fs.promises.writeFile(file, code);
}

let queues = 0;

/**
 * `workflows` replaces the shared bundle (a test that adds workflow interceptors, say);
 * `taskQueue` the fresh one (a test that replaces a worker by another, say).
 */
export type TestWorkerOptions = Partial<
  Pick<ParrotWorkersOptions, 'dataConverter' | 'workflows' | 'tuning' | 'metricMeter' | 'taskQueue'>
>;

/** The workers a parrot process runs (src/workers.ts), on a fresh task queue, as one runnable. */
export async function createTestWorker(
  env: TestWorkflowEnvironment,
  deps: ActivityDeps,
  options: TestWorkerOptions = {},
) {
  const taskQueue = options.taskQueue ?? `test-${process.pid}-${++queues}`;
  // Teardown need not wait out calls a test left hanging (test/worker-deploy.test.ts tests the grace).
  const tuning: Partial<WorkerOptions> = { shutdownGraceTime: '1 second', ...options.tuning };
  const workflows = options.workflows ?? {
    workflowBundle: await workflowBundle(options.dataConverter?.failureConverterPath),
  };
  const workers = await createParrotWorkers({
    connection: env.nativeConnection,
    taskQueue,
    deps,
    ...options,
    workflows,
    tuning,
  });
  const worker = {
    run: () => runWorkers(workers),
    shutdown: () => workers.forEach((w) => w.getState() === 'RUNNING' && w.shutdown()),
    runUntil: <R>(fn: () => Promise<R>) => runWorkersUntil(workers, fn),
  };
  return { worker, taskQueue };
}

/** Runs the workers while `fn` runs, then shuts them down and waits for them. */
export async function runWorkersUntil<R>(workers: Worker[], fn: () => Promise<R>): Promise<R> {
  const running = runWorkers(workers);
  try {
    return await fn();
  } finally {
    workers.forEach((w) => w.getState() === 'RUNNING' && w.shutdown());
    await running;
  }
}

export interface TemporalTestContext {
  env: TestWorkflowEnvironment;
  taskQueue: string;
}

/**
 * Registers mocha hooks that start a worker on its own task queue before the suite, and stop it
 * after, on the dev server the global fixture shares (test/global-fixtures.ts). `deps` is called
 * in the hook, after earlier `before` hooks (a fake LLM server, say) have run.
 */
export function useTemporalWorker(
  deps: () => ActivityDeps,
  options: TestWorkerOptions = {},
): TemporalTestContext {
  const ctx = {} as TemporalTestContext;
  let worker: Awaited<ReturnType<typeof createTestWorker>>['worker'] | undefined;
  let running: Promise<void> | undefined;
  before(async () => {
    // Required here, not imported: the fixture imports this module.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    ctx.env = await (require('../global-fixtures') as typeof import('../global-fixtures')).testTemporal();
    ({ worker, taskQueue: ctx.taskQueue } = await createTestWorker(ctx.env, deps(), options));
    running = worker.run().catch((err) => {
      console.error('test worker failed:', err);
    });
  });
  after(async () => {
    worker?.shutdown();
    await running;
  });
  return ctx;
}

/** Starts a dataset on the suite's worker (`run`: and waits for its result); `input` may be bad on purpose. */
export function startDataset(t: TemporalTestContext, workflowId: string, input: unknown) {
  return t.env.client.workflow.start(generateDataset, { taskQueue: t.taskQueue, workflowId, args: [input] });
}

export function runDataset(t: TemporalTestContext, workflowId: string, input: unknown) {
  return t.env.client.workflow.execute(generateDataset, {
    taskQueue: t.taskQueue,
    workflowId,
    args: [input],
  });
}

/** The IDs of the workflows a visibility query lists. */
export async function workflowIds(client: Client, query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of client.workflow.list({ query })) ids.push(wf.workflowId);
  return ids;
}

/** Dialogue groups of a dataset that the server lists as running. */
export async function runningGroups(client: Client, datasetId: string): Promise<number> {
  return (
    await client.workflow.count(
      `ParrotDataset="${datasetId}" AND ExecutionStatus="Running" AND WorkflowType="generateDialogues"`,
    )
  ).count;
}

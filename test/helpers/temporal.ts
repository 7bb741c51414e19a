// A real Temporal dev server (the CLI that infra/install.sh builds) and workers for the tests.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../src/activities';
import { PARROT_DATASET, PARROT_PHASE } from '../../src/workflows/search-attributes';
import { requireTool, TEMPORAL_BIN } from './tools';

export const WORKFLOWS_PATH = require.resolve('../../src/workflows');

export function startTemporal(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: requireTool(TEMPORAL_BIN) },
      searchAttributes: [PARROT_DATASET, PARROT_PHASE],
    },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Bundles the workflows once per test process: each worker reuses the bundle. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error } });
  return bundle;
}

let queues = 0;

export async function createTestWorker(env: TestWorkflowEnvironment, deps: ActivityDeps) {
  const taskQueue = `test-${process.pid}-${++queues}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities(deps),
  });
  return { worker, taskQueue };
}

export interface TemporalTestContext {
  env: TestWorkflowEnvironment;
  taskQueue: string;
}

/**
 * Registers mocha hooks that start a dev server and a worker on its own task queue before the
 * suite, and stop both after. `deps` is called in the hook, after earlier `before` hooks (a
 * fake LLM server, say) have run.
 */
export function useTemporalWorker(deps: () => ActivityDeps): TemporalTestContext {
  const ctx = {} as TemporalTestContext;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  before(async () => {
    ctx.env = await startTemporal();
    ({ worker, taskQueue: ctx.taskQueue } = await createTestWorker(ctx.env, deps()));
    running = worker.run();
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await ctx.env?.teardown();
  });
  return ctx;
}

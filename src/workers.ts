// The workers one parrot process runs: the main one (workflows and every activity) and, for each
// endpoint with a request limit, one that runs only the LLM steps on that endpoint's own task
// queue. Every process polls those queues with the same `maxTaskQueueActivitiesPerSecond`, so
// the Temporal server dispatches at most the limit across all workers together. Each process also
// counts the processes polling its task queue, and takes its share of the endpoints' declared
// tokens a minute and requests at once (src/providers/endpoint-flow.ts).
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import type { MetricMeter, WorkerDeploymentVersion } from '@temporalio/common';
import { createActivities, type ActivityDeps } from './activities';
import { llmTaskQueue, requestsPerSecond } from './config/task-queues';
import { versioningOptions } from './config/worker-deployment';
import { LlmMetrics } from './telemetry/llm-metrics';
import { BatchMetrics } from './telemetry/batch-metrics';
import { StuckGroupsGauge } from './telemetry/stuck-groups';
import { LlmProvider } from './providers/openai-provider';

export interface ParrotWorkersOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** Either a path to the workflows or a prebuilt bundle (tests share one). */
  workflows: Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle'>;
  tuning?: Partial<WorkerOptions>;
  /** With the payload codec when PARROT_PAYLOAD_KEY is set (src/codec). */
  dataConverter?: WorkerOptions['dataConverter'];
  /** The deployment version these workers belong to (src/config/worker-deployment.ts); none: unversioned. */
  deployment?: WorkerDeploymentVersion;
  /** For every worker of the process: OpenTelemetry tracing, when configured (src/telemetry/tracing.ts). */
  plugins?: WorkerOptions['plugins'];
  /** Where parrot's worker metrics go; absent: the runtime's meter (src/telemetry/runtime.ts). */
  metricMeter?: MetricMeter;
}

/**
 * Activity slots per worker: LLM calls wait on the network, not the CPU, so a worker keeps
 * thousands open (PARROT_MAX_CONCURRENT_ACTIVITIES overrides it); each endpoint's requests are
 * held by its own limits (src/providers).
 */
export const DEFAULT_ACTIVITY_SLOTS = 4_000;

/**
 * How long a worker told to stop (SIGTERM, SIGINT: a deploy) keeps running its activities before
 * cancelling them: an LLM call's default timeout (llmCallTimeoutSeconds), so the calls in flight
 * finish and their paid work is kept (PARROT_SHUTDOWN_GRACE_SECONDS overrides it). It polls for no
 * new tasks meanwhile.
 */
export const DEFAULT_SHUTDOWN_GRACE = '10 minutes';

export async function createParrotWorkers({
  connection,
  namespace,
  taskQueue,
  deps,
  workflows,
  tuning,
  dataConverter,
  deployment,
  plugins,
  metricMeter = Runtime.instance().metricMeter,
}: ParrotWorkersOptions): Promise<Worker[]> {
  // On the runtime's meter: the Prometheus endpoint when PARROT_METRICS_BIND is set, else a no-op.
  const provider = deps.provider ?? new LlmProvider();
  const activities = createActivities({
    llmMetrics: new LlmMetrics(metricMeter),
    batchMetrics: new BatchMetrics(metricMeter),
    ...deps,
    provider,
  });
  const slots = tuning?.maxConcurrentActivityTaskExecutions ?? DEFAULT_ACTIVITY_SLOTS;
  const shutdownGraceTime = tuning?.shutdownGraceTime ?? DEFAULT_SHUTDOWN_GRACE;
  const versioning = versioningOptions(deployment); // all of a process's queues belong to its version
  const main = await Worker.create({
    connection,
    namespace,
    taskQueue,
    ...workflows,
    activities,
    dataConverter,
    plugins,
    sinks: new StuckGroupsGauge(metricMeter).sinks(),
    ...tuning,
    ...versioning,
    maxConcurrentActivityTaskExecutions: slots,
    shutdownGraceTime,
  });
  const limited = [...deps.endpoints.values()].filter((e) => e.rpm);
  const llmWorkers = await Promise.all(
    limited.map((e) =>
      Worker.create({
        connection,
        namespace,
        taskQueue: llmTaskQueue(taskQueue, e.name),
        dataConverter,
        plugins,
        ...versioning,
        // eslint-disable-next-line @typescript-eslint/unbound-method -- closures over deps; no `this`
        activities: { ask: activities.ask, answer: activities.answer },
        maxTaskQueueActivitiesPerSecond: requestsPerSecond(e.rpm!),
        maxConcurrentActivityTaskExecutions: slots,
        shutdownGraceTime,
      }),
    ),
  );
  countWorkers(connection, namespace ?? 'default', taskQueue, provider, main);
  return [main, ...llmWorkers];
}

/** How often a process counts the processes polling its task queue. */
const COUNT_WORKERS_EVERY_MS = 10_000;
/** temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY */
const ACTIVITY_TASK_QUEUE = 2;

/**
 * Every process polls the main task queue for activities: the distinct identities the server has
 * seen polling it are the processes sharing the endpoints, each taking its share of their
 * declared limits. Counted shortly after start, then every 10 s, while `main` runs.
 */
function countWorkers(
  connection: NativeConnection,
  namespace: string,
  taskQueue: string,
  provider: LlmProvider,
  main: Worker,
) {
  const count = async () => {
    try {
      const { pollers } = await connection.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: taskQueue },
        taskQueueType: ACTIVITY_TASK_QUEUE,
      });
      const workers = new Set(pollers?.map((p) => p.identity)).size;
      if (workers > 0) provider.setWorkers(workers);
    } catch {
      // The server is unreachable for now: the shares stay as they were until the next count.
    }
  };
  const stopped = () => main.getState() === 'STOPPED' || main.getState() === 'FAILED';
  setTimeout(() => void (stopped() || count()), 2_000).unref();
  const timer = setInterval(() => (stopped() ? clearInterval(timer) : void count()), COUNT_WORKERS_EVERY_MS);
  timer.unref();
}

/** Runs the workers until one fails or all are shut down; a failure shuts down the rest. */
export async function runWorkers(workers: Worker[]): Promise<void> {
  try {
    await Promise.all(workers.map((w) => w.run()));
  } catch (err) {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    throw err;
  }
}

// A parrot worker: runs the dialogue and dataset workflows and their activities.
// Connection settings follow Temporal's own conventions (@temporalio/envconfig): TEMPORAL_ADDRESS,
// TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*, or a profile in TEMPORAL_CONFIG_FILE.
import { NativeConnection, Runtime, type WorkerOptions } from '@temporalio/worker';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { describeEndpoints, loadEndpointRegistry } from './config/endpoints';
import { AllowedRoots } from './config/allowed-roots';
import { createParrotWorkers, runWorkers } from './workers';
import { DEFAULT_TASK_QUEUE } from './config/task-queues';
import { dataConverterFromEnv } from './codec/aes-gcm-codec';
import { workerDeploymentFromEnv } from './config/worker-deployment';
import { metricsBindFromEnv, runtimeOptionsFromEnv } from './telemetry/runtime';
import { tracingFromEnv } from './telemetry/tracing';

async function main() {
  Runtime.install(runtimeOptionsFromEnv(process.env));
  const endpoints = loadEndpointRegistry();
  const roots = AllowedRoots.fromEnv(process.env);
  const config = loadClientConnectConfig();
  const connection = await NativeConnection.connect(config.connectionOptions);
  const taskQueue = process.env.PARROT_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;
  const deployment = workerDeploymentFromEnv(process.env);
  const tracing = tracingFromEnv(process.env);
  const workers = await createParrotWorkers({
    connection,
    namespace: config.namespace ?? 'default',
    taskQueue,
    deps: { endpoints, roots },
    workflows: { workflowsPath: require.resolve('./workflows') },
    tuning: workerTuningFromEnv(process.env),
    dataConverter: dataConverterFromEnv(),
    deployment,
    plugins: tracing && [tracing.plugin],
  });
  const version = deployment ? `, version ${deployment.deploymentName}.${deployment.buildId}` : '';
  const bind = metricsBindFromEnv(process.env);
  const metrics = bind ? `, metrics on http://${bind}/metrics` : '';
  const traces = tracing ? ', traces over OTLP' : '';
  console.log(
    `parrot worker ready on task queue '${taskQueue}'${version} (endpoints: ${describeEndpoints(endpoints)}; seeds and output under: ${roots.toString()})${metrics}${traces}`,
  );
  try {
    await runWorkers(workers);
  } finally {
    await tracing?.shutdown();
  }
  await connection.close();
}

/** Optional slot counts (PARROT_MAX_CONCURRENT_ACTIVITIES, PARROT_MAX_CONCURRENT_WORKFLOW_TASKS) and shutdown grace (PARROT_SHUTDOWN_GRACE_SECONDS). */
export function workerTuningFromEnv(env: NodeJS.ProcessEnv): Partial<WorkerOptions> {
  const read = (name: string, min: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got '${raw}'`);
    return n;
  };
  const activities = read('PARROT_MAX_CONCURRENT_ACTIVITIES', 2);
  const workflowTasks = read('PARROT_MAX_CONCURRENT_WORKFLOW_TASKS', 2);
  const graceSeconds = read('PARROT_SHUTDOWN_GRACE_SECONDS', 0);
  return {
    ...(activities && { maxConcurrentActivityTaskExecutions: activities }),
    ...(workflowTasks && { maxConcurrentWorkflowTaskExecutions: workflowTasks }),
    ...(graceSeconds !== undefined && { shutdownGraceTime: `${graceSeconds} seconds` }),
  };
}

if (require.main === module) {
  main().catch((err) => {
    console.error('parrot worker failed:', err);
    process.exit(1);
  });
}

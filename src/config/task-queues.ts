// Task queue names shared by the worker (which polls them), the CLI and the activities that route to them.

export const DEFAULT_TASK_QUEUE = 'parrot';

/**
 * LLM calls to an endpoint with a request limit go to a task queue of their own, which every
 * worker polls with the same `maxTaskQueueActivitiesPerSecond`: the Temporal server then holds
 * all workers together under the limit.
 */
export const llmTaskQueue = (baseTaskQueue: string, endpoint: string) =>
  `${baseTaskQueue}${LLM_QUEUE_INFIX}${endpoint}`;

const LLM_QUEUE_INFIX = '-llm-';

/**
 * The task queue's dispatch rate for a limit of `rpm`: a little under it, so that the server's
 * burst (about one second's worth) still fits in the provider's minute.
 */
export const requestsPerSecond = (rpm: number) => Math.max(rpm - Math.ceil(rpm / 60), 1) / 60;

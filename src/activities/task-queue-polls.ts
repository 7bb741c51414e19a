// When workers last polled a task queue for activities, from the server's DescribeTaskQueue: a
// rate-limited endpoint's own queue (src/config/task-queues.ts) that nobody polls any more
// (workers restarted without the endpoint's _RPM) holds its LLM calls until their retry budget.
// The server lists each poller with its last poll for 5 minutes after it stops; a live worker
// polls at least once a minute (a long poll ends empty after 60 s), more often when busy.
import { Context } from '@temporalio/activity';

// temporal.api.enums.v1 values (@temporalio/proto is not a dependency of its own).
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE_ACTIVITY = 2;

export interface QueuePolls {
  taskQueue: string;
  /** Seconds since a worker last polled it; null when the server lists no poller. */
  silentSeconds: number | null;
}

export async function taskQueuePolls({ taskQueues }: { taskQueues: string[] }): Promise<QueuePolls[]> {
  const { client } = Context.current();
  return Promise.all(
    taskQueues.map(async (taskQueue) => {
      const { pollers } = await client.workflowService.describeTaskQueue({
        namespace: client.options.namespace,
        taskQueue: { name: taskQueue, kind: TASK_QUEUE_KIND_NORMAL },
        taskQueueType: TASK_QUEUE_TYPE_ACTIVITY,
      });
      const last = Math.max(...pollers.map((p) => Number(p.lastAccessTime?.seconds ?? 0)));
      return { taskQueue, silentSeconds: pollers.length ? Math.max(0, Date.now() / 1000 - last) : null };
    }),
  );
}

// An endpoint with a request limit has its own task queue (src/config/task-queues.ts), fixed when
// the dataset starts. If the workers are restarted without its PARROT_ENDPOINT_<NAME>_RPM, nobody
// polls that queue: its LLM calls wait there until their retry budget (an hour by default).
//
// The dataset watches those queues while dialogues run, asking the server when a worker last
// polled each (every 30 s, or half of unpolledQueueSeconds when shorter). Once none has for
// UNPOLLED_AFTER_SECONDS (a live worker polls at least once a minute) it warns in `progress` and
// the UI; once that has lasted unpolledQueueSeconds it tells each group in flight, by signal, to
// fail the calls it has waiting on the queue and those it would send there, with an error that
// names the endpoint and the variable to set. Those dialogues fail, resumable; a group told keeps
// failing that endpoint's calls. Not a schedule-to-start timeout: calls held by a healthy queue's
// rate limit wait there too, as long as the window makes them; only the pollers tell them apart.
import { ApplicationFailure, CancellationScope, defineSignal, isCancellation } from '@temporalio/workflow';
import type { QueuePolls } from '../activities/task-queue-polls';
import type { DatasetInput } from '../config/dataset-input';

export type LlmRole = 'ask' | 'answer';

/** A queue counts as unpolled once no worker has polled it for this long (live ones poll every minute at least). */
export const UNPOLLED_AFTER_SECONDS = 90;
export const MAX_CHECK_SECONDS = 30;

/** Tells a group to fail its calls for `roles`, waiting and to come. */
export const llmQueueUnpolledSignal = defineSignal<[{ roles: LlmRole[]; error: string }]>('llmQueueUnpolled');

/** A queue nobody polls, as `progress` shows it. */
export interface UnpolledQueue {
  taskQueue: string;
  endpoint: string;
  roles: LlmRole[];
  /** Since a worker last polled it. */
  silentSeconds: number;
  /** Whether its dialogues are being failed (past unpolledQueueSeconds). */
  failing: boolean;
  message: string;
}

/** The environment variable that gives an endpoint its request limit (src/config/endpoints.ts). */
const rpmVariable = (endpoint: string) => `PARROT_ENDPOINT_${endpoint.toUpperCase().replace(/-/g, '_')}_RPM`;

interface WatchedQueue {
  taskQueue: string;
  endpoint: string;
  roles: LlmRole[];
  /** When a worker last polled it (ms), once that is UNPOLLED_AFTER_SECONDS ago or more. */
  lastPolled?: number;
  /** Groups told to fail its calls. */
  told: Set<string>;
}

/** The dataset's rate-limited endpoints' queues and what it last learned of their pollers. */
export class QueueWatch {
  readonly queues: WatchedQueue[] = [];

  constructor(llmTaskQueues: { ask?: string; answer?: string }, input: Pick<DatasetInput, 'ask' | 'answer'>) {
    for (const role of ['ask', 'answer'] as const) {
      const taskQueue = llmTaskQueues[role];
      if (!taskQueue) continue;
      const known = this.queues.find((q) => q.taskQueue === taskQueue);
      if (known) known.roles.push(role);
      else this.queues.push({ taskQueue, endpoint: input[role].endpoint, roles: [role], told: new Set() });
    }
  }

  observe(polls: QueuePolls[]) {
    const now = Date.now();
    for (const { taskQueue, silentSeconds } of polls) {
      const q = this.queues.find((w) => w.taskQueue === taskQueue);
      if (!q) continue;
      if (silentSeconds === null)
        q.lastPolled ??= now - UNPOLLED_AFTER_SECONDS * 1000; // the server forgot its pollers
      else if (silentSeconds >= UNPOLLED_AFTER_SECONDS) q.lastPolled = now - silentSeconds * 1000;
      else {
        q.lastPolled = undefined;
        q.told.clear();
      }
    }
  }

  /** Queues past unpolledQueueSeconds of being unpolled: their dialogues fail. */
  failing(boundSeconds: number): WatchedQueue[] {
    return this.queues.filter((q) => this.unpolledForMs(q) >= boundSeconds * 1000);
  }

  progress(boundSeconds: number): UnpolledQueue[] {
    return this.queues.flatMap((q) => {
      if (q.lastPolled === undefined) return [];
      const silentSeconds = Math.round((Date.now() - q.lastPolled) / 1000);
      const failing = this.unpolledForMs(q) >= boundSeconds * 1000;
      const left = Math.max(0, Math.ceil(boundSeconds - this.unpolledForMs(q) / 1000));
      const message = `no worker has polled task queue '${q.taskQueue}' of endpoint '${q.endpoint}' (${q.roles.join(', ')}) for ${silentSeconds} s: start workers with ${rpmVariable(q.endpoint)} set; ${failing ? 'the dialogues waiting on it are failed (resumable)' : `the dialogues waiting on it fail in ${left} s`}`;
      return [
        { taskQueue: q.taskQueue, endpoint: q.endpoint, roles: q.roles, silentSeconds, failing, message },
      ];
    });
  }

  /** The error of a dialogue failed for `q`. */
  error(q: WatchedQueue, boundSeconds: number): string {
    const silent = Math.round((Date.now() - (q.lastPolled ?? Date.now())) / 1000);
    return `no worker polls task queue '${q.taskQueue}' of endpoint '${q.endpoint}' (none for ${silent} s, unpolledQueueSeconds ${boundSeconds}): start workers with ${rpmVariable(q.endpoint)} set, then resume the dataset`;
  }

  private unpolledForMs(q: WatchedQueue): number {
    if (q.lastPolled === undefined) return -1;
    return Date.now() - q.lastPolled - UNPOLLED_AFTER_SECONDS * 1000;
  }
}

/** A group's LLM calls by role, so that those waiting on a queue nobody polls can be failed. */
export class LlmCallGate {
  private readonly failed = new Map<LlmRole, string>();
  private readonly waiting = new Set<{ role: LlmRole; scope: CancellationScope }>();

  /** From llmQueueUnpolledSignal: fails the calls of `roles` waiting now, and those to come. */
  fail(roles: LlmRole[], error: string) {
    for (const role of roles) this.failed.set(role, error);
    for (const w of this.waiting) if (roles.includes(w.role)) w.scope.cancel();
  }

  async call<T>(role: LlmRole, fn: () => Promise<T>): Promise<T> {
    this.throwIfFailed(role);
    const entry = { role, scope: new CancellationScope() };
    this.waiting.add(entry);
    try {
      return await entry.scope.run(fn);
    } catch (err) {
      // Cancelled by fail(), not with the group: the dialogue fails with the reason.
      if (isCancellation(err) && !CancellationScope.current().consideredCancelled) this.throwIfFailed(role);
      throw err;
    } finally {
      this.waiting.delete(entry);
    }
  }

  private throwIfFailed(role: LlmRole) {
    const error = this.failed.get(role);
    if (error !== undefined) throw ApplicationFailure.nonRetryable(error, 'EndpointUnpolled');
  }
}

// How a dataset spreads its dialogues: how many one group workflow runs, how many are in flight,
// and how many groups one parent run may hold. Pure functions: the workflow calls them.
import type { DatasetInput } from '../config/dataset-input';
import type { EndpointStatus } from '../types';

/**
 * A group's history stays under Temporal's warnings (10,240 events, 10 MB), far from its limits
 * (51,200 events, 50 MB), on the worst case of every reply at its maxTokens. 8 MiB lets a
 * group hold 34 dialogues of 8 turns, so 1,000 groups hold 34,000 in flight.
 */
const GROUP_EVENT_BUDGET = 8_000;
const GROUP_BYTE_BUDGET = 8 * 1024 * 1024;
/** ...and the group small enough that its slowest dialogue does not hold many finished ones back. */
const MAX_AUTO_GROUP = 50;
/** History events per turn: an answer, an ask (a re-ask now and then) and their workflow tasks. */
const EVENTS_PER_TURN = 12;
/** Bytes per token of text, as payloads carry it (JSON, UTF-8). */
const BYTES_PER_TOKEN = 5;

/** With nothing known of the endpoints (neither declared nor reported by a worker), `auto` keeps this many dialogues in flight. */
export const AUTO_WINDOW_UNLIMITED = 4_000;
/** Before any call has finished, Little's law assumes this latency. */
const ASSUMED_LATENCY_MS = 10_000;
/** Before dialogues have finished, in flight beyond rate × latency: dialogues spend time between calls. */
const LITTLE_HEADROOM = 2;
/** Once they have: dialogues in flight beyond what the observed service time needs. */
const SERVICE_HEADROOM = 1.2;
/** What Temporal and a worker take between two calls of a dialogue (workflow tasks, dispatch), assumed before dialogues have finished. */
const BETWEEN_CALLS_MS = 200;
/** Groups one parent run keeps in flight: far under Temporal's 2,000 pending children. */
const MAX_GROUPS_IN_FLIGHT = 1_000;

export function maxTurns(turns: DatasetInput['turns']): number {
  if (typeof turns === 'number') return turns;
  if ('histogram' in turns)
    return Math.max(
      ...Object.entries(turns.histogram)
        .filter(([, w]) => w > 0)
        .map(([k]) => Number(k)),
    );
  return turns.max;
}

/**
 * Dialogues per group: the input's `dialoguesPerWorkflow`, or as many as fit the group's history
 * budget. Every call's input carries the dialogue so far, so history bytes grow with the square of
 * the turns.
 */
export function dialoguesPerGroup(input: DatasetInput): number {
  const turns = maxTurns(input.turns);
  const tokensPerTurn = (input.ask.maxTokens ?? 256) + (input.answer.maxTokens ?? 512);
  const events = EVENTS_PER_TURN * turns + 12;
  const bytes = turns * turns * tokensPerTurn * BYTES_PER_TOKEN;
  const fits = Math.max(
    1,
    Math.min(Math.floor(GROUP_EVENT_BUDGET / events), Math.floor(GROUP_BYTE_BUDGET / bytes)),
  );
  // A number given is held to the budget too: a group past Temporal's limits would be terminated with its dialogues.
  return input.dialoguesPerWorkflow
    ? Math.min(input.dialoguesPerWorkflow, fits)
    : Math.min(MAX_AUTO_GROUP, fits);
}

/** Request limits of the endpoints, per minute, by role (from checkEndpoints). */
export interface RoleLimits {
  ask?: number;
  answer?: number;
  /** Whether ask and answer share one endpoint (and so one limit). */
  shared: boolean;
}

/** Each role's endpoint as a worker last reported it (the endpointStatus activity). */
export interface RoleStatus {
  ask?: EndpointStatus;
  answer?: EndpointStatus;
}

/** Ask and answer calls alternate: two endpoints together allow twice the slower one. */
const together = (limits: RoleLimits, perRole: (number | undefined)[]) => {
  const known = perRole.filter((x): x is number => x !== undefined);
  return known.length ? (limits.shared ? 1 : 2) * Math.min(...known) : undefined;
};

/** An endpoint's calls a second by its declared tokens a minute, once a call's tokens are known. */
const byTokens = (s?: EndpointStatus) =>
  s?.tpm && s.tokensPerCall ? s.tpm / 60 / s.tokensPerCall : undefined;

/** LLM calls per second the declared limits allow (requests, and tokens a minute), or undefined when none binds. */
export function callsPerSecondLimit(limits: RoleLimits, status: RoleStatus = {}): number | undefined {
  const role = (rpm: number | undefined, s: EndpointStatus | undefined) => {
    const rates = [rpm && rpm / 60, byTokens(s)].filter((x): x is number => !!x);
    return rates.length ? Math.min(...rates) : undefined;
  };
  return together(limits, [role(limits.ask, status.ask), role(limits.answer, status.answer)]);
}

/** A call's time at the endpoints without a queue, as the workers measured it (the slower role's); 0 before they know. */
const callTime = (status: RoleStatus) => Math.max(status.ask?.latencyMs ?? 0, status.answer?.latencyMs ?? 0);

/** Requests the endpoints serve at once: what the workers' limiters have learned, × the workers. */
export function callsInFlightLimit(limits: RoleLimits, status: RoleStatus): number | undefined {
  const served = (s?: EndpointStatus) => s && s.limit * Math.max(1, s.workers);
  return together(limits, [served(status.ask), served(status.answer)]);
}

/** What the dataset has seen of its dialogues so far (0 = nothing yet). */
export interface Observed {
  /** Mean provider time of an LLM call, from its request sent to its reply. */
  latencyMs: number;
  /** Mean time a dialogue holds a place in the window, less the time its calls waited to be sent (in a task queue, at a worker's gates, backing off). */
  dialogueServiceMs: number;
  callsPerDialogue: number;
}

/**
 * Dialogues in flight: pinned by a number; `auto` keeps what the endpoints can serve, the least
 * of: their declared rate (requests, tokens a minute) × latency, and the requests at once the
 * workers' limiters have learned (which a declared maxConcurrency bounds); each by Little's law on
 * calls, then, once dialogues have finished, on dialogues (their time in the window less what
 * their calls waited, or the window would grow with its own queue).
 */
export function windowSize(
  input: DatasetInput,
  limits: RoleLimits,
  observed: Observed,
  groupSize: number,
  maxEventsPerRun: number,
  status: RoleStatus = {},
): number {
  const cap = maxGroupsInFlight(maxEventsPerRun) * groupSize;
  if (input.concurrency !== 'auto') return Math.min(input.concurrency, cap);
  const rate = callsPerSecondLimit(limits, status);
  const inFlight = callsInFlightLimit(limits, status);
  const wanted = [
    rate !== undefined ? byRate(rate, observed) : undefined,
    inFlight !== undefined ? byConcurrency(inFlight, observed, callTime(status)) : undefined,
  ].filter((x): x is number => x !== undefined);
  if (!wanted.length) return Math.min(AUTO_WINDOW_UNLIMITED, cap);
  return Math.max(1, Math.min(cap, Math.ceil(Math.min(...wanted))));
}

/** A dialogue's time in the window over its calls' time at the endpoints (≥ 1), once known. */
function dialoguePerCallTime(o: Observed): number | undefined {
  if (!o.dialogueServiceMs || !o.callsPerDialogue || !o.latencyMs) return undefined;
  return Math.max(1, o.dialogueServiceMs / (o.callsPerDialogue * o.latencyMs));
}

/**
 * By a rate (calls a second): calls in flight = rate × latency, each dialogue having at most one;
 * and, once dialogues have finished, what their time between calls needs too. The larger: calls
 * queued behind the limit cost only latency, while too few leave the limit unused.
 */
function byRate(rate: number, o: Observed): number {
  const byCalls = rate * ((o.latencyMs || ASSUMED_LATENCY_MS) / 1000) * LITTLE_HEADROOM;
  const byDialogues =
    o.dialogueServiceMs && o.callsPerDialogue
      ? (rate / o.callsPerDialogue) * (o.dialogueServiceMs / 1000) * SERVICE_HEADROOM
      : 0;
  return Math.max(byCalls, byDialogues);
}

/**
 * By requests at once: that many calls, each dialogue having one, spread over its time in the
 * window: a dialogue's time over its calls' time once dialogues have finished; before, a call's
 * time at the endpoint (as the workers measured it) plus what Temporal and the worker take
 * between two calls of a dialogue, over the former. At least twice the requests, so that the
 * limiters always have calls waiting (they grow only while in use) and the endpoint is never left
 * idle while the window catches up with them. Against a fast endpoint (zero latency) a dialogue
 * spends most of its time between calls, and the window is many times the requests.
 */
function byConcurrency(inFlight: number, o: Observed, callMs: number): number {
  const beforeAny = callMs > 0 ? 1 + BETWEEN_CALLS_MS / callMs : 0;
  const ratio = Math.max(dialoguePerCallTime(o) ?? 0, beforeAny);
  return inFlight * Math.max(LITTLE_HEADROOM, ratio * SERVICE_HEADROOM);
}

/** History events a parent run keeps free for what arrives after it decides to continue as new. */
export const historyTailRoom = (groupsInFlight: number) => 5 * groupsInFlight + 20;

/** Groups in flight so that their late events still fit the run. */
export function maxGroupsInFlight(maxEventsPerRun: number): number {
  return Math.max(1, Math.min(MAX_GROUPS_IN_FLIGHT, Math.floor((maxEventsPerRun - 80) / 5)));
}

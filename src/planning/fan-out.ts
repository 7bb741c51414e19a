// How a dataset spreads its dialogues: how many one group workflow runs, how many are in flight,
// and how many groups one parent run may hold. Pure functions: the workflow calls them.
import type { DatasetInput } from '../config/dataset-input';
import { maxTurns } from './turns';
import { ASSUMED_QUESTION_TOKENS } from './context-room';
import type { EndpointStatus, GroupHistory } from '../types';

/**
 * A group is sized to fill at most these: 3/4 of the history size and length at which Temporal
 * suggests continue-as-new by default (4 MiB, 4,096 events; it warns at 10 MB and 10,240 events,
 * fails at 50 MB and 51,200), so that a group sized right never has to hand dialogues on.
 */
export const GROUP_HISTORY_BYTES = 3 * 1024 * 1024;
const GROUP_EVENT_BUDGET = 3_000;
/** A group is never sized below this, whatever the servers' suggestions have taught (one dialogue's turns still fit). */
const MIN_GROUP_HISTORY_BYTES = 256 * 1024;
/** A group that had to hand its dialogues on at some history size: the next are sized to this share of it. */
const HANDED_ON_SHARE = 0.75;
/** ...and the group small enough that its slowest dialogue does not hold many finished ones back. */
const MAX_AUTO_GROUP = 50;
/** History events per turn: an answer, an ask (a re-ask now and then) and their workflow tasks. */
const EVENTS_PER_TURN = 12;
/**
 * History bytes per token of dialogue text before groups have reported: JSON in UTF-8 (about 5
 * bytes a token), × 1.4 for the payload codec, which workflow code cannot see (AES-GCM over
 * base64 adds 37%).
 */
const BYTES_PER_TOKEN = 5 * 1.4;
/** Tokens assumed of an answer whose maxTokens is unset: a long reply (reasoning models give more; groups hand on what outgrows this). */
const UNSET_ANSWER_TOKENS = 2_048;
/** Per turn², the events' own bytes (IDs, timeouts, summaries): a short dialogue's history is mostly these (940 measured at 3 turns). */
const EVENT_BYTES_PER_TURN_SQUARED = 1_000;
/** How much each group's report moves the learnt bytes per turn². */
const HISTORY_LEARNING_RATE = 0.2;

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

/** What the dataset has learnt of its groups' histories (carried across continue-as-new). */
export interface HistorySizing {
  /** History bytes a dialogue adds to its group per turn² (every call carries the dialogue so far); 0 before a group reported. */
  historyBytesPerTurnSquared: number;
  /** History bytes a group is sized to fill, once a group had to hand on below GROUP_HISTORY_BYTES; 0 before. */
  groupHistoryBytes: number;
}

export const initialHistorySizing = (): HistorySizing => ({
  historyBytesPerTurnSquared: 0,
  groupHistoryBytes: 0,
});

/** History bytes a new group is sized to fill. */
export const groupHistoryBytes = (sizing: HistorySizing) => sizing.groupHistoryBytes || GROUP_HISTORY_BYTES;

/**
 * History bytes per turn² assumed before any group has reported: each turn at its maxTokens
 * (a long answer when unset), through the codec, plus the events' own bytes.
 */
export function assumedBytesPerTurnSquared(input: DatasetInput): number {
  const tokens =
    (input.ask.maxTokens ?? ASSUMED_QUESTION_TOKENS) + (input.answer.maxTokens ?? UNSET_ANSWER_TOKENS);
  return tokens * BYTES_PER_TOKEN + EVENT_BYTES_PER_TURN_SQUARED;
}

/**
 * Dialogues per group: the input's `dialoguesPerWorkflow`, or as many as fit the group's history
 * budget, from the bytes per turn² groups have reported (or, before, assumed). Every call's input
 * carries the dialogue so far, so history bytes grow with the square of the turns.
 */
export function dialoguesPerGroup(
  input: DatasetInput,
  sizing: HistorySizing = initialHistorySizing(),
): number {
  const turns = maxTurns(input.turns);
  const events = EVENTS_PER_TURN * turns + 12;
  const bytes = turns * turns * (sizing.historyBytesPerTurnSquared || assumedBytesPerTurnSquared(input));
  const fits = Math.max(
    1,
    Math.min(Math.floor(GROUP_EVENT_BUDGET / events), Math.floor(groupHistoryBytes(sizing) / bytes)),
  );
  // A number given is held to the budget too: a group past it hands dialogues on, at a cost.
  return input.dialoguesPerWorkflow
    ? Math.min(input.dialoguesPerWorkflow, fits)
    : Math.min(MAX_AUTO_GROUP, fits);
}

/**
 * What a group's report teaches: its history bytes per turn² (a moving average over reports),
 * and, when it had to hand dialogues on, the history size the server (or its own limit) allows.
 */
export function learnHistorySizing(sizing: HistorySizing, report: GroupHistory): HistorySizing {
  const measured = report.turnsSquared > 0 ? report.bytes / report.turnsSquared : 0;
  const old = sizing.historyBytesPerTurnSquared;
  const handedOnAt = report.handedOnAt;
  return {
    historyBytesPerTurnSquared:
      measured && old
        ? (1 - HISTORY_LEARNING_RATE) * old + HISTORY_LEARNING_RATE * measured
        : measured || old,
    groupHistoryBytes:
      handedOnAt === undefined
        ? sizing.groupHistoryBytes
        : Math.max(
            MIN_GROUP_HISTORY_BYTES,
            Math.min(groupHistoryBytes(sizing), Math.floor(HANDED_ON_SHARE * handedOnAt)),
          ),
  };
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

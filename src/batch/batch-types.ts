// What travels between the dialogue groups, the batcher workflow and the batch activities: small
// references and counts. The requests and results themselves live in the dataset's storage
// (./batch-layout.ts). Types only: safe to import anywhere, workflows included.
import type { Batch } from 'openai/resources/batches';
import type { AnswerSettings, AskSettings, BatchSettings } from '../config/dataset-input';
import type { BatchPlace, BatchRole, ChatMessage, LlmReply, TokenUsage } from '../types';

export type { BatchPlace, BatchRole, GroupBatchRoute } from '../types';

/** The Batch API url a role's lines name: chat for answers and prompted asks, raw completions for parrot-ask. */
export type BatchUrl = '/v1/chat/completions' | '/v1/completions';

/** How a role's calls reach its endpoint's Batch API, as the workers' configuration says (checked at the dataset's start). */
export interface BatchRoute {
  role: BatchRole;
  endpoint: string;
  url: BatchUrl;
  maxRequests: number;
  maxBytes: number;
  /** The provider's queue limit: prompt tokens in batches not yet finished. */
  maxEnqueuedTokens?: number;
}

/** One request of a group, as the stage activity gets it. */
export interface StagedCall {
  customId: string;
  dialogue: ChatMessage[];
  persona?: string;
}

export interface StageInput {
  place: BatchPlace;
  key: string;
  settings: AskSettings | AnswerSettings;
  calls: StagedCall[];
}

/** Requests a group wrote to storage for the batcher: a reference, never the requests. */
export interface PieceRef {
  key: string;
  group: string;
  count: number;
  /** Prompt tokens (estimated: characters / 4), for the provider's queue limit. */
  tokens: number;
  bytes: number;
}

/** The outcome of one request: a reply, or the provider's error and whether a later batch may succeed. */
export interface BatchOutcome {
  customId: string;
  reply?: LlmReply;
  error?: { message: string; type: string; retryable: boolean };
}

/** A provider batch's status, as the poll reads it ('missing': the provider no longer knows it). */
export type ProviderBatchStatus = Batch['status'] | 'missing';

export const isFinished = (s: ProviderBatchStatus) =>
  s === 'failed' || s === 'completed' || s === 'expired' || s === 'cancelled' || s === 'missing';

export interface PolledBatch {
  id: string;
  status: ProviderBatchStatus;
  total: number;
  completed: number;
  failed: number;
}

/** One batch in flight, as the batcher keeps it and the UI shows it. */
export interface BatchInFlight extends PolledBatch {
  seq: number;
  /** Workflow time (ms) the batch was created. */
  createdAt: number;
  tokens: number;
  /** The groups whose requests it holds. */
  groups: string[];
}

/** What a finished batch gave each group: a result file per group. */
export interface CollectedBatch {
  results: { group: string; key: string; count: number }[];
  ok: number;
  failed: number;
  usage: TokenUsage;
  /** Failed validation: the first problems, each naming its line, custom_id and field. */
  rejection?: string;
  /** Refused for the provider's queue limit: nothing ran; the pieces go back in the queue. */
  quota?: { message: string; pieces: PieceRef[] };
}

/** A batcher's view for the dataset's progress and UI. */
export interface BatcherView {
  role: BatchRole;
  endpoint: string;
  /** Submissions (several batches at once count as one round when a round exceeds a batch's limits). */
  rounds: number;
  batches: number;
  /** Requests submitted, and of them answered and failed (expired lines included) so far. */
  requests: number;
  completed: number;
  failed: number;
  /** Requests waiting to be submitted. */
  queued: number;
  inFlight: BatchInFlight[];
  paused: boolean;
  /** Why nothing is submitted (quota), if so. */
  note?: string;
}

export type { BatchSettings };

/** A batch as the progress query shows it: its age too. */
export type BatchProgress = Omit<BatchInFlight, 'groups'> & { ageSeconds: number };
export type BatcherProgress = Omit<BatcherView, 'inFlight'> & { inFlight: BatchProgress[] };

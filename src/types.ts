// Data shapes shared by workflows, activities and the CLI. Types only: safe to import anywhere.
import type {
  AnswerSettings,
  AskSettings,
  SchemaDialogueSettings,
  SchemaDialogueSettingsInput,
  DatasetInput,
  ExportFormat,
} from './config/dataset-input';
import type { SeedChunks } from './seeds/seed-chunks';
import type { SeedReport } from './seeds/seed-source';
import type { FilterHits } from './planning/filter-hits';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  calls: number;
  /**
   * USD of the calls whose endpoint declares prices (priceIn / priceOut); absent when none did.
   * A lower bound when `unpricedCalls` is set.
   */
  costUsd?: number;
  /** Calls to endpoints with no declared price: not in `costUsd` (absent: none). */
  unpricedCalls?: number;
  /** Of `calls`, those answered through a batch API, and their part of `costUsd`, at the batch price (absent: none). */
  batchCalls?: number;
  batchCostUsd?: number;
}

/** One LLM call's reply: one HTTP request to the provider. */
export interface LlmReply {
  text: string;
  usage: TokenUsage;
  /** How long the provider took (ms): the dataset sizes its window from it (Little's law). */
  ms?: number;
  /** How long the call waited before it started (ms): in a task queue, or backing off between tries. */
  waitMs?: number;
  /** ask: the question filter that rejected this question; the workflow asks again. */
  rejectedBy?: keyof FilterHits;
  /** ask: the simulated user took leave ("thanks, that's all") instead of asking. */
  userDone?: boolean;
}

/**
 * An LLM endpoint as one worker sees it (the `endpointStatus` activity): the dataset keeps in
 * flight what it can serve, and its progress shows it.
 */
export interface EndpointStatus {
  /** Requests this worker has open to it, and calls waiting at its gates (tokens, cool-down, the limit) to be sent. */
  inFlight: number;
  waiting: number;
  /** Requests this worker may keep open now: what its limiter has learned (within a declared maxConcurrency). */
  limit: number;
  /** Requests given up after they were sent (timed out, cancelled) since the worker started: work done for nothing. */
  abandoned: number;
  /** The endpoint's time without a queue (ms), as the limiter measured it; 0 before it knows. */
  latencyMs: number;
  /** Worker processes polling the dataset's task queue, each with its own gates and its share of declared limits. */
  workers: number;
  /** Declared tokens a minute (the endpoint's as a whole), and the tokens a call has used on average (0 before one has). */
  tpm?: number;
  tokensPerCall: number;
}

/** One stored dialogue, as the store activity writes it (one object per dialogue). */
export interface DialogueRecord {
  id: string;
  datasetId: string;
  /** The first run ID of the dataset that wrote it: a workflow ID used again is another dataset. */
  datasetRunId: string;
  index: number;
  seed: string;
  /** ShareGPT-style turns; `tokens` is the provider's completion count for generated text. */
  conversations: { from: 'human' | 'gpt'; value: string; tokens?: number }[];
  turns: number;
  usage: { ask: TokenUsage; answer: TokenUsage };
  models: { ask: string; answer: string };
  /** Who the simulated user was told to be (prompted mode). */
  persona?: string;
  /** Turns the dialogue was drawn to have; `turns` is how many it got. */
  targetTurns: number;
  /** Why it ended: its target, the user taking leave, or a model's context about to overflow. */
  endedBy: DialogueEnd;
  /** Questions the filters rejected in this dialogue, by filter. */
  filterHits: FilterHits;
}

/** Why a dialogue ended: its target, the user taking leave, a context about to overflow, or every try at a question rejected by the filters. */
export type DialogueEnd = 'target' | 'user-done' | 'context' | 'filtered';

/** What a dialogue reports to its dataset: small, never the dialogue text. */
export interface DialogueSummary {
  id: string;
  index: number;
  status: 'completed';
  turns: number;
  endedBy: DialogueEnd;
  usage: { ask: TokenUsage; answer: TokenUsage };
  /** Provider time of its LLM calls, summed (ms). */
  llmMs: number;
  /** Time its LLM calls waited to start, summed (ms): queued behind a rate limit, or backing off. */
  waitMs: number;
}

/** What every dialogue of a dataset shares. */
export interface DialogueSettings {
  datasetId: string;
  /** The dataset's first run ID (workflowInfo().firstExecutionRunId), stamped on its records; absent: the dialogue's own. */
  datasetRunId?: string;
  seeds: string;
  /** The dataset's normalised seeds (absent: each worker reads `seeds` whole). */
  seedChunks?: SeedChunks;
  randomSeed: number;
  output: string;
  ask: AskSettings;
  answer: AnswerSettings;
  /** Task queues of rate-limited endpoints, by role (absent: the workflow's own queue). */
  llmTaskQueues?: { ask?: string; answer?: string };
  /** Roles whose calls go through a batch API, and their batchers (absent: all online). */
  batch?: Partial<Record<'ask' | 'answer', GroupBatchRoute>>;
  /** One request's timeout, and all tries of one call together (the input's, defaulted by its schema). */
  llmCallTimeoutSeconds: number;
  llmRetryBudgetSeconds: number;
  /** All tries of one storage step together (never less than llmRetryBudgetSeconds). */
  storageRetryBudgetSeconds: number;
}

/** One dialogue of a dataset: which, how long, and who asks. */
export interface DialogueSpec {
  index: number;
  turns: number;
  /** prompted mode: who the simulated user is (absent with `personas: false` and in parrot-ask mode). */
  persona?: string;
  /** The seed question; absent: picked from `seeds` by index. */
  seed?: string;
}

/** A single dialogue as its own workflow (generateDialogue). */
/** A standalone dialogue's input: its models' settings, timeouts and budgets as the dataset schema takes them (defaults filled in). */
export type DialogueInput = Omit<DialogueSettings, keyof SchemaDialogueSettings> &
  SchemaDialogueSettingsInput &
  DialogueSpec;

export interface DatasetMetrics {
  dialogues: number;
  turnsPerDialogue: number;
  tokensPerQuestion: number;
  tokensPerAnswer: number;
  wordsPerQuestion: number;
  wordsPerAnswer: number;
  distinct1Questions: number;
  distinct2Questions: number;
  distinct1Answers: number;
  distinct2Answers: number;
  /** Questions after the first that lean on earlier turns (heuristic: src/metrics/dialogue-metrics.ts), per dialogue. */
  contextDependentQuestionsPerDialogue?: number;
  /** Mean Self-ROUGE-L (0–100) of each dialogue's questions; lower = less repetitive. */
  selfRougeLQuestions?: number;
  /** Mean MTLD of each dialogue's questions (threshold 0.72); higher = richer vocabulary. */
  mtldQuestions?: number;
  /** Dialogues whose text a later one nearly repeats (MinHash, estimated Jaccard ≥ 0.8): of a group of near-copies, all but the last. Counted up to 32,768 dialogues, estimated from a sample of that many beyond. */
  nearDuplicateDialogues?: number;
  /** Standard error of nearDuplicateDialogues when it is estimated from the sample; absent when counted. */
  nearDuplicateDialoguesStandardError?: number;
  /** Questions the filters rejected (and had asked again), by filter, over the dataset. */
  questionFilterHits?: FilterHits;
  /** Dialogues by why they ended: target turns reached, user took leave, context would overflow. */
  dialoguesEndedBy?: Partial<Record<DialogueEnd, number>>;
  /** Generated tokens per dialogue, questions and answers (the seed question, not generated, not counted). */
  generatedTokensPerDialogue?: number;
  /** With an embeddings endpoint (input `metrics.embeddings`): mean pairwise cosine similarity of questions, over a sample; lower = more diverse. */
  topicSimilarity?: number;
  /** With an embeddings endpoint: questions whose similarity to the previous question falls below the shift threshold, per dialogue. */
  topicShiftsPerDialogue?: number;
  /** The threshold topic shifts were counted against, and how many questions were embedded. */
  topicShiftThreshold?: number;
  embeddedQuestions?: number;
  /** With a judge (input `metrics.judge`): questions after the first the judge found dependent on earlier turns, per judged dialogue. */
  contextDependentQuestionsPerDialogueJudge?: number;
  judgedDialogues?: number;
  /** Judge replies that were neither yes nor no (left out of the mean). */
  judgeUnclearReplies?: number;
  /** Distributions for the report's charts. */
  histograms: MetricsHistograms;
}

/**
 * Counts by value: turns by turn count; lengths in tokens (words where a provider gave no
 * count) by bucket, keyed by its range (`"5–9"`), the last bucket open (`"200+"`).
 */
export interface MetricsHistograms {
  turns: Record<string, number>;
  questionTokens: Record<string, number>;
  answerTokens: Record<string, number>;
}

export interface ExportedShard {
  /** The format of its lines. */
  format: ExportFormat;
  key: string;
  uri: string;
  dialogues: number;
  bytes: number;
  sha256: string;
}

export interface DatasetFailure {
  index: number;
  id: string;
  error: string;
}

/** What one format's shards hold: a format that cannot hold a dialogue whole trims it, or leaves it out. */
export interface FormatExport {
  format: ExportFormat;
  /** Lines written, one per dialogue. */
  dialogues: number;
  /** Dialogues written without their last turns (a turn the format cannot hold, and every turn after it). */
  trimmed: number;
  /** Dialogues left out: not even their first turn fits the format. */
  excluded: number;
}

export interface ExportResult {
  manifestUri: string;
  /** The HTML report and the dataset card (written by writeReport, after the metrics). */
  reportUri: string;
  cardUri: string;
  /** Dialogues read from storage and exported (each format may have trimmed or left out some: `formats`). */
  exported: number;
  /** Requested dialogues not exported (failed, or never started): counted, the first few listed, all in missing.json. */
  missing: MissingDialogues;
  /**
   * Dialogues the dataset counted failed whose record the export found (their group was stopped
   * between storing and reporting them): completed after all.
   */
  storedAfterAll: number[];
  /** The shards of every format, in the order of the input's `exportFormats`. */
  shards: ExportedShard[];
  /** Per format, in the order of the input's `exportFormats`. */
  formats: FormatExport[];
}

/** What the export activity returns: all but the report and card, which writeReport adds after the metrics. */
export type DatasetExport = Omit<ExportResult, 'reportUri' | 'cardUri'>;

/** Dialogues an export did not find stored: a count and a reference, never an ever-growing list. */
export interface MissingDialogues {
  count: number;
  /** The first 100 of them, by index. */
  first: number[];
  /** missing.json beside the manifest: every one, as [start, end] index ranges. */
  uri: string;
}

export interface DatasetResult {
  datasetId: string;
  requested: number;
  /** Completed dialogues, those reused from resumed datasets included. */
  completed: number;
  /** Dialogues taken over from the datasets this one resumed, not run again. */
  reused: number;
  failedCount: number;
  /** The first 1,000 failures in detail (`failedCount` is exact). */
  failed: DatasetFailure[];
  usage: { ask: TokenUsage; answer: TokenUsage };
  /** Absent when even the text metrics could not be computed: `metricsError` says why. */
  metrics?: DatasetMetrics;
  /** Why some or all metrics are missing (a metrics model's error, say); the export stands. */
  metricsError?: string;
  export: ExportResult;
  /** Runs of the parent (continue-as-new) and the longest history among them. */
  runs: number;
  maxHistoryLength: number;
  /** The seed source: how many seeds, which lines were skipped. */
  seeds: SeedReport;
  /** Present when the budget stopped new dialogues: `resumeFrom` runs the rest, with a new budget. */
  stopped?: DatasetStop;
  /** Present when stuck groups were given up (the giveUpStuckGroups update): their failed dialogues are resumable. */
  givenUp?: GaveUp;
}

export interface DatasetStop {
  reason: 'budget';
  budget: NonNullable<DatasetInput['budget']>;
  spent: Spend;
  /** Requested dialogues never started. */
  notStarted: number;
}

export type { DatasetInput };

/** Where a dataset's dialogues are, and which stored records are its own. */
export interface DatasetRef {
  datasetId: string;
  output: string;
  count: number;
  /** Datasets whose records count as this one's: itself first, then those it resumed. */
  lineage: DatasetRunRef[];
}

/** One dataset of a lineage: its workflow ID and first run ID, which stays the same across continue-as-new. */
export interface DatasetRunRef {
  datasetId: string;
  runId: string;
}

/** What a group's current run has grown its history by, for the dataset to size its next groups. */
export interface GroupHistory {
  /** workflowInfo().historySize. */
  bytes: number;
  /** Over its dialogues, turns² done in this run (turns² now less turns² when the run began). */
  turnsSquared: number;
  /** The history size at which the run began to hand its dialogues on (continue-as-new suggested, or past the group's own limit). */
  handedOnAt?: number;
}

/** What a dataset has spent, or is expected to: tokens, USD at the endpoints' prices, and calls with no price. */
export interface Spend {
  tokens: number;
  costUsd: number;
  unpricedCalls: number;
}

/** Stuck groups given up: how many, and their dialogues counted completed (stored) and failed. */
export interface GaveUp {
  groups: number;
  completed: number;
  failed: number;
}

export type BatchRole = 'ask' | 'answer';

/** Where one dataset run's batch objects for one role live, under its output. */
export interface BatchPlace {
  output: string;
  datasetRunId: string;
  role: BatchRole;
  endpoint: string;
}

/** What a dialogue group needs to send a role's calls to its batcher. */
export interface GroupBatchRoute {
  place: BatchPlace;
  /** The batcher workflow's ID (`<dataset>/batch/<role>`). */
  batcher: string;
  maxTries: number;
  /** A piece holds at most a batch's requests. */
  maxRequests: number;
  /** At most this long (s) does a group hold its first request for its other dialogues' (the batcher's fill is the larger wait). */
  fillSeconds: number;
}

/**
 * A dialogue as the `dialogue` query shows it while it runs: all a later run of its group needs
 * to go on from where it stands (the group hands it on when its history nears the limits).
 */
export interface DialogueState {
  index: number;
  status: 'running' | 'completed' | 'failed' | 'handed-on';
  targetTurns: number;
  conversations: DialogueRecord['conversations'];
  error?: string;
  /** Tokens and calls so far, by role; the provider's time and the calls' waits to start (ms). */
  usage: { ask: TokenUsage; answer: TokenUsage };
  llmMs: number;
  waitMs: number;
  filterHits: FilterHits;
  /** Tries at the question being asked that the filters rejected so far. */
  rejectedTries: number;
  /** It goes on from progress an earlier run of its group stored: that is removed once the dialogue is. */
  resumed?: boolean;
  /** While a call waits on a batch: which, e.g. "turn 3 · answer · in batch batch_abc (in_progress)". */
  waiting?: string;
}

// The input of a `generateDataset` run: its schema, its defaults and the error a bad input gets.
// Imported by the workflow (so it must stay deterministic: zod only) and by the CLI.
import { z } from 'zod';

const endpointName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]*$/, 'must be a lowercase endpoint name such as "local" or "openai"');

const sampling = {
  endpoint: endpointName,
  model: z.string().min(1),
  temperature: z.number().min(0).max(2).optional(),
  topP: z.number().gt(0).max(1).optional(),
  /** Sampling seed, for providers that honour it (OpenAI's best effort; the local model exactly). */
  seed: z.number().int().optional(),
  maxTokens: z.number().int().min(1).max(32_768).optional(),
  /** The model's context window in tokens: a dialogue ends early, after an answer, before a call would overflow it. */
  contextTokens: z.number().int().min(256).max(10_000_000).optional(),
};

/**
 * How a role's calls go to its endpoint's Batch API (`/v1/files` + `/v1/batches`, at the batch
 * price): the calls of every dialogue in flight are gathered into batch files, submitted, and
 * waited on durably (src/workflows/batch-batcher.ts).
 */
export const batchSettingsSchema = z.strictObject({
  /** After a request arrives, wait this long for more before submitting (unless everyone expected is in, or the batch is full). */
  fillSeconds: z.number().int().min(0).max(86_400).default(60),
  /** Seconds between looks at the batches in flight. */
  pollSeconds: z.number().int().min(1).max(3_600).default(60),
  /** The provider's completion window (OpenAI takes "24h" only). */
  completionWindow: z
    .string()
    .regex(/^[1-9]\d*h$/, 'must be hours, such as "24h"')
    .default('24h'),
  /** Tries of one request whose batch line failed or expired, each in a later batch; then its dialogue fails with the provider's error. */
  maxTries: z.number().int().min(1).max(10).default(3),
});
export type BatchSettings = z.output<typeof batchSettingsSchema>;

/** `true` or settings: through the batch API; `false`: online even on an endpoint the workers declare batch; absent: the endpoint decides. */
const batchChoice = z
  .union([z.boolean(), batchSettingsSchema], {
    error: 'must be true, false or {"fillSeconds", "pollSeconds", "completionWindow", "maxTries"}',
  })
  .optional();

/** A role's batch settings, its defaults filled in (for `true` and for an endpoint in batch mode). */
export const batchSettingsOf = (choice: boolean | BatchSettings | undefined): BatchSettings =>
  typeof choice === 'object' ? choice : batchSettingsSchema.parse({});

export const askSettingsSchema = z.strictObject({
  ...sampling,
  batch: batchChoice,
  /**
   * How the simulated user is produced. `prompted`: a chat model shown the dialogue and told to
   * speak as the user. `parrot-ask`: a model served as raw text completion (a fine-tuned
   * Parrot-Ask or PlatoLM-style simulator) continuing a `Human:` / `Assistant:` transcript.
   */
  mode: z.enum(['prompted', 'parrot-ask']).default('prompted'),
  /** prompted: replaces the built-in instruction appended after the dialogue; parrot-ask: replaces the transcript's system line. */
  instruction: z.string().min(1).optional(),
  /**
   * Question filters (src/prompts/question-filters.ts): a question that is too short, repeats an
   * earlier one, sounds like an assistant or leaks a turn marker is asked again, up to
   * `maxQuestionTries` calls; if none passes, the dialogue ends there with the turns it has
   * (`endedBy: "filtered"`). `false` turns them off.
   */
  questionFilters: z.boolean().default(true),
  /** Fewer words than this is too short. */
  minQuestionWords: z.number().int().min(1).max(50).default(2),
  maxQuestionTries: z.number().int().min(1).max(20).default(4),
  /**
   * prompted: who the simulated user is, one per dialogue, drawn under `randomSeed`. Absent: a
   * built-in persona and writing style (src/prompts/personas.ts); a list: your own descriptions;
   * `false`: none. parrot-ask ignores it (a fine-tuned Ask model has learned real users).
   */
  personas: z.union([z.literal(false), z.array(z.string().min(1).max(300)).min(1).max(100)]).optional(),
  /** parrot-ask: stop sequences (default: the start of the next turn), at most 4 as OpenAI allows. */
  stop: z.array(z.string().min(1)).min(1).max(4).optional(),
});

export const answerSettingsSchema = z.strictObject({
  ...sampling,
  batch: batchChoice,
  systemPrompt: z.string().min(1).optional(),
});

/**
 * Metrics that need a model, computed over a sample of dialogues after the run: topic diversity and
 * topic shifts from an OpenAI-compatible /v1/embeddings endpoint, and context-dependence judged
 * by a chat model (the paper's method) beside the heuristic.
 */
export const modelMetricsSchema = z.strictObject({
  embeddings: z
    .strictObject({
      endpoint: endpointName,
      model: z.string().min(1),
      /** Dialogues whose questions are embedded (a seeded sample; all when fewer). */
      sampleDialogues: z.number().int().min(2).max(10_000).default(500),
      /**
       * A question whose cosine similarity to the previous one falls below this starts a new topic.
       * Absent: the sample's own mean similarity between questions of different dialogues, so that
       * the measure holds for any embedding model (raw cosines differ widely between models).
       */
      topicShiftThreshold: z.number().min(-1).max(1).optional(),
    })
    .optional(),
  judge: z
    .strictObject({
      endpoint: endpointName,
      model: z.string().min(1),
      sampleDialogues: z.number().int().min(1).max(5_000).default(100),
    })
    .optional(),
});

const turnsSchema = z.union(
  [
    z.number().int().min(1).max(100),
    z
      .strictObject({ min: z.number().int().min(1).max(100), max: z.number().int().min(1).max(100) })
      .refine((t) => t.min <= t.max, { message: 'min must not exceed max' }),
    // A histogram: turn count → weight, e.g. {"2": 1, "8": 3, "12": 1} (Parrot-40K averages 8.71).
    z.strictObject({
      histogram: z
        .record(z.string().regex(/^([1-9]|[1-9][0-9]|100)$/, 'keys are turn counts 1–100'), z.number().min(0))
        .refine((h) => Object.values(h).some((w) => w > 0), {
          message: 'needs at least one positive weight',
        }),
    }),
  ],
  { error: 'must be a turn count (1–100), {"min": …, "max": …} or {"histogram": {"<turns>": <weight>, …}}' },
);

const outputUri = z
  .string()
  .refine(
    (s) => /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(s) || /^file:\/\/\/[^\0]*$/.test(s),
    { message: 'must be s3://bucket/prefix or file:///absolute/path' },
  );

const seedsUri = z
  .string()
  .refine(
    (s) =>
      s === 'builtin' || /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.+/.test(s) || /^file:\/\/\/.+/.test(s),
    { message: 'must be "builtin", s3://bucket/key or file:///absolute/path' },
  );

/** The JSONL formats an export can write, each to its own shards and dataset-card config. */
export const EXPORT_FORMATS = ['sharegpt', 'openai'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const exportFormats = z
  .array(
    z.enum(EXPORT_FORMATS, {
      error: (issue) =>
        `${JSON.stringify(issue.input)} is not a format: use ${EXPORT_FORMATS.map((f) => `"${f}"`).join(' or ')}`,
    }),
    {
      error: `must be a list of formats, e.g. ["sharegpt", "openai"]`,
    },
  )
  .min(1, 'must name at least one format')
  .superRefine((formats, ctx) => {
    const twice = formats.filter((f, i) => formats.indexOf(f) !== i);
    if (twice.length)
      ctx.addIssue({
        code: 'custom',
        message: `lists ${[...new Set(twice)].map((f) => `"${f}"`).join(', ')} more than once`,
      });
  });

/**
 * A cap on what this dataset spends (dialogues reused from `resumeFrom` not counted): once what is
 * spent plus what the dialogues in flight are expected to cost reaches it, no new dialogue
 * starts; those in flight finish, and metrics and export run on what exists.
 */
const budget = z
  .strictObject({
    /** USD, at the workers' endpoint prices (PARROT_ENDPOINT_<NAME>_PRICE_IN / _PRICE_OUT). */
    maxCostUsd: z.number().positive().optional(),
    /** Prompt and completion tokens of the ask and answer calls together. */
    maxTokens: z.number().int().positive().optional(),
  })
  .refine((b) => b.maxCostUsd !== undefined || b.maxTokens !== undefined, {
    message: 'must set maxCostUsd or maxTokens (or both)',
  });

export const datasetInputSchema = z.strictObject({
  count: z.number().int().min(1).max(1_000_000),
  turns: turnsSchema,
  output: outputUri,
  ask: askSettingsSchema,
  answer: answerSettingsSchema,
  seeds: seedsUri.default('builtin'),
  /** Seeds the choice of first questions and of turn counts, so a run can be repeated. */
  randomSeed: z.number().int().min(0).default(0),
  /**
   * Dialogues in flight at once. `auto` (the default): with an endpoint's RPM declared, what keeps
   * it at its limit (Little's law on the latency observed); without, a large window whose HTTP
   * requests each worker holds to what the provider takes (AIMD on 429s). A number pins it.
   */
  concurrency: z
    .union([z.literal('auto'), z.number().int().min(1).max(100_000)], {
      error: 'must be "auto" or a number of dialogues, 1–100,000',
    })
    .default('auto'),
  /**
   * Dialogues one workflow runs (1 = a workflow per dialogue). Absent: as many as keep its history
   * small (src/planning/fan-out.ts), at most 50.
   */
  dialoguesPerWorkflow: z.number().int().min(1).max(200).optional(),
  /** The parent continues as new past this many history events (Temporal warns at 10,240). */
  maxEventsPerRun: z.number().int().min(100).max(10_000).default(8_000),
  /** One LLM call may take this long before it is retried. */
  llmCallTimeoutSeconds: z.number().int().min(1).max(3600).default(600),
  /**
   * All tries of one LLM call together, backoff and Retry-After waits included: past it the call
   * fails, and so does its dialogue (resumable); a dead provider does not hold a run forever.
   */
  llmRetryBudgetSeconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .default(3600),
  /**
   * All tries of one storage step together (storing a dialogue, reading seeds, metrics, export),
   * never less than llmRetryBudgetSeconds: S3 down for less than this loses nothing. Tries are
   * unlimited within it; a missing bucket or denied access fails at once.
   */
  storageRetryBudgetSeconds: z
    .number()
    .int()
    .min(10)
    .max(7 * 24 * 3600)
    .default(6 * 3600),
  /**
   * The dataset card's license, a Hugging Face license id ("apache-2.0", "cc-by-4.0", ...); it must
   * fit the terms of the seeds and of both models. Absent: "other", with a note to set it.
   */
  license: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.+-]*$/, 'must be a Hugging Face license id such as "apache-2.0" or "cc-by-4.0"')
    .optional(),
  /** The workflow ID of an earlier dataset with the same output: only its missing and failed dialogues are run again. */
  resumeFrom: z.string().min(1).optional(),
  /**
   * When no dialogue has finished for this long, the dataset checks that the dialogues it waits
   * on from earlier runs still run; one closed without reporting (terminated by hand, say) counts as failed.
   * Every this long it also marks groups whose workflow task has kept failing that long as stuck
   * (src/workflows/stuck-groups.ts).
   */
  stallCheckSeconds: z.number().int().min(1).max(86_400).default(600),
  /**
   * An endpoint with a request limit has its own task queue, fixed when the dataset starts. Once
   * no worker has polled it for 90 s (workers restarted without PARROT_ENDPOINT_<NAME>_RPM), the
   * dataset warns; once that has lasted this long, the dialogues waiting on it fail (resumable)
   * instead of waiting out llmRetryBudgetSeconds.
   */
  unpolledQueueSeconds: z.number().int().min(1).max(86_400).default(300),
  metrics: modelMetricsSchema.optional(),
  /**
   * The JSONL formats the export writes, each to its own shards (the first is the dataset card's
   * default config): `sharegpt` (`conversations` of `from`/`value`) and `openai` (chat `messages`
   * of `role`/`content`).
   */
  exportFormats: exportFormats.default(['sharegpt']),
  budget: budget.optional(),
});

export type DatasetInput = z.output<typeof datasetInputSchema>;
export type DatasetInputJson = z.input<typeof datasetInputSchema>;
export type AskSettings = DatasetInput['ask'];
export type AnswerSettings = DatasetInput['answer'];
export type ModelMetricsSettings = z.output<typeof modelMetricsSchema>;

export class DatasetInputError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid dataset input: ${problems.join('; ')}`);
    this.name = 'DatasetInputError';
  }
}

/**
 * What a standalone dialogue (generateDialogue) takes from the dataset schema: the models'
 * settings and the timeouts and retry budgets, with the same defaults.
 */
export const dialogueSettingsSchema = datasetInputSchema.pick({
  ask: true,
  answer: true,
  llmCallTimeoutSeconds: true,
  llmRetryBudgetSeconds: true,
  storageRetryBudgetSeconds: true,
});
export type SchemaDialogueSettings = z.output<typeof dialogueSettingsSchema>;
export type SchemaDialogueSettingsInput = z.input<typeof dialogueSettingsSchema>;

/** Parses and fills defaults; throws DatasetInputError listing every bad field by its path. */
export function parseDatasetInput(raw: unknown): DatasetInput {
  const result = datasetInputSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap(closestUnionBranch).flatMap((issue) => {
    const at = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((k) => `${at ? `${at}.` : ''}${k}: unknown field`);
    if (valueAt(raw, issue.path) === undefined) return [`${at}: required`];
    const message =
      issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
    return [`${at || '(input)'}: ${message}`];
  });
  throw new DatasetInputError(problems);
}

/**
 * A value that fits no branch of a union (`turns`) gets zod's bare "Invalid input"; report the
 * issues of the branch it came closest to (the deepest path), as if it had been meant.
 */
function closestUnionBranch(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== 'invalid_union' || !issue.errors?.length) return [issue];
  const depth = (branch: z.core.$ZodIssue[]) => Math.max(...branch.map((i) => i.path.length));
  const best = issue.errors.reduce((a, b) => (depth(b) > depth(a) ? b : a));
  if (depth(best) === 0) return [issue];
  return best.flatMap((i) => closestUnionBranch({ ...i, path: [...issue.path, ...i.path] }));
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

// One dialogue: a seed question, then answer / ask in turn until its target turns. Each LLM call
// is one activity (one HTTP request); a question the filters reject is asked again here, so the
// history shows every call. The finished dialogue is stored by an activity; only a small summary
// goes back. It runs inside a dialogue group (generateDialogues) or on its own (generateDialogue).
import {
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  workflowInfo,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type {
  ChatMessage,
  DialogueEnd,
  DialogueInput,
  DialogueRecord,
  DialogueSettings,
  DialogueSpec,
  DialogueSummary,
  LlmReply,
  TokenUsage,
} from '../types';
import { addUsage, emptyUsage } from '../usage';
import { addHits, type FilterHits } from '../prompts/question-filters';
import { storageRetryBudgetSeconds, untilBudget } from './retry-budget';
import { countDialogueCompleted, countDialoguesFailed, failureReason } from '../telemetry/dialogue-metrics';
import type { BatchCalls } from './batch-calls';

const retry: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
};

/** The LLM steps, on the endpoint's own task queue when it has a request limit. */
function llmSteps(settings: DialogueSettings, role: 'ask' | 'answer') {
  return proxyActivities<Activities>({
    taskQueue: settings.llmTaskQueues?.[role],
    startToCloseTimeout: `${settings.llmCallTimeoutSeconds ?? 600} seconds`,
    // Calls heartbeat every few seconds (src/activities/llm.ts): a dead worker shows within this.
    heartbeatTimeout: '30 seconds',
    // Tries are unlimited within the budget: a dead provider fails the dialogue, resumably.
    scheduleToCloseTimeout: `${settings.llmRetryBudgetSeconds ?? 3600} seconds`,
    retry,
  });
}

/** Reading seeds and storing dialogues: paid work is kept, tries go on within the storage retry budget. */
export function storageSteps(
  settings: Pick<DialogueSettings, 'storageRetryBudgetSeconds' | 'llmRetryBudgetSeconds'>,
) {
  return proxyActivities<Activities>({
    startToCloseTimeout: '1 minute',
    // Storage activities heartbeat while they wait on S3: a cancellation reaches them.
    heartbeatTimeout: '30 seconds',
    ...untilBudget(storageRetryBudgetSeconds(settings)),
  });
}

/** A dialogue as the `dialogue` query shows it while it runs. */
export interface DialogueState {
  index: number;
  status: 'running' | 'completed' | 'failed';
  targetTurns: number;
  conversations: DialogueRecord['conversations'];
  error?: string;
  /** While a call waits on a batch: which, e.g. "turn 3 · answer · in batch batch_abc (in_progress)". */
  waiting?: string;
}

export const newDialogueState = (spec: DialogueSpec): DialogueState => ({
  index: spec.index,
  status: 'running',
  targetTurns: spec.turns,
  conversations: [],
});

/** Tokens, calls and provider time of one dialogue so far. */
class Tally {
  ask: TokenUsage = emptyUsage();
  answer: TokenUsage = emptyUsage();
  llmMs = 0;
  waitMs = 0;
  filterHits: FilterHits = {};

  add(role: 'ask' | 'answer', reply: LlmReply) {
    this[role] = addUsage(this[role], reply.usage);
    this.llmMs += reply.ms ?? 0;
    this.waitMs += reply.waitMs ?? 0;
  }

  times() {
    return { llmMs: this.llmMs, waitMs: this.waitMs };
  }
}

/** Runs one dialogue and stores it; throws if it fails. `state` follows it for queries. */
export async function runDialogue(
  settings: DialogueSettings,
  spec: DialogueSpec,
  seed: string,
  state: DialogueState,
  batch?: BatchCalls,
): Promise<DialogueSummary> {
  const id = `${settings.datasetId}/${spec.index}`;
  const tally = new Tally();
  const { turns, endedBy } = await converse(settings, spec, seed, state.conversations, tally, batch);
  const usage = { ask: tally.ask, answer: tally.answer };
  await storageSteps(settings).storeDialogue({
    output: settings.output,
    record: {
      id,
      datasetId: settings.datasetId,
      datasetRunId:
        settings.datasetRunId ?? (workflowInfo().parent ? undefined : workflowInfo().firstExecutionRunId),
      index: spec.index,
      seed,
      conversations: state.conversations,
      turns,
      targetTurns: spec.turns,
      endedBy,
      usage,
      persona: spec.persona,
      models: {
        ask: `${settings.ask.endpoint}/${settings.ask.model}`,
        answer: `${settings.answer.endpoint}/${settings.answer.model}`,
      },
      filterHits: tally.filterHits,
    },
  });
  state.status = 'completed';
  countDialogueCompleted(endedBy);
  return { id, index: spec.index, status: 'completed', turns, endedBy, usage, ...tally.times() };
}

/** Answer, then ask, until the target turns or an earlier end; `conversations` grows as it goes. */
async function converse(
  settings: DialogueSettings,
  spec: DialogueSpec,
  seed: string,
  conversations: DialogueRecord['conversations'],
  tally: Tally,
  batch?: BatchCalls,
): Promise<{ turns: number; endedBy: DialogueEnd }> {
  const dialogue: ChatMessage[] = [{ role: 'user', content: seed }];
  conversations.push({ from: 'human', value: seed });
  if (spec.turns < 1) return { turns: 0, endedBy: 'target' }; // a standalone dialogue's input is not validated
  for (let turn = 1; ; turn++) {
    const a = await answerCall(settings, spec.index, turn, dialogue, batch);
    tally.add('answer', a);
    dialogue.push({ role: 'assistant', content: a.text });
    conversations.push({ from: 'gpt', value: a.text, tokens: a.usage.completionTokens });
    if (turn >= spec.turns) return { turns: turn, endedBy: 'target' };
    if (nextRoundOverflows(settings, a.usage.promptTokens + a.usage.completionTokens))
      return { turns: turn, endedBy: 'context' };
    const q = await askNextQuestion(settings, spec, dialogue, turn + 1, tally, batch);
    if (!q || q.userDone) return { turns: turn, endedBy: q ? 'user-done' : 'filtered' };
    dialogue.push({ role: 'user', content: q.text });
    conversations.push({ from: 'human', value: q.text, tokens: q.usage.completionTokens });
  }
}

/** An answer: an activity of its own, or a request in the answer batch (./batch-calls.ts). */
function answerCall(
  settings: DialogueSettings,
  index: number,
  turn: number,
  dialogue: ChatMessage[],
  batch?: BatchCalls,
): Promise<LlmReply> {
  if (batch?.has('answer')) return batch.call('answer', { index, turn }, settings.answer, [...dialogue]);
  return llmSteps(settings, 'answer').answer.executeWithOptions(
    { summary: `dialogue ${index} · turn ${turn} · answer` },
    [{ settings: settings.answer, dialogue }],
  );
}

/** What a re-ask samples with when the ask model decodes greedily (temperature 0). */
export const RE_ASK_TEMPERATURE = 0.7;

/**
 * A re-ask after a rejected question must be able to differ from it: a greedy ask model
 * (temperature 0) samples at RE_ASK_TEMPERATURE instead, and a fixed seed moves on by one a try,
 * so the dialogue stays repeatable. The first try keeps the settings as given.
 */
function reAskSampling(ask: DialogueSettings['ask'], attempt: number): DialogueSettings['ask'] {
  if (attempt === 1 || (ask.temperature !== 0 && ask.seed === undefined)) return ask;
  if (!patched('re-ask-resamples')) return ask;
  return {
    ...ask,
    ...(ask.temperature === 0 && { temperature: RE_ASK_TEMPERATURE }),
    ...(ask.seed !== undefined && { seed: ask.seed + attempt - 1 }),
  };
}

/**
 * Asks for the next question, again while the filters reject it, up to `maxQuestionTries` calls.
 * Undefined when every try was rejected: the dialogue then ends with the turns it has.
 */
async function askNextQuestion(
  settings: DialogueSettings,
  spec: DialogueSpec,
  dialogue: ChatMessage[],
  turn: number,
  tally: Tally,
  batch?: BatchCalls,
): Promise<LlmReply | undefined> {
  const { ask } = llmSteps(settings, 'ask');
  const tries = settings.ask.questionFilters === false ? 1 : (settings.ask.maxQuestionTries ?? 4);
  for (let attempt = 1; attempt <= tries; attempt++) {
    const summary = `dialogue ${spec.index} · turn ${turn} · ask${attempt > 1 ? ` (try ${attempt})` : ''}`;
    const sampling = reAskSampling(settings.ask, attempt);
    const q = batch?.has('ask')
      ? await batch.call('ask', { index: spec.index, turn }, sampling, [...dialogue], spec.persona)
      : await ask.executeWithOptions({ summary }, [{ settings: sampling, dialogue, persona: spec.persona }]);
    tally.add('ask', q);
    if (!q.rejectedBy) return q;
    tally.filterHits = addHits(tally.filterHits, { [q.rejectedBy]: 1 });
  }
  return undefined;
}

/** Room kept for the ask instruction (prompted) or the transcript's system line (parrot-ask). */
const ASK_PROMPT_EXTRA_TOKENS = 160;

/**
 * Whether another round (a question, then its answer) could overflow either model's context,
 * given the dialogue's size in tokens as the answerer last saw it.
 */
export function nextRoundOverflows(
  settings: Pick<DialogueSettings, 'ask' | 'answer'>,
  dialogueTokens: number,
): boolean {
  const question = settings.ask.maxTokens ?? 256;
  const askLimit = settings.ask.contextTokens;
  const answerLimit = settings.answer.contextTokens;
  if (askLimit !== undefined && dialogueTokens + ASK_PROMPT_EXTRA_TOKENS + question > askLimit) return true;
  return (
    answerLimit !== undefined && dialogueTokens + question + (settings.answer.maxTokens ?? 512) > answerLimit
  );
}

/** One dialogue as a workflow of its own: for trying a setting, or a single dialogue by hand. */
export async function generateDialogue(input: DialogueInput): Promise<DialogueSummary> {
  const { index, turns, persona, seed: given, ...settings } = input;
  const seed =
    given ??
    (
      await storageSteps(settings).pickSeeds({
        seeds: settings.seeds,
        seedChunks: settings.seedChunks,
        randomSeed: settings.randomSeed,
        indexes: [index],
      })
    )[0];
  setCurrentDetails(`Seed question: ${seed}`);
  try {
    return await runDialogue(settings, { index, turns, persona }, seed, newDialogueState({ index, turns }));
  } catch (err) {
    if (!isCancellation(err)) countDialoguesFailed(failureReason(err));
    throw err;
  }
}

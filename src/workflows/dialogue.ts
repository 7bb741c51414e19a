// One dialogue: a seed question, then answer / ask in turn until its target turns. Each LLM call
// is one activity (one HTTP request); a question the filters reject is asked again here, so the
// history shows every call. The finished dialogue is stored by an activity; only a small summary
// goes back. It runs inside a dialogue group (generateDialogues) or on its own (generateDialogue).
import {
  ApplicationFailure,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { dialogueSettingsSchema, type SchemaDialogueSettings } from '../config/dataset-input';
import type {
  ChatMessage,
  DialogueEnd,
  DialogueInput,
  DialogueRecord,
  DialogueState,
  DialogueSettings,
  DialogueSpec,
  DialogueSummary,
  LlmReply,
} from '../types';
import { addUsage, emptyUsage } from '../usage';
import { addHits } from '../planning/filter-hits';
import { nextRoundOverflows } from '../planning/context-room';
import { dialogueStorage, llmCall, type Budgets } from './activity-options';
import type { LlmCallGate } from './unpolled-queues';
import type { BatchCalls } from './batch-calls';
import { countDialogueCompleted, countDialoguesFailed, failureReason } from '../telemetry/dialogue-counters';

/** The LLM steps of a role (./activity-options.ts: llmCall). */
const llmSteps = (settings: DialogueSettings, role: 'ask' | 'answer') =>
  proxyActivities<Activities>(llmCall(settings, role));

/** Reading seeds and storing dialogues: paid work is kept, tries go on within the storage retry budget. */
export const storageSteps = (budgets: Budgets) => proxyActivities<Activities>(dialogueStorage(budgets));

export const newDialogueState = (spec: DialogueSpec): DialogueState => ({
  index: spec.index,
  status: 'running',
  targetTurns: spec.turns,
  conversations: [],
  usage: { ask: emptyUsage(), answer: emptyUsage() },
  llmMs: 0,
  waitMs: 0,
  filterHits: {},
  rejectedTries: 0,
});

/** A standalone dialogue's settings, with the dataset schema's defaults; a bad one fails it, named. */
function standaloneSettings(input: DialogueInput): SchemaDialogueSettings {
  const { ask, answer, llmCallTimeoutSeconds, llmRetryBudgetSeconds, storageRetryBudgetSeconds } = input;
  const parsed = dialogueSettingsSchema.safeParse({
    ask,
    answer,
    llmCallTimeoutSeconds,
    llmRetryBudgetSeconds,
    storageRetryBudgetSeconds,
  });
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  throw ApplicationFailure.nonRetryable(`invalid dialogue input: ${problems.join('; ')}`, 'InvalidInput');
}

/** Adds a call's tokens and times to its dialogue's. */
function tally(state: DialogueState, role: 'ask' | 'answer', reply: LlmReply) {
  state.usage = { ...state.usage, [role]: addUsage(state.usage[role], reply.usage) };
  state.llmMs += reply.ms ?? 0;
  state.waitMs += reply.waitMs ?? 0;
}

/** Called before each LLM call: throws to stop the dialogue there (its group hands it on). */
export type BeforeCall = () => void;

/** How a dialogue's group oversees its LLM calls. */
export interface CallHooks {
  beforeCall?: BeforeCall;
  /** Every call goes through it: failed at once if nobody polls its endpoint's queue (./unpolled-queues.ts). */
  gate?: LlmCallGate;
  /** The group's batches: a batched role's calls go there as requests (./batch-calls.ts). */
  batch?: BatchCalls;
}

/** What one LLM call sends, for an activity of its own or a line of a batch. */
interface LlmCall<S> {
  index: number;
  turn: number;
  settings: S;
  dialogue: ChatMessage[];
  persona?: string;
  summary: string;
}

/** One LLM call of `role`, as the group's hooks allow: a request in the role's batch, or an activity of its own. */
function callLlm<S extends DialogueSettings['ask'] | DialogueSettings['answer']>(
  hooks: CallHooks,
  role: 'ask' | 'answer',
  call: LlmCall<S>,
  online: (call: LlmCall<S>) => Promise<LlmReply>,
): Promise<LlmReply> {
  hooks.beforeCall?.();
  const { index, turn, settings, dialogue, persona } = call;
  if (hooks.batch?.has(role)) return hooks.batch.call(role, { index, turn }, settings, dialogue, persona);
  return hooks.gate ? hooks.gate.call(role, () => online(call)) : online(call);
}

/** Runs one dialogue, or goes on with it, and stores it; throws if it fails. `state` follows it. */
export async function runDialogue(
  settings: DialogueSettings,
  spec: DialogueSpec,
  seed: string,
  state: DialogueState,
  hooks: CallHooks = {},
): Promise<DialogueSummary> {
  const id = `${settings.datasetId}/${spec.index}`;
  const { turns, endedBy } = await converse(settings, spec, seed, state, hooks);
  const { usage, llmMs, waitMs } = state;
  await storageSteps(settings).storeDialogue({
    output: settings.output,
    record: {
      id,
      datasetId: settings.datasetId,
      datasetRunId: settings.datasetRunId ?? workflowInfo().firstExecutionRunId,
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
      filterHits: state.filterHits,
    },
    ...(state.resumed && { dropProgress: true }),
  });
  state.status = 'completed';
  countDialogueCompleted(endedBy);
  return { id, index: spec.index, status: 'completed', turns, endedBy, usage, llmMs, waitMs };
}

/** Answers the dialogue has: its turns so far. */
export const turnsOf = (conversations: DialogueRecord['conversations']) =>
  conversations.reduce((n, c) => n + (c.from === 'gpt' ? 1 : 0), 0);

/** The conversation as the models read it. */
const chatOf = (conversations: DialogueRecord['conversations']): ChatMessage[] =>
  conversations.map((c) => ({ role: c.from === 'human' ? 'user' : 'assistant', content: c.value }));

/**
 * Answer, then ask, until the target turns or an earlier end; `conversations` grows as it goes.
 * A dialogue handed on goes on where it stopped: at the answer its last question waits for, or
 * at the next question.
 */
async function converse(
  settings: DialogueSettings,
  spec: DialogueSpec,
  seed: string,
  state: DialogueState,
  hooks: CallHooks,
): Promise<{ turns: number; endedBy: DialogueEnd }> {
  const { answer } = llmSteps(settings, 'answer');
  const { conversations } = state;
  if (!conversations.length) conversations.push({ from: 'human', value: seed });
  if (spec.turns < 1) return { turns: 0, endedBy: 'target' }; // a standalone dialogue's input is not validated
  for (;;) {
    let turn = turnsOf(conversations);
    if (conversations[conversations.length - 1].from === 'human') {
      turn++;
      const summary = `dialogue ${spec.index} · turn ${turn} · answer`;
      const call = {
        index: spec.index,
        turn,
        settings: settings.answer,
        dialogue: chatOf(conversations),
        summary,
      };
      const a = await callLlm(hooks, 'answer', call, (c) =>
        answer.executeWithOptions({ summary: c.summary }, [
          { settings: c.settings, dialogue: c.dialogue, timeoutSeconds: settings.llmCallTimeoutSeconds },
        ]),
      );
      tally(state, 'answer', a);
      conversations.push({ from: 'gpt', value: a.text, tokens: a.usage.completionTokens });
      if (turn >= spec.turns) return { turns: turn, endedBy: 'target' };
      if (nextRoundOverflows(settings, a.usage.promptTokens + a.usage.completionTokens))
        return { turns: turn, endedBy: 'context' };
    }
    const q = await askNextQuestion(settings, spec, state, turn + 1, hooks);
    if (!q || q.userDone) return { turns: turn, endedBy: q ? 'user-done' : 'filtered' };
    conversations.push({ from: 'human', value: q.text, tokens: q.usage.completionTokens });
  }
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
  state: DialogueState,
  turn: number,
  hooks: CallHooks,
): Promise<LlmReply | undefined> {
  const { ask } = llmSteps(settings, 'ask');
  const tries = settings.ask.questionFilters ? settings.ask.maxQuestionTries : 1;
  for (let attempt = state.rejectedTries + 1; attempt <= tries; attempt++) {
    const summary = `dialogue ${spec.index} · turn ${turn} · ask${attempt > 1 ? ` (try ${attempt})` : ''}`;
    const call = {
      index: spec.index,
      turn,
      settings: reAskSampling(settings.ask, attempt),
      dialogue: chatOf(state.conversations),
      persona: spec.persona,
      summary,
    };
    const q = await callLlm(hooks, 'ask', call, (c) =>
      ask.executeWithOptions({ summary: c.summary }, [
        {
          settings: c.settings,
          dialogue: c.dialogue,
          persona: c.persona,
          timeoutSeconds: settings.llmCallTimeoutSeconds,
        },
      ]),
    );
    tally(state, 'ask', q);
    if (!q.rejectedBy) {
      state.rejectedTries = 0;
      return q;
    }
    state.rejectedTries = attempt;
    state.filterHits = addHits(state.filterHits, { [q.rejectedBy]: 1 });
  }
  return undefined;
}

/** One dialogue as a workflow of its own: for trying a setting, or a single dialogue by hand. */
export async function generateDialogue(input: DialogueInput): Promise<DialogueSummary> {
  const { index, turns, persona, seed: given, ...rest } = input;
  const settings: DialogueSettings = { ...rest, ...standaloneSettings(input) };
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

// One dialogue: a seed question, then answer / ask in turn until the target number of turns.
// The dialogue is stored by an activity; the parent gets back only a small summary.
import { getExternalWorkflowHandle, patched, proxyActivities, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ChatMessage, DialogueEnd, DialogueInput, DialogueRecord, DialogueSummary } from '../types';
import { addUsage, emptyUsage } from '../usage';
import { describeFailure } from './failures';
import { addHits, type FilterHits } from '../prompts/question-filters';
import { dialogueFinishedSignal, type DialogueOutcome } from './signals';

/** The LLM steps, on the endpoint's own task queue when it has a request limit. */
function llmActivities(input: DialogueInput, role: 'ask' | 'answer') {
  const budgeted = input.llmRetryBudgetSeconds !== undefined;
  return proxyActivities<Activities>({
    taskQueue: input.llmTaskQueues?.[role],
    startToCloseTimeout: `${input.llmCallTimeoutSeconds ?? 600} seconds`,
    // Heartbeats every few seconds (src/activities/llm.ts): a dead worker shows within this.
    heartbeatTimeout: budgeted ? '30 seconds' : undefined,
    scheduleToCloseTimeout: budgeted ? `${input.llmRetryBudgetSeconds} seconds` : undefined,
    // With a budget, tries are unlimited within it; without (older dialogues), 10 tries.
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', ...(budgeted ? {} : { maximumAttempts: 10 }) },
  });
}

const { pickSeed, storeDialogue } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
});


/** Runs one dialogue and, when it has a parent dataset, reports the outcome to it, failure included. */
export async function generateDialogue(input: DialogueInput): Promise<DialogueSummary> {
  const id = `${input.datasetId}/${input.index}`;
  const parent = workflowInfo().parent;
  const report = async (outcome: DialogueOutcome) => {
    // Dialogues started before outcomes were signalled (v1 histories) replay without it.
    if (!parent || !patched('dialogue-reports-outcome-to-parent')) return;
    try {
      await getExternalWorkflowHandle(parent.workflowId).signal(dialogueFinishedSignal, outcome);
    } catch {
      // The dataset is gone (cancelled, terminated): nobody is waiting for this outcome.
    }
  };
  try {
    const summary = await runDialogue(id, input);
    await report({ index: input.index, id, summary });
    return summary;
  } catch (err) {
    await report({ index: input.index, id, error: describeFailure(err) });
    throw err;
  }
}

async function runDialogue(id: string, input: DialogueInput): Promise<DialogueSummary> {
  const { ask } = llmActivities(input, 'ask');
  const { answer } = llmActivities(input, 'answer');
  const seed = input.seed ?? await pickSeed({ seeds: input.seeds, randomSeed: input.randomSeed, index: input.index });
  const dialogue: ChatMessage[] = [{ role: 'user', content: seed }];
  const conversations: DialogueRecord['conversations'] = [{ from: 'human', value: seed }];
  setCurrentDetails(`Seed question: ${seed}`);
  let askUsage = emptyUsage();
  let filterHits: FilterHits = {};
  let answerUsage = emptyUsage();

  // A dialogue ends after an answer: at its target, when the user takes leave, or when the next
  // round would overflow a model's context (only with contextTokens set; older inputs never stop early).
  let turns = 0;
  let endedBy: DialogueEnd = 'target';
  for (let turn = 1; turn <= input.turns; turn++) {
    const a = await answer({ settings: input.answer, dialogue });
    dialogue.push({ role: 'assistant', content: a.text });
    conversations.push({ from: 'gpt', value: a.text, tokens: a.usage.completionTokens });
    answerUsage = addUsage(answerUsage, a.usage);
    turns = turn;
    if (turn === input.turns) break;
    if (nextRoundOverflows(input, a.usage.promptTokens + a.usage.completionTokens)) {
      endedBy = 'context';
      break;
    }

    const q = await ask({ settings: input.ask, dialogue, persona: input.persona });
    askUsage = addUsage(askUsage, q.usage);
    filterHits = addHits(filterHits, q.filterHits);
    if (q.userDone) {
      endedBy = 'user-done';
      break;
    }
    dialogue.push({ role: 'user', content: q.text });
    conversations.push({ from: 'human', value: q.text, tokens: q.usage.completionTokens });
  }

  const usage = { ask: askUsage, answer: answerUsage };
  await storeDialogue({
    output: input.output,
    record: {
      id, datasetId: input.datasetId, index: input.index, seed, conversations, turns, targetTurns: input.turns, endedBy, usage, persona: input.persona,
      models: { ask: `${input.ask.endpoint}/${input.ask.model}`, answer: `${input.answer.endpoint}/${input.answer.model}` },
      filterHits,
    },
  });
  return { id, index: input.index, status: 'completed', turns, usage };
}

/** Room kept for the ask instruction (prompted) or the transcript's system line (parrot-ask). */
const ASK_PROMPT_EXTRA_TOKENS = 160;

/**
 * Whether another round (a question, then its answer) could overflow either model's context,
 * given the dialogue's size in tokens as the answerer last saw it.
 */
export function nextRoundOverflows(input: DialogueInput, dialogueTokens: number): boolean {
  const question = input.ask.maxTokens ?? 256;
  const askLimit = input.ask.contextTokens;
  const answerLimit = input.answer.contextTokens;
  if (askLimit !== undefined && dialogueTokens + ASK_PROMPT_EXTRA_TOKENS + question > askLimit) return true;
  return answerLimit !== undefined && dialogueTokens + question + (input.answer.maxTokens ?? 512) > answerLimit;
}


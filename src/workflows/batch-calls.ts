// A dialogue group's calls through its batchers: each dialogue asks for a reply and waits; once
// every dialogue still running waits (or a few seconds have passed), the group writes the
// requests to storage, one piece per role, and signals the batcher a reference. The batcher
// signals back the batch's ID and status (the `dialogue` query shows "turn 3 · answer · in batch
// batch_abc (in_progress)") and, when it has finished, the key of the group's outcome file. A
// line that failed or expired is asked again in a later batch, up to `maxTries`; then the
// dialogue fails with the provider's error.
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  setHandler,
} from '@temporalio/workflow';
import { groupPart, pieceKey } from '../batch/batch-layout';
import { formatCustomId } from '../batch/custom-id';
import type { BatchOutcome, BatchRole, GroupBatchRoute, StagedCall } from '../batch/batch-types';
import type { AnswerSettings, AskSettings } from '../config/dataset-input';
import type { ChatMessage, DialogueSettings, LlmReply } from '../types';
import {
  batchGroupDoneSignal,
  batchRequestsSignal,
  batchResultsSignal,
  batchStatusSignal,
} from './batch-signals';
import { groupBatchSteps } from './batch-steps';
import { signalById } from './signal-by-id';

/** Most request bytes one stage activity carries: far below Temporal's 2 MB payload limit. */
const STAGE_BYTES = 512 * 1024;

interface Waiter {
  role: BatchRole;
  index: number;
  turn: number;
  call: StagedCall;
  settings: AskSettings | AnswerSettings;
  resolve(o: BatchOutcome): void;
  piece?: string;
  batchId?: string;
}

/** What a dialogue shows while it waits on a batch. */
export interface BatchWait {
  index: number;
  waiting?: string;
}

export class BatchCalls {
  private readonly waiting = new Map<string, Waiter>();
  private queued: Waiter[] = [];
  private readonly statuses = new Map<string, string>();
  private readonly attempts = new Map<string, number>();
  private active: number;
  private pieces = 0;

  constructor(
    private readonly settings: DialogueSettings,
    private readonly groupId: string,
    dialogues: number,
    private readonly views: Map<number, BatchWait>,
    private readonly onChange: () => void,
  ) {
    this.active = dialogues;
    setHandler(batchStatusSignal, (u) => this.onStatus(u.batchId, u.status, u.pieces));
    setHandler(batchResultsSignal, (r) => this.onResults(r.key));
    void this.pump();
  }

  has(role: BatchRole): boolean {
    return !!this.settings.batch?.[role];
  }

  /** One call's reply through the role's batches: asked again in later batches while its line fails (maxTries), then a failure with the provider's error. */
  async call(
    role: BatchRole,
    at: { index: number; turn: number },
    settings: AskSettings | AnswerSettings,
    dialogue: ChatMessage[],
    persona?: string,
  ): Promise<LlmReply> {
    const route = this.route(role);
    for (let tries = 1; ; tries++) {
      const key = `${at.index}:${at.turn}:${role}`;
      const attempt = (this.attempts.get(key) ?? 0) + 1;
      this.attempts.set(key, attempt);
      const customId = formatCustomId({ datasetRunId: route.place.datasetRunId, ...at, role, attempt });
      const reply = new Promise<BatchOutcome>((resolve) => {
        const w: Waiter = { role, ...at, call: { customId, dialogue, persona }, settings, resolve };
        this.waiting.set(customId, w);
        this.queued.push(w);
        this.show(w, `queued for the next ${role} batch`);
      });
      // A cancelled group stops waiting (the batcher cancels the batch).
      const outcome = await Promise.race([reply, CancellationScope.current().cancelRequested]);
      this.show({ index: at.index }, undefined);
      if (outcome.reply) return outcome.reply;
      const e = outcome.error!;
      if (!e.retryable || tries >= route.maxTries)
        throw ApplicationFailure.nonRetryable(
          `${e.message} (turn ${at.turn} ${role}, ${tries} ${tries === 1 ? 'try' : 'tries'} in batches)`,
          e.type,
        );
    }
  }

  /** A dialogue of the group has ended: the others need not wait for it. */
  dialogueDone() {
    this.active--;
  }

  /** Every dialogue has ended: the batchers need not wait for this group. */
  async close() {
    for (const role of ['ask', 'answer'] as const)
      if (this.has(role)) await signalById(this.route(role).batcher, batchGroupDoneSignal, this.groupId);
  }

  /** What the group's details say of its batches. */
  describe(): string {
    if (!this.waiting.size) return '';
    const byBatch = new Map<string, number>();
    for (const w of this.waiting.values()) {
      const where = w.batchId
        ? `${w.role} batch ${w.batchId} (${this.statuses.get(w.batchId)})`
        : `the next ${w.role} batch`;
      byBatch.set(where, (byBatch.get(where) ?? 0) + 1);
    }
    return `waiting on ${[...byBatch].map(([where, n]) => `${where} × ${n}`).join(', ')}`;
  }

  private route(role: BatchRole): GroupBatchRoute {
    const r = this.settings.batch?.[role];
    if (!r) throw new Error(`${role} is not batched`);
    return r;
  }

  /** What the dialogue's view says it waits on (`undefined`: nothing); the group's details follow at onChange. */
  private show(w: Pick<Waiter, 'index'> & Partial<Waiter>, text: string | undefined) {
    const view = this.views.get(w.index);
    if (view) view.waiting = text && `turn ${w.turn} · ${w.role} · ${text}`;
  }

  /** Writes the queue once every dialogue still running waits on it, or after the fill time. */
  private async pump() {
    try {
      await this.pumpForever();
    } catch (err) {
      if (!isCancellation(err)) throw err; // cancelled: the dialogues stop waiting too
    }
  }

  private async pumpForever() {
    for (;;) {
      await condition(() => this.queued.length > 0);
      const fill = Math.min(
        ...(['ask', 'answer'] as const).filter((r) => this.has(r)).map((r) => this.route(r).fillSeconds),
      );
      await condition(() => this.waiting.size >= this.active, Math.max(1, fill * 1000)); // 0 would mean no timeout
      const batch = this.queued;
      this.queued = [];
      for (const role of ['answer', 'ask'] as const)
        await this.stage(
          role,
          batch.filter((w) => w.role === role),
        );
    }
  }

  /** Writes the role's waiting requests as pieces (one per settings, each within STAGE_BYTES and a batch's requests) and tells the batcher. */
  private async stage(role: BatchRole, waiters: Waiter[]) {
    if (!waiters.length) return;
    const route = this.route(role);
    for (const chunk of chunks(waiters, STAGE_BYTES, route.maxRequests)) {
      const key = pieceKey(route.place, groupPart(this.groupId), ++this.pieces);
      const turns = [...new Set(chunk.map((w) => w.turn))].join(', ');
      const dialogues = chunk.length === 1 ? `dialogue ${chunk[0].index}` : `dialogues ${indexRanges(chunk)}`;
      const ref = await groupBatchSteps(this.settings).stageBatchRequests.executeWithOptions(
        { summary: `${dialogues} · turn ${turns} · ${role} · for the batch` },
        [{ place: route.place, key, settings: chunk[0].settings, calls: chunk.map((w) => w.call) }],
      );
      for (const w of chunk) w.piece = key;
      if (await signalById(route.batcher, batchRequestsSignal, { ...ref, group: this.groupId }))
        for (const w of chunk) this.show(w, `queued at the ${role} batcher`);
      else
        for (const w of chunk)
          this.resolve({
            customId: w.call.customId,
            error: { message: `the ${role} batcher has closed`, type: 'BatcherClosed', retryable: false },
          });
    }
    this.onChange();
  }

  private onStatus(batchId: string, status: string, pieces?: string[]) {
    this.statuses.set(batchId, status);
    for (const w of this.waiting.values()) {
      if (pieces?.includes(w.piece ?? '')) w.batchId = batchId;
      if (w.batchId === batchId) this.show(w, `in batch ${batchId} (${status})`);
    }
    this.onChange();
  }

  private async onResults(key: string) {
    for (let from: number | undefined = 0; from !== undefined;) {
      const block: { outcomes: BatchOutcome[]; next?: number } = await groupBatchSteps(
        this.settings,
      ).readBatchResults({ output: this.settings.output, key, from });
      block.outcomes.forEach((o) => this.resolve(o));
      from = block.next;
    }
    this.onChange();
  }

  private resolve(o: BatchOutcome) {
    const w = this.waiting.get(o.customId);
    if (!w) return; // already answered (a duplicate delivery)
    this.waiting.delete(o.customId);
    w.resolve(o);
  }
}

/** Waiters in pieces: one settings each (a re-ask samples differently), each within `maxBytes` of dialogue and `maxCount` requests. */
function chunks(waiters: Waiter[], maxBytes: number, maxCount: number): Waiter[][] {
  const out: Waiter[][] = [];
  const bySettings = new Map<string, Waiter[]>();
  for (const w of waiters) {
    const k = JSON.stringify(w.settings);
    bySettings.set(k, [...(bySettings.get(k) ?? []), w]);
  }
  for (const group of bySettings.values()) {
    let chunk: Waiter[] = [];
    let bytes = 0;
    for (const w of group) {
      const size = w.call.dialogue.reduce((n, m) => n + m.content.length, 0) + (w.call.persona?.length ?? 0);
      if (chunk.length && (bytes + size > maxBytes || chunk.length >= maxCount)) {
        out.push(chunk);
        [chunk, bytes] = [[], 0];
      }
      chunk.push(w);
      bytes += size;
    }
    if (chunk.length) out.push(chunk);
  }
  return out;
}

/** A piece's dialogues for an activity summary (400 bytes at most): `100–149, 152`, cut short past 200 characters. */
function indexRanges(waiters: Waiter[]): string {
  const sorted = [...new Set(waiters.map((w) => w.index))].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j > i ? `${sorted[i]}–${sorted[j]}` : `${sorted[i]}`);
    i = j + 1;
  }
  const text = parts.join(', ');
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

// The batch steps against the FAKE server's Files and Batches API (test/helpers/fake-batch-api.ts),
// each activity run on its own (MockActivityEnvironment): requests staged, a batch submitted once
// however often the step is tried, its outcomes read into each group's file, a rejection naming
// its line and field, and the planning and settings around them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createBatchActivities } from '../../src/activities/batch';
import { loadEndpointRegistry } from '../../src/config/endpoints';
import { batchPrices } from '../../src/config/batch-endpoints';
import { askSettingsSchema, answerSettingsSchema } from '../../src/config/dataset-input';
import { pieceKey, submittedKey } from '../../src/batch/batch-layout';
import { piecesForBatch } from '../../src/batch/batch-plan';
import { formatCustomId, parseCustomId } from '../../src/batch/custom-id';
import type { BatchOutcome, BatchPlace, PieceRef, PolledBatch } from '../../src/batch/batch-types';
import { FAKE_MODEL, startFakeOpenAiServer, type FakeOpenAiServer } from '../helpers/fake-openai-server';

const run = <T>(fn: () => Promise<T>): Promise<T> => new MockActivityEnvironment().run(fn);
const RUN_ID = '0f1e2d3c-aaaa-bbbb-cccc-000000000001';

describe('batch steps (FAKE batch API)', () => {
  let fake: FakeOpenAiServer;
  let dir: string;
  let activities: ReturnType<typeof createBatchActivities>;
  let place: BatchPlace;
  const answer = answerSettingsSchema.parse({ endpoint: 'fake', model: FAKE_MODEL, maxTokens: 64 });

  before(async () => {
    fake = await startFakeOpenAiServer();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-batch-unit-'));
    activities = createBatchActivities(
      loadEndpointRegistry({
        PARROT_ENDPOINT_FAKE_URL: fake.url,
        PARROT_ENDPOINT_FAKE_PRICE_IN: '0.15',
        PARROT_ENDPOINT_FAKE_PRICE_OUT: '0.6',
      }),
    );
    place = { output: pathToFileURL(dir).href, datasetRunId: RUN_ID, role: 'answer', endpoint: 'fake' };
  });
  after(async () => {
    await fake.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Stages `n` answer requests of group `group` as piece `k`, and returns its reference. */
  async function stage(group: string, k: number, n: number, turn = 1): Promise<PieceRef> {
    const calls = Array.from({ length: n }, (_, i) => ({
      customId: formatCustomId({ datasetRunId: RUN_ID, index: i, turn, role: 'answer', attempt: k }),
      dialogue: [{ role: 'user' as const, content: `question ${i} of ${group}` }],
    }));
    const ref = await run(() =>
      activities.stageBatchRequests({ place, key: pieceKey(place, group, k), settings: answer, calls }),
    );
    return { ...ref, group: `ds/${group}` };
  }

  async function untilFinished(id: string): Promise<PolledBatch> {
    for (;;) {
      const [b] = await run(() => activities.pollBatches({ place, ids: [id] }));
      if (['completed', 'expired', 'failed', 'cancelled'].includes(b.status)) return b;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  const submitInput = (seq: number, pieces: PieceRef[]) => ({
    place,
    seq,
    pieces,
    url: '/v1/chat/completions' as const,
    completionWindow: '24h',
    datasetId: 'ds',
  });

  it('submits a batch once, however often the step is tried: by its record, then by its metadata', async () => {
    const pieces = [await stage('0-2', 1, 3)];
    const first = await run(() => activities.submitBatch(submitInput(1, pieces)));
    const again = await run(() => activities.submitBatch(submitInput(1, pieces)));
    assert.equal(again.id, first.id);
    // A worker killed between creating the batch and recording it: only the provider knows it.
    const record = path.join(dir, submittedKey(place, 1));
    const { batchId: _, ...unrecorded } = JSON.parse(fs.readFileSync(record, 'utf8'));
    fs.writeFileSync(record, JSON.stringify(unrecorded));
    const found = await run(() => activities.submitBatch(submitInput(1, pieces)));
    assert.equal(found.id, first.id);
    assert.equal(fake.batch.created.filter((id) => id === first.id).length, 1);
    assert.equal(fake.batch.created.length, 1);
    await untilFinished(first.id);
    assert.equal(fake.batch.duplicates(), 0);
    assert.equal(fake.batch.submitted.size, 3);
  });

  it('reads a finished batch into one outcome file per group, priced at the batch price; expired and failed lines are retryable', async () => {
    const pieces = [await stage('10-11', 1, 2, 2), await stage('12-13', 1, 2, 3)];
    fake.batch.expireNext(1);
    fake.batch.failNext(1, 500);
    const submitted = await run(() => activities.submitBatch(submitInput(2, pieces)));
    const done = await untilFinished(submitted.id);
    assert.equal(done.status, 'expired');
    const collected = await run(() =>
      activities.collectBatch({ place, seq: 2, batch: done, createdAt: Date.now(), settings: answer }),
    );
    assert.equal(collected.ok, 2);
    assert.equal(collected.failed, 2);
    assert.deepEqual(collected.results.map((r) => [r.group, r.count]).sort(), [
      ['ds/10-11', 2],
      ['ds/12-13', 2],
    ]);
    const outcomes: BatchOutcome[] = [];
    for (const r of collected.results)
      outcomes.push(
        ...(await run(() => activities.readBatchResults({ output: place.output, key: r.key }))).outcomes,
      );
    const errors = outcomes.filter((o) => o.error).map((o) => o.error!);
    assert.deepEqual(errors.map((e) => [e.type, e.retryable]).sort(), [
      ['BatchExpired', true],
      ['Http500', true],
    ]);
    const replies = outcomes.filter((o) => o.reply).map((o) => o.reply!);
    assert.equal(replies.length, 2);
    for (const r of replies) {
      assert.match(r.text, /^Fake answer to: question \d of 1[02]-1[13]$/);
      assert.equal(r.usage.batchCalls, 1);
      // $0.15 / $0.6 per M tokens online: half in a batch.
      const cost = (r.usage.promptTokens * 0.075 + r.usage.completionTokens * 0.3) / 1e6;
      assert.ok(Math.abs(r.usage.costUsd! - cost) < 1e-12);
      assert.equal(r.usage.batchCostUsd, r.usage.costUsd);
    }
  });

  it('a batch rejected at validation is described by its line, custom_id and field', async () => {
    const pieces = [await stage('20-21', 1, 2)];
    fake.batch.rejectNext('body.max_tokens', 'max_tokens is too large for this model');
    const submitted = await run(() => activities.submitBatch(submitInput(3, pieces)));
    const done = await untilFinished(submitted.id);
    assert.equal(done.status, 'failed');
    const collected = await run(() =>
      activities.collectBatch({ place, seq: 3, batch: done, createdAt: Date.now(), settings: answer }),
    );
    assert.match(
      collected.rejection!,
      new RegExp(
        `answer batch ${submitted.id} rejected at validation: line 1 \\(custom_id ${RUN_ID}:0:1:answer:1\\), field body\\.max_tokens: max_tokens is too large`,
      ),
    );
    assert.equal(fake.batch.submitted.has(`${RUN_ID}:0:1:answer:1`), true); // counted before, by the first test
  });

  it('judges batched questions as the online ask does: cleaned, and filtered against the earlier ones', async () => {
    const ask = askSettingsSchema.parse({ endpoint: 'fake', model: FAKE_MODEL });
    const askPlace: BatchPlace = { ...place, role: 'ask' };
    const dialogue = [
      { role: 'user' as const, content: 'what is a monad, really?' },
      { role: 'assistant' as const, content: 'a monoid in the category of endofunctors' },
    ];
    const calls = [30, 31].map((index) => ({
      customId: formatCustomId({ datasetRunId: RUN_ID, index, turn: 2, role: 'ask', attempt: 1 }),
      dialogue,
      persona: 'a student',
    }));
    fake.replyNext('User: "What is a monad, really?"'); // the first line repeats the seed question
    const key = pieceKey(askPlace, '30-31', 1);
    const ref = await run(() =>
      activities.stageBatchRequests({ place: askPlace, key, settings: ask, calls }),
    );
    const submitted = await run(() =>
      activities.submitBatch({ ...submitInput(1, [{ ...ref, group: 'ds/30-31' }]), place: askPlace }),
    );
    const done = await untilFinished(submitted.id);
    const collected = await run(() =>
      activities.collectBatch({ place: askPlace, seq: 1, batch: done, createdAt: Date.now(), settings: ask }),
    );
    const { outcomes } = await run(() =>
      activities.readBatchResults({ output: place.output, key: collected.results[0].key }),
    );
    const byId = new Map(outcomes.map((o) => [o.customId, o.reply!]));
    assert.equal(byId.get(calls[0].customId)!.rejectedBy, 'nearDuplicate');
    assert.match(
      byId.get(calls[1].customId)!.text,
      /^Fake follow-up question \d+: why does that matter so much\?$/,
    );
    assert.equal(byId.get(calls[1].customId)!.rejectedBy, undefined);
  });

  it('cancels a batch in flight at the provider', async () => {
    fake.batch.holdMs = 60_000;
    try {
      const pieces = [await stage('40-41', 1, 2)];
      const submitted = await run(() => activities.submitBatch(submitInput(4, pieces)));
      await run(() => activities.cancelBatches({ place, ids: [submitted.id] }));
      assert.deepEqual(fake.batch.cancelRequested, [submitted.id]);
      assert.equal((await untilFinished(submitted.id)).status, 'cancelled');
    } finally {
      fake.batch.holdMs = 0;
    }
  });
});

describe('batch planning and settings', () => {
  const piece = (count: number, tokens = count * 10, bytes = count * 100): PieceRef => ({
    key: `k${count}`,
    group: 'g',
    count,
    tokens,
    bytes,
  });

  it('a batch takes whole pieces in order, within its requests, bytes and the queue room', () => {
    const pieces = [piece(30), piece(30), piece(30)];
    assert.equal(piecesForBatch(pieces, { maxRequests: 50_000, maxBytes: 1e9, tokens: Infinity }, false), 3);
    assert.equal(piecesForBatch(pieces, { maxRequests: 60, maxBytes: 1e9, tokens: Infinity }, false), 2);
    assert.equal(piecesForBatch(pieces, { maxRequests: 1e6, maxBytes: 5_999, tokens: Infinity }, false), 1);
    assert.equal(piecesForBatch(pieces, { maxRequests: 1e6, maxBytes: 1e9, tokens: 299 }, false), 0);
    // Nothing at the provider: a piece over the queue room goes alone, or it never would.
    assert.equal(piecesForBatch(pieces, { maxRequests: 1e6, maxBytes: 1e9, tokens: 299 }, true), 1);
  });

  it('custom_ids name run, dialogue, turn, role and try', () => {
    const id = formatCustomId({ datasetRunId: RUN_ID, index: 105, turn: 3, role: 'answer', attempt: 2 });
    assert.equal(id, `${RUN_ID}:105:3:answer:2`);
    assert.deepEqual(parseCustomId(id), {
      datasetRunId: RUN_ID,
      index: 105,
      turn: 3,
      role: 'answer',
      attempt: 2,
    });
  });

  it('reads an endpoint batch mode, prices, discount and limits; names a bad variable', () => {
    const e = loadEndpointRegistry({
      PARROT_ENDPOINT_OAI_URL: 'http://x/v1',
      PARROT_ENDPOINT_OAI_PRICE_IN: '0.15',
      PARROT_ENDPOINT_OAI_PRICE_OUT: '0.6',
      PARROT_ENDPOINT_OAI_MODE: 'batch',
      PARROT_ENDPOINT_OAI_BATCH_MAX_ENQUEUED_TOKENS: '2000000',
      PARROT_ENDPOINT_CHEAP_URL: 'http://y/v1',
      PARROT_ENDPOINT_CHEAP_BATCH_PRICE_IN: '0.05',
      PARROT_ENDPOINT_CHEAP_BATCH_PRICE_OUT: '0.2',
      PARROT_ENDPOINT_HALF_URL: 'http://z/v1',
      PARROT_ENDPOINT_HALF_PRICE_IN: '1',
      PARROT_ENDPOINT_HALF_PRICE_OUT: '2',
      PARROT_ENDPOINT_HALF_BATCH_DISCOUNT: '0.25',
    });
    assert.equal(e.get('oai')!.mode, 'batch');
    assert.equal(e.get('oai')!.batchMaxEnqueuedTokens, 2_000_000);
    assert.deepEqual(batchPrices(e.get('oai')!), { priceIn: 0.075, priceOut: 0.3 });
    assert.deepEqual(batchPrices(e.get('cheap')!), { priceIn: 0.05, priceOut: 0.2 });
    assert.deepEqual(batchPrices(e.get('half')!), { priceIn: 0.75, priceOut: 1.5 });
    assert.throws(
      () =>
        loadEndpointRegistry({
          PARROT_ENDPOINT_A_URL: 'http://x/v1',
          PARROT_ENDPOINT_A_MODE: 'offline',
          PARROT_ENDPOINT_A_BATCH_DISCOUNT: '2',
          PARROT_ENDPOINT_A_BATCH_PRICE_IN: '1',
        }),
      (err: Error) => {
        assert.match(err.message, /PARROT_ENDPOINT_A_MODE: 'offline' is not 'online' or 'batch'/);
        assert.match(err.message, /PARROT_ENDPOINT_A_BATCH_DISCOUNT: '2' is not a share between 0 and 1/);
        assert.match(
          err.message,
          /PARROT_ENDPOINT_A_BATCH_PRICE_IN and PARROT_ENDPOINT_A_BATCH_PRICE_OUT go together/,
        );
        return true;
      },
    );
  });
});

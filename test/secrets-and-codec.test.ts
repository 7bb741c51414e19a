// Keys stay in the worker's environment, never in history; with PARROT_PAYLOAD_KEY set, the
// server holds only ciphertext, and the codec server decrypts for those who hold the key.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Client } from '@temporalio/client';
import { decodeOptionalFailureToOptionalError } from '@temporalio/common/lib/internal-non-workflow/codec-helpers';
import { loadDataConverter } from '@temporalio/common/lib/internal-non-workflow/data-converter-helpers';
import { MAX_UNUSABLE_TRIES } from '../src/activities/llm';
import { AesGcmCodec, ENCRYPTED_ENCODING, encryptingDataConverter } from '../src/codec/aes-gcm-codec';
import { startCodecServer } from '../src/codec/codec-server';
import type { DatasetInputJson } from '../src/config/dataset-input';
import { generateDataset } from '../src/workflows';
import { useFakeLlmSuite } from './helpers/fake-llm-suite';
import { runDataset, type TemporalTestContext } from './helpers/temporal';
import { fakeDatasetInput } from './helpers/inputs';

const API_KEY = `sk-test-${randomBytes(12).toString('hex')}`;
const codec = new AesGcmCodec(randomBytes(32));
/** Model output that makes no usable question (all of it is a leaked assistant turn): an EmptyQuestion failure quotes it. */
const FAILURE_CANARY = `canary-${randomBytes(8).toString('hex')}`;
const UNUSABLE_QUESTION = `\nAssistant: ${FAILURE_CANARY}`;

/**
 * All text a history holds as the server stores it: its strings, and every byte field (payload
 * data and metadata) read as UTF-8. (JSON.stringify of the events would show bytes as numbers,
 * and find nothing in them.)
 */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (value && typeof value === 'object') return Object.values(value).map(textOf).join('\n');
  return '';
}

/** The text of the dataset's and its dialogue groups' histories, as the server returns them. */
async function wholeHistory(
  t: TemporalTestContext,
  workflowId: string,
): Promise<{ text: string; workflows: number }> {
  const ids: string[] = [];
  for await (const wf of t.env.client.workflow.list({ query: `ParrotDataset="${workflowId}"` }))
    ids.push(wf.workflowId);
  const histories = await Promise.all(ids.map((id) => t.env.client.workflow.getHandle(id).fetchHistory()));
  return { text: textOf(histories), workflows: ids.length };
}

const inputFor =
  (s: { outDir: string }) =>
  (name: string, count: number): DatasetInputJson =>
    fakeDatasetInput(`${s.outDir}/${name}`, { count, turns: 2, concurrency: 2 });

/** A dataset of one dialogue whose every question is unusable, so that it fails with EmptyQuestion. */
async function runUnusableDialogue(
  s: { fake: { replyNext(content: string, times?: number): void }; t: TemporalTestContext },
  client: Client,
  input: DatasetInputJson,
  workflowId: string,
) {
  s.fake.replyNext(UNUSABLE_QUESTION, MAX_UNUSABLE_TRIES);
  const result = await client.workflow.execute(generateDataset, {
    taskQueue: s.t.taskQueue,
    workflowId,
    args: [{ ...input, turns: 2 }],
  });
  assert.equal(result.failedCount, 1);
  assert.match(result.failed[0].error, /EmptyQuestion|no usable question/);
  assert.ok(result.failed[0].error.includes(FAILURE_CANARY), 'the result, decoded, still says what failed');
}

describe('secrets (fake LLM server)', () => {
  // No codec here: the histories are in clear, so a key that got into one would be seen.
  const s = useFakeLlmSuite('secrets', { endpointEnv: { PARROT_ENDPOINT_FAKE_API_KEY: API_KEY } });
  const input = inputFor(s);

  it('uses the API key against the provider but never puts it in any history', async () => {
    const result = await runDataset(s.t, 'secret-scan', input('scan', 3));
    assert.equal(result.completed, 3);
    assert.ok(
      s.fake.requests.some((r) => r.headers.authorization === `Bearer ${API_KEY}`),
      'the provider saw the key',
    );
    const { text: history, workflows } = await wholeHistory(s.t, 'secret-scan');
    assert.equal(workflows, 4, 'the dataset and a group per dialogue (a window of 2 takes groups of one)');
    // The scan sees inside payloads: a seed question the provider was asked is there.
    const asked = s.fake.requests.find((r) => r.body?.messages)!.body.messages[0].content as string;
    assert.ok(history.includes(asked), 'the scan reads the payloads');
    assert.equal(history.includes(API_KEY), false);
    assert.equal(history.includes(Buffer.from(API_KEY).toString('base64')), false);
  });

  it("finds a failure's message in a history without the codec (the scan the encrypted suite relies on)", async () => {
    await runUnusableDialogue(s, s.t.env.client, input('unusable', 1), 'unusable-clear');
    const { text } = await wholeHistory(s.t, 'unusable-clear');
    assert.ok(text.includes(FAILURE_CANARY), 'the EmptyQuestion message, with the model output, is in clear');
  });
});

describe('payload encryption (fake LLM server)', () => {
  const s = useFakeLlmSuite('codec', {
    endpointEnv: { PARROT_ENDPOINT_FAKE_API_KEY: API_KEY },
    worker: { dataConverter: encryptingDataConverter(codec) },
  });
  const input = inputFor(s);

  it('stores only ciphertext on the server; the codec server decrypts it for the UI', async () => {
    const client = new Client({
      connection: s.t.env.connection,
      dataConverter: encryptingDataConverter(codec),
    });
    const before = s.fake.requests.length;
    await client.workflow.execute(generateDataset, {
      taskQueue: s.t.taskQueue,
      workflowId: 'encrypted',
      args: [input('enc', 1)],
    });
    // What the server holds, read without the key.
    const raw = await s.t.env.client.workflow.getHandle('encrypted/0').fetchHistory();
    const scheduled = raw.events!.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'answer',
    )!;
    const payload = scheduled.activityTaskScheduledEventAttributes!.input!.payloads![0];
    assert.equal(Buffer.from(payload.metadata!.encoding).toString(), ENCRYPTED_ENCODING);
    // This dataset's seed question, as the provider was asked it, is nowhere in clear.
    const asked = s.fake.requests.slice(before).find((r) => r.body?.messages)!.body.messages[0]
      .content as string;
    assert.equal(textOf(raw).includes(asked.slice(0, 30)), false, 'no dialogue text in clear');

    const server = await startCodecServer(codec);
    try {
      const response = await fetch(`${server.url}/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-namespace': 'default' },
        body: JSON.stringify({
          payloads: [
            {
              metadata: {
                encoding: Buffer.from(payload.metadata!.encoding).toString('base64'),
                'encryption-key-id': Buffer.from(payload.metadata!['encryption-key-id']).toString('base64'),
              },
              data: Buffer.from(payload.data!).toString('base64'),
            },
          ],
        }),
      });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('access-control-allow-origin'), 'http://localhost:8233');
      const [decoded] = (
        (await response.json()) as { payloads: { metadata: Record<string, string>; data: string }[] }
      ).payloads;
      assert.equal(Buffer.from(decoded.metadata.encoding, 'base64').toString(), 'json/plain');
      const args = JSON.parse(Buffer.from(decoded.data, 'base64').toString());
      assert.equal(args.settings.endpoint, 'fake');
      assert.equal(args.dialogue[0].role, 'user');
    } finally {
      await server.close();
    }
  });

  it('encrypts failures too: model output quoted in an EmptyQuestion message is nowhere in clear', async () => {
    const client = new Client({
      connection: s.t.env.connection,
      dataConverter: encryptingDataConverter(codec),
    });
    await runUnusableDialogue(s, client, input('unusable', 1), 'unusable-encrypted');
    const { text, workflows } = await wholeHistory(s.t, 'unusable-encrypted');
    assert.equal(workflows, 2);
    assert.equal(text.includes(FAILURE_CANARY), false);
    assert.match(text, /Encoded failure/, 'the failed ask is in the history, its message encoded');
    // Those who hold the key read it: the client decodes the group's failed activity.
    const events = (await client.workflow.getHandle('unusable-encrypted/0').fetchHistory()).events!;
    const failed = events.find(
      (e) => e.activityTaskFailedEventAttributes,
    )!.activityTaskFailedEventAttributes!;
    const decoded = await decodeOptionalFailureToOptionalError(
      loadDataConverter(encryptingDataConverter(codec)),
      failed.failure,
    );
    assert.ok(decoded?.message.includes(FAILURE_CANARY), decoded?.message);
    // ... and so does the UI, through the codec server: the failure's encoded attributes are a payload.
    const attributes = failed.failure!.encodedAttributes!;
    const server = await startCodecServer(codec);
    try {
      const response = await fetch(`${server.url}/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          payloads: [
            {
              metadata: Object.fromEntries(
                Object.entries(attributes.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
              ),
              data: Buffer.from(attributes.data!).toString('base64'),
            },
          ],
        }),
      });
      const [plain] = ((await response.json()) as { payloads: { data: string }[] }).payloads;
      const { message } = JSON.parse(Buffer.from(plain.data, 'base64').toString()) as { message: string };
      assert.ok(message.includes(FAILURE_CANARY), message);
    } finally {
      await server.close();
    }
  });

  it('refuses a payload made with another key, naming both keys', async () => {
    const other = new AesGcmCodec(randomBytes(32));
    const [sealed] = await other.encode([
      { metadata: { encoding: new TextEncoder().encode('json/plain') }, data: new TextEncoder().encode('1') },
    ]);
    await assert.rejects(codec.decode([sealed]), new RegExp(`key ${other.keyId}.*key ${codec.keyId}`));
    assert.throws(() => new AesGcmCodec(randomBytes(16)), /32 bytes/);
  });
});

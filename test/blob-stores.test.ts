// The two blob stores (S3 on a real MinIO, and local folders) and the export over them: stale
// shards of an earlier export removed, cancellation reaching writes in flight, unique temporary
// files, and configuration errors failing at once with the bucket or folder named.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createDatasetStorageActivities } from '../src/activities/dataset-storage';
import { parseDatasetInput } from '../src/config/dataset-input';
import { DatasetMetricsAccumulator } from '../src/metrics/dataset-metrics';
import type { BlobStore } from '../src/storage/blob-store';
import { FileBlobStore } from '../src/storage/file-blob-store';
import { openBlobStore } from '../src/storage/open-blob-store';
import { S3BlobStore } from '../src/storage/s3-blob-store';
import { STORAGE_CONFIG_ERROR } from '../src/storage/storage-errors';
import type { DialogueRecord, DatasetExport } from '../src/types';
import { testMinio } from './global-fixtures';
import { testRecord } from './helpers/dialogue-records';
import { emptyUsage } from '../src/usage';
import { TEST_ROOTS } from './helpers/roots';
import { sleep } from './helpers/eventually';

const BUCKET = 'blob-store-test';
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-blob-stores-'));

const record = (datasetId: string, index: number): DialogueRecord =>
  testRecord(index, {
    datasetId,
    usage: { ask: emptyUsage(), answer: { promptTokens: 3, completionTokens: 2, calls: 1 } },
  });

describe('blob stores and the export over them', () => {
  before(() => testMinio().createBucket(BUCKET));
  after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

  const outputs: [string, () => string][] = [
    ['S3 (MinIO)', () => `s3://${BUCKET}/stale-${Math.random().toString(36).slice(2)}`],
    ['a local folder', () => pathToFileURL(fs.mkdtempSync(path.join(tmpRoot, 'stale-'))).href],
  ];
  for (const [where, newOutput] of outputs) {
    it(`${where}: an export into a prefix holding a larger earlier export leaves only its own shards, and lists exactly them`, async () => {
      const output = newOutput();
      const store = openBlobStore(output);
      // An earlier export of 10 shards, also in the openai format (not asked for this time), and a
      // file of someone else's beside them.
      for (let i = 0; i < 10; i++) await store.put(`data/part-0000${i}.jsonl`, `{"id": "old/${i}"}\n`);
      for (let i = 0; i < 2; i++) await store.put(`data/openai/part-0000${i}.jsonl`, `{"messages": []}\n`);
      await store.put('data/notes.txt', 'not ours');
      const { storeDialogue, exportDataset, writeReport } = createDatasetStorageActivities(TEST_ROOTS, 1);
      const env = new MockActivityEnvironment();
      const datasetId = 'stale-test';
      for (let i = 0; i < 5; i++) await env.run(storeDialogue, { output, record: record(datasetId, i) });
      const metrics = new DatasetMetricsAccumulator();
      for (let i = 0; i < 5; i++) metrics.add(record(datasetId, i));
      const input = parseDatasetInput({
        count: 5,
        turns: 1,
        output,
        ask: { endpoint: 'fake', model: 'm' },
        answer: { endpoint: 'fake', model: 'm' },
      });
      const usage = { ask: record(datasetId, 0).usage.ask, answer: record(datasetId, 0).usage.answer };
      const ref = { datasetId, lineage: [{ datasetId, runId: 'run-1' }], output, count: 5 };
      const result: DatasetExport = await env.run(exportDataset, {
        ...ref,
        input,
        usage,
        failures: [],
        batches: [],
      });
      await env.run(writeReport, { ...ref, metrics: metrics.result() });

      const written = [0, 1, 2, 3, 4].map((i) => `data/part-0000${i}.jsonl`);
      assert.deepEqual(
        result.shards.map((s) => s.key),
        written,
      );
      assert.deepEqual((await store.list('data/')).sort(), [...written, 'data/notes.txt'].sort());
      for (let i = 0; i < 5; i++)
        assert.equal(JSON.parse((await store.get(written[i]))!).id, `${datasetId}/${i}`);
      const manifest = JSON.parse((await store.get('manifest.json'))!);
      assert.deepEqual(
        manifest.shards.map((s: { key: string }) => s.key),
        written,
      );
      const card = (await store.get('README.md'))!;
      assert.ok(
        card.includes(
          `  data_files:\n  - split: train\n    path:\n${written.map((k) => `    - "${k}"\n`).join('')}---\n`,
        ),
        card.slice(0, 600),
      );
    });
  }

  it('a local folder: two writes of one key at once (a retry beside a stalled try) both succeed, leaving one whole file and no temporaries', async () => {
    const dir = fs.mkdtempSync(path.join(tmpRoot, 'race-'));
    const store = new FileBlobStore(pathToFileURL(dir).href);
    const a = 'a'.repeat(4 << 20);
    const b = 'b'.repeat(4 << 20);
    await Promise.all([store.put('records/00000001.json', a), store.put('records/00000001.json', b)]);
    const text = fs.readFileSync(path.join(dir, 'records/00000001.json'), 'utf8');
    assert.ok(text === a || text === b, 'one of the two writes, whole');
    assert.deepEqual(fs.readdirSync(path.join(dir, 'records')), ['00000001.json']);
  });

  it('S3: aborting the signal ends a put and a multipart upload stuck on a server that never answers', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const client = new S3Client({
      endpoint: `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    try {
      for (const write of [
        (s: BlobStore) => s.put('k.json', '{}'),
        (s: BlobStore) => s.putStream('k.jsonl', Readable.from([Buffer.alloc(1024)])),
      ]) {
        const controller = new AbortController();
        const store = S3BlobStore.fromUri('s3://stuck/prefix', { client, signal: controller.signal });
        const pending = write(store);
        await sleep(300); // the write is in flight
        const started = Date.now();
        controller.abort(new Error('activity cancelled'));
        await assert.rejects(pending, (err: Error) => /abort|cancel/i.test(`${err.name} ${err.message}`));
        assert.ok(Date.now() - started < 2_000, `aborted after ${Date.now() - started} ms`);
      }
    } finally {
      sockets.forEach((s) => s.destroy());
      silent.close();
    }
  });

  it('a local folder: aborting the signal ends a streaming write and removes its temporary file', async () => {
    const dir = fs.mkdtempSync(path.join(tmpRoot, 'abort-'));
    const controller = new AbortController();
    const store = new FileBlobStore(pathToFileURL(dir).href, { signal: controller.signal });
    const endless = new Readable({
      read() {
        setTimeout(() => this.push('line\n'), 5);
      },
    });
    const pending = store.putStream('data/part-00000.jsonl', endless);
    setTimeout(() => controller.abort(), 100);
    await assert.rejects(pending, (err: Error) => err.name === 'AbortError');
    assert.deepEqual(fs.readdirSync(path.join(dir, 'data')), []);
  });

  it('configuration errors fail at once, non-retryable, naming the bucket or the path', async () => {
    await assert.rejects(
      openBlobStore('s3://no-such-bucket-parrot/x').put('a.json', '{}'),
      (err: ApplicationFailure) => {
        assert.ok(
          err instanceof ApplicationFailure && err.nonRetryable && err.type === STORAGE_CONFIG_ERROR,
          String(err),
        );
        assert.equal(
          err.message,
          "storage: bucket 'no-such-bucket-parrot' does not exist (NoSuchBucket on s3://no-such-bucket-parrot/x/a.json)",
        );
        return true;
      },
    );
    await assert.rejects(
      openBlobStore('s3://no-such-bucket-parrot/x').putStream('a.jsonl', Readable.from(['{}\n'])),
      (err: ApplicationFailure) =>
        err.nonRetryable && /bucket 'no-such-bucket-parrot' does not exist/.test(err.message),
    );
    const file = path.join(tmpRoot, 'a-file');
    fs.writeFileSync(file, '');
    await assert.rejects(
      openBlobStore(pathToFileURL(path.join(file, 'out')).href).put('a.json', '{}'),
      (err: ApplicationFailure) =>
        err instanceof ApplicationFailure &&
        err.nonRetryable &&
        err.type === STORAGE_CONFIG_ERROR &&
        err.message.startsWith(`storage: cannot write ${path.join(file, 'out', 'a.json')} (ENOTDIR`),
    );
    // A missing key is no error.
    assert.equal(await openBlobStore(`s3://${BUCKET}/nothing`).get('none.json'), undefined);
  });
});

// A real MinIO server for the tests, on a free loopback port with a throw-away data folder.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { eventually, GiveUp } from './eventually';
import { MINIO_BIN, requireTool } from './tools';

export interface MinioServer {
  endpoint: string;
  port: number;
  dir: string;
  accessKeyId: string;
  secretAccessKey: string;
  client(): S3Client;
  createBucket(name: string): Promise<void>;
  /** keepData: leaves the data folder, so that startMinio({ port, dir }) brings the same server back. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export async function startMinio(opts: { port?: number; dir?: string } = {}): Promise<MinioServer> {
  const port = opts.port ?? (await freePort());
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-minio-'));
  const accessKeyId = 'parrot-test';
  const secretAccessKey = 'parrot-test-secret';
  const endpoint = `http://127.0.0.1:${port}`;
  let log = '';
  const proc: ChildProcess = spawn(
    requireTool(MINIO_BIN),
    ['server', dir, '--address', `127.0.0.1:${port}`, '--quiet'],
    {
      env: {
        ...process.env,
        MINIO_ROOT_USER: accessKeyId,
        MINIO_ROOT_PASSWORD: secretAccessKey,
        MINIO_BROWSER: 'off',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  proc.stdout!.on('data', (d) => (log += d));
  proc.stderr!.on('data', (d) => (log += d));

  await eventually(
    async () => {
      if (proc.exitCode !== null) throw new GiveUp(`MinIO exited at start (code ${proc.exitCode}):\n${log}`);
      return (await fetch(`${endpoint}/minio/health/live`)).ok;
    },
    { what: 'MinIO to become healthy', interval: 200 },
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${log}`, { cause: err });
  });

  return {
    ...attachMinio({ endpoint, port, dir, accessKeyId, secretAccessKey }),
    async stop({ keepData = false } = {}) {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
      if (!keepData) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A MinIO that another process started (the global fixture, for parallel test workers): it cannot stop it. */
export function attachMinio(
  s: Pick<MinioServer, 'endpoint' | 'port' | 'dir' | 'accessKeyId' | 'secretAccessKey'>,
): MinioServer {
  const client = () =>
    new S3Client({
      endpoint: s.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey },
    });
  return {
    ...s,
    client,
    async createBucket(name) {
      await client().send(new CreateBucketCommand({ Bucket: name }));
    },
    stop() {
      return Promise.reject(new Error(`MinIO at ${s.endpoint} belongs to another process`));
    },
  };
}

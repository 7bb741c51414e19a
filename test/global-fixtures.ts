// Mocha global fixtures: one real MinIO and one real Temporal dev server for the whole run.
// Suites share the server and keep apart by task queue (each worker gets a fresh one) and by
// workflow IDs that no other suite uses. The S3 settings go into the environment, where the
// worker's storage code reads them, as it does in production.
//
// Mocha runs the setup in its main process; with --parallel, each test file runs in a worker
// process that inherits the environment set here and attaches to the same two servers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { attachMinio, startMinio, type MinioServer } from './helpers/minio-server';
import { SHARED_BUNDLE, startTemporal, writeWorkflowBundle } from './helpers/temporal';

// Worker logs only when something is wrong; the test output stays readable. Every test process
// installs it before its first worker.
Runtime.install({ logger: new DefaultLogger('ERROR') });

const TEMPORAL_ADDRESS = 'PARROT_TEST_TEMPORAL_ADDRESS';
const MINIO = 'PARROT_TEST_MINIO';

let minio: MinioServer | undefined;
const bundleFile = path.join(os.tmpdir(), `parrot-test-workflows-${process.pid}.js`);
let temporal: Promise<TestWorkflowEnvironment> | undefined;

/** The dev server every suite shares (a suite that needs its own calls startTemporal). */
export function testTemporal(): Promise<TestWorkflowEnvironment> {
  if (!temporal) {
    const address = process.env[TEMPORAL_ADDRESS];
    if (!address) throw new Error('Temporal is not running: the global fixture did not start it');
    temporal = TestWorkflowEnvironment.createFromExistingServer({ address });
  }
  return temporal;
}

export function testMinio(): MinioServer {
  if (!minio) {
    const shared = process.env[MINIO];
    if (!shared) throw new Error('MinIO is not running: the global fixture did not start it');
    minio = attachMinio(JSON.parse(shared) as Parameters<typeof attachMinio>[0]);
  }
  return minio;
}

export async function mochaGlobalSetup() {
  // The workflows are bundled once here, not in each test process (a few seconds of CPU each).
  const [m, env] = await Promise.all([startMinio(), startTemporal(), writeWorkflowBundle(bundleFile)]);
  minio = m;
  temporal = Promise.resolve(env);
  Object.assign(process.env, {
    [SHARED_BUNDLE]: bundleFile,
    [TEMPORAL_ADDRESS]: env.connection.options.address,
    [MINIO]: JSON.stringify({
      endpoint: m.endpoint,
      port: m.port,
      dir: m.dir,
      accessKeyId: m.accessKeyId,
      secretAccessKey: m.secretAccessKey,
    }),
    PARROT_S3_ENDPOINT: m.endpoint,
    AWS_ACCESS_KEY_ID: m.accessKeyId,
    AWS_SECRET_ACCESS_KEY: m.secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
}

export async function mochaGlobalTeardown() {
  await Promise.all([minio?.stop(), temporal?.then((t) => t.teardown())]);
  fs.rmSync(bundleFile, { force: true });
}

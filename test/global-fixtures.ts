// Mocha global fixtures: one real MinIO and one real Temporal dev server for the whole run.
// Suites share the server and keep apart by task queue (each worker gets a fresh one) and by
// workflow IDs that no other suite uses. The S3 settings go into the environment, where the
// worker's storage code reads them, as it does in production.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startMinio, type MinioServer } from './helpers/minio-server';
import { startTemporal } from './helpers/temporal';

let minio: MinioServer | undefined;
let temporal: TestWorkflowEnvironment | undefined;

/** The dev server every suite shares (a suite that needs its own calls startTemporal). */
export function testTemporal(): TestWorkflowEnvironment {
  if (!temporal) throw new Error('Temporal is not running: the global fixture did not start it');
  return temporal;
}

export function testMinio(): MinioServer {
  if (!minio) throw new Error('MinIO is not running: the global fixture did not start it');
  return minio;
}

/** Takes the shared MinIO down, keeping its data; the function returned brings it back on the same port. */
export async function stopTestMinio(): Promise<() => Promise<void>> {
  const { port, dir } = testMinio();
  await testMinio().stop({ keepData: true });
  return async () => {
    minio = await startMinio({ port, dir });
  };
}

export async function mochaGlobalSetup() {
  // Worker logs only when something is wrong; the test output stays readable.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  [minio, temporal] = await Promise.all([startMinio(), startTemporal()]);
  Object.assign(process.env, {
    PARROT_S3_ENDPOINT: minio.endpoint,
    AWS_ACCESS_KEY_ID: minio.accessKeyId,
    AWS_SECRET_ACCESS_KEY: minio.secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
}

export async function mochaGlobalTeardown() {
  await Promise.all([minio?.stop(), temporal?.teardown()]);
}

// Mocha global fixtures: one real MinIO for the whole run. The S3 settings go into the
// environment, where the worker's storage code reads them, as it does in production.
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startMinio, type MinioServer } from './helpers/minio-server';

let minio: MinioServer | undefined;

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
  minio = await startMinio();
  Object.assign(process.env, {
    PARROT_S3_ENDPOINT: minio.endpoint,
    AWS_ACCESS_KEY_ID: minio.accessKeyId,
    AWS_SECRET_ACCESS_KEY: minio.secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
}

export async function mochaGlobalTeardown() {
  await minio?.stop();
}

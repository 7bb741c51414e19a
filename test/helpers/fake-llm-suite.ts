// The usual set-up of a workflow test: a FAKE LLM server as endpoint `fake`, a scratch output
// folder, and a worker on the shared dev server (see useTemporalWorker); all torn down after.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ActivityDeps } from '../../src/activities';
import { loadEndpointRegistry } from '../../src/config/endpoints';
import { startFakeOpenAiServer, type FakeOpenAiOptions, type FakeOpenAiServer } from './fake-openai-server';
import { TEST_ROOTS } from './roots';
import { useTemporalWorker, type TemporalTestContext, type TestWorkerOptions } from './temporal';

export interface FakeLlmSuite {
  /** Set in the suite's `before` hook. */
  fake: FakeOpenAiServer;
  outDir: string;
  t: TemporalTestContext;
}

export function useFakeLlmSuite(
  name: string,
  options: {
    endpointEnv?: Record<string, string> | ((fakeUrl: string) => Record<string, string>);
    deps?: Partial<ActivityDeps>;
    worker?: TestWorkerOptions;
    fake?: FakeOpenAiOptions;
  } = {},
): FakeLlmSuite {
  const suite = { outDir: fs.mkdtempSync(path.join(os.tmpdir(), `parrot-${name}-`)) } as FakeLlmSuite;
  before(async () => {
    suite.fake = await startFakeOpenAiServer(options.fake);
  });
  after(async () => {
    await suite.fake?.close();
    fs.rmSync(suite.outDir, { recursive: true, force: true });
  });
  suite.t = useTemporalWorker(
    () => ({
      endpoints: loadEndpointRegistry({
        PARROT_ENDPOINT_FAKE_URL: suite.fake.url,
        ...(typeof options.endpointEnv === 'function'
          ? options.endpointEnv(suite.fake.url)
          : options.endpointEnv),
      }),
      roots: TEST_ROOTS,
      ...options.deps,
    }),
    options.worker,
  );
  return suite;
}

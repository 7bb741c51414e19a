// `npm run promote -- <build id>`: makes a version of the PARROT_DEPLOYMENT worker deployment current.
// New workflows, and running ones at their next workflow task, then go to that version's workers
// only (they AUTO_UPGRADE: src/config/worker-deployment.ts). A rolling deploy:
//   1. start the new version's workers (PARROT_DEPLOYMENT, PARROT_BUILD_ID=<new>) beside the old;
//   2. `npm run promote -- <new>`: it waits until they poll every task queue the old version polls;
//   3. stop the old version's workers (SIGTERM): they finish the LLM calls they hold, then exit.
import { parseArgs } from 'node:util';
import { isGrpcServiceError, type Client } from '@temporalio/client';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import { connectClient } from './connection';

const GRPC_NOT_FOUND = 5;
const GRPC_FAILED_PRECONDITION = 9;

/** Makes `version` current once its workers poll; returns the build ID that was current before, if any. */
export async function promoteVersion(
  client: Client,
  version: WorkerDeploymentVersion,
  waitMs = 120_000,
): Promise<string | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const r = await client.workflowService.setWorkerDeploymentCurrentVersion({
        namespace: client.options.namespace,
        deploymentName: version.deploymentName,
        buildId: version.buildId,
        identity: client.options.identity,
      });
      return r.previousDeploymentVersion?.buildId || undefined;
    } catch (err) {
      // The server refuses until the version's workers poll all the deployment's task queues.
      const notYet = isGrpcServiceError(err) && [GRPC_NOT_FOUND, GRPC_FAILED_PRECONDITION].includes(err.code);
      if (!notYet || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

async function main() {
  const { positionals } = parseArgs({ args: process.argv.slice(2), strict: true, allowPositionals: true });
  const [buildId] = positionals;
  const deploymentName = process.env.PARROT_DEPLOYMENT;
  if (!buildId || positionals.length > 1 || !deploymentName)
    throw new Error('usage: PARROT_DEPLOYMENT=<name> npm run promote -- <build id>');
  const previous = await promoteVersion(await connectClient(), { deploymentName, buildId });
  console.log(
    `${deploymentName}.${buildId} is current.${previous ? ` Stop the workers of ${deploymentName}.${previous} (SIGTERM): they finish their calls, then exit.` : ''}`,
  );
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error('promote failed:', err instanceof Error ? err.message : err);
    process.exit(1);
  });
}

// Worker Versioning: which deployment version a worker belongs to (PARROT_DEPLOYMENT and
// PARROT_BUILD_ID), so that during a rolling deploy the server sends each workflow's tasks to one
// version's workers only, and an old worker never picks up a history that new code has extended.
// Off when unset: a versioned worker receives no task until its version is made current
// (`npm run promote`), and servers without Worker Deployments keep working.
import type { WorkerDeploymentVersion } from '@temporalio/common';
import type { WorkerOptions } from '@temporalio/worker';

export function workerDeploymentFromEnv(env: NodeJS.ProcessEnv): WorkerDeploymentVersion | undefined {
  const deploymentName = env.PARROT_DEPLOYMENT || undefined;
  const buildId = env.PARROT_BUILD_ID || undefined;
  if (!deploymentName && !buildId) return undefined;
  if (!deploymentName || !buildId)
    throw new Error(
      'PARROT_DEPLOYMENT and PARROT_BUILD_ID go together: set both (versioned workers) or neither',
    );
  return { deploymentName, buildId };
}

/**
 * Every workflow AUTO_UPGRADEs: at its next workflow task after a new version becomes current, it
 * moves to that version's workers and never goes back. Datasets run for hours and continue as new:
 * PINNED would keep the old workers up until the last dataset ended. Groups and dialogues last
 * minutes and could be PINNED, but their code is held to the same rule as the dataset's (new code
 * replays old histories: `patched()` and test/replay.test.ts), so the old version only has to
 * finish the calls it holds (the shutdown grace) before it is stopped.
 */
export function versioningOptions(
  version: WorkerDeploymentVersion | undefined,
): Pick<WorkerOptions, 'workerDeploymentOptions'> {
  if (!version) return {};
  return {
    workerDeploymentOptions: {
      version,
      useWorkerVersioning: true,
      defaultVersioningBehavior: 'AUTO_UPGRADE',
    },
  };
}

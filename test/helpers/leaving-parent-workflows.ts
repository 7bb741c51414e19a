// Test workflows: parrot's own, and parents that start a dialogue group on a task queue no
// worker polls yet, so that the group's first workflow task runs after its parent has closed
// (as under load, when the server carries out a start after a dataset was cancelled).
import { CancellationScope, ParentClosePolicy, startChild, workflowInfo } from '@temporalio/workflow';
import { generateDialogues, type DialogueGroupInput } from '../../src/workflows/dialogue-group';

export * from '../../src/workflows';

/** Starts the group and completes. */
export async function startsAGroupAndLeaves(
  input: DialogueGroupInput,
  groupId: string,
  taskQueue: string,
): Promise<void> {
  await startChild(generateDialogues, {
    workflowId: groupId,
    taskQueue,
    args: [input],
    parentClosePolicy: ParentClosePolicy.ABANDON,
  });
}

/** Starts the group as a dataset would (stamped with this run), then waits to be cancelled. */
export async function startsAGroupAndWaits(
  input: DialogueGroupInput,
  groupId: string,
  taskQueue: string,
): Promise<void> {
  const settings = { ...input.settings, datasetRunId: workflowInfo().firstExecutionRunId };
  await startChild(generateDialogues, {
    workflowId: groupId,
    taskQueue,
    args: [{ ...input, settings }],
    parentClosePolicy: ParentClosePolicy.ABANDON,
  });
  await CancellationScope.current().cancelRequested;
}

// Test workflows: parrot's own, and a parent that starts a dialogue group on a task queue no
// worker polls yet and closes, so that the group's first workflow task runs after its parent
// has closed (as under load, when the server carries out a start after a dataset was cancelled).
import { ParentClosePolicy, startChild } from '@temporalio/workflow';
import { generateDialogues, type DialogueGroupInput } from '../../src/workflows/dialogue-group';

export * from '../../src/workflows';

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

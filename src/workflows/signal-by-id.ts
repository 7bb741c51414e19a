// Signals between the dataset, its groups and its batchers go by workflow ID: they reach the
// current run across continue-as-new, and fail only when the workflow has closed.
import { getExternalWorkflowHandle, isCancellation, type SignalDefinition } from '@temporalio/workflow';

/** Signals a workflow by ID; false when it has closed (or never ran). */
export async function signalById<Args extends unknown[]>(
  workflowId: string,
  def: SignalDefinition<Args>,
  ...args: Args
): Promise<boolean> {
  try {
    await getExternalWorkflowHandle(workflowId).signal(def, ...args);
    return true;
  } catch (err) {
    if (isCancellation(err)) throw err;
    return false;
  }
}

// Workflow interceptors for a test: the group that runs dialogue 3, and every group of a dataset
// whose ID starts with `bad-deploy`, fail every workflow task, as after a bad deploy (an Error
// that is not an ApplicationFailure fails the task, not the workflow). A worker without them is
// the rollback.
import { workflowInfo, type WorkflowInterceptorsFactory } from '@temporalio/workflow';

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      async execute(input, next) {
        const { workflowType, workflowId } = workflowInfo();
        if (
          workflowType === 'generateDialogues' &&
          (workflowId.endsWith('/3') || workflowId.startsWith('bad-deploy'))
        )
          throw new Error('a bad deploy: this workflow task always fails');
        return next(input);
      },
    },
  ],
});

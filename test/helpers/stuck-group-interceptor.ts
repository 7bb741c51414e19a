// Workflow interceptors for a test: the group that runs dialogue 3 fails every workflow task,
// as after a bad deploy (an Error that is not an ApplicationFailure fails the task, not the workflow).
import { workflowInfo, type WorkflowInterceptorsFactory } from '@temporalio/workflow';

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      async execute(input, next) {
        const { workflowType, workflowId } = workflowInfo();
        if (workflowType === 'generateDialogues' && workflowId.endsWith('/3'))
          throw new Error('a bad deploy: this workflow task always fails');
        return next(input);
      },
    },
  ],
});

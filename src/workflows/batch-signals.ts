// How the dialogue groups, the batchers and the dataset talk about batches: by signal to
// workflow IDs (each reaches the current run across continue-as-new), carrying references and
// statuses, never requests or replies (those live in storage: src/batch/batch-layout.ts).
//   group → batcher:    batchRequests (a piece of requests written), batchGroupDone
//   batcher → group:    batchStatus (its pieces' batch and status), batchResults (an outcome file)
//   batcher → dataset:  batcherView (for progress and the UI), batchRejected (fails the dataset)
//   dataset → batcher:  batchExpect (groups just started), batcherControl (pause, unpause, finish)
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { BatcherView, BatchRole, PieceRef, ProviderBatchStatus } from '../batch/batch-types';

export const batchRequestsSignal = defineSignal<[PieceRef]>('batchRequests');
/** A group that will send no more requests. */
export const batchGroupDoneSignal = defineSignal<[string]>('batchGroupDone');

export interface BatchStatusUpdate {
  batchId: string;
  status: ProviderBatchStatus;
  /** At submission: the group's pieces the batch holds. */
  pieces?: string[];
}
export const batchStatusSignal = defineSignal<[BatchStatusUpdate]>('batchStatus');
/** A finished batch's outcomes for the group: the key of its outcome file. */
export const batchResultsSignal = defineSignal<[{ batchId: string; key: string }]>('batchResults');

export const batcherViewSignal = defineSignal<[BatcherView]>('batcherView');
export const batchRejectedSignal = defineSignal<[{ role: BatchRole; message: string }]>('batchRejected');

/** Groups the dataset has just started: a batch waits for their requests too. */
export const batchExpectSignal = defineSignal<[string[]]>('batchExpect');

export type BatcherControl = 'pause' | 'unpause' | 'finish';
export const batcherControlSignal = defineSignal<[BatcherControl]>('batcherControl');

export const batcherQuery = defineQuery<BatcherView>('batches');

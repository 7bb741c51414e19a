// Which roles go to a batch API: the input's `batch` on the role, else the endpoint's mode on the
// workers. Pure: the batchRoutes activity and the estimate both decide it here.
import type { BatchSettings } from '../config/dataset-input';
import type { EndpointBatchConfig } from '../config/batch-endpoints';

export function usesBatch(
  choice: boolean | BatchSettings | undefined,
  endpoint: EndpointBatchConfig | undefined,
) {
  if (choice === false) return false;
  if (choice !== undefined) return true;
  return endpoint?.mode === 'batch';
}

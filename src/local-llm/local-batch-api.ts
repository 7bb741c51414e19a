// The local model server's Files and Batches API (../providers/batch-api.ts): each line answered by the
// server's own chat or raw completion, as many at once as the model has sequences. Offline
// batch mode: `npm run demo -- examples/batch.json`.
import { createBatchApi, type BatchApi, type LineResponse } from '../providers/batch-api';

type Complete = (body: Record<string, unknown>, signal: AbortSignal) => Promise<unknown>;

/** An error the server would have answered over HTTP (status, message, type, code), as a line's response. */
function errorResponse(err: unknown): LineResponse {
  const e = err as { status?: number; message?: string; type?: string; code?: string };
  return {
    status: e.status ?? 500,
    body: {
      error: { message: e.message ?? String(err), type: e.type ?? 'server_error', code: e.code ?? null },
    },
  };
}

export function localBatchApi(
  modelId: string,
  sequences: number,
  complete: { chat: Complete; text: Complete },
): BatchApi {
  return createBatchApi({
    concurrency: sequences,
    async runLine(url, body, signal) {
      if (body.model !== modelId)
        return errorResponse({
          status: 404,
          message: `The model '${String(body.model)}' does not exist; this endpoint serves '${modelId}'`,
          type: 'invalid_request_error',
          code: 'model_not_found',
        });
      try {
        const run = url === '/v1/completions' ? complete.text : complete.chat;
        return { status: 200, body: await run(body, signal) };
      } catch (err) {
        return errorResponse(err);
      }
    },
  });
}

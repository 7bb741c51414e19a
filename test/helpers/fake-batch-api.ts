// The FAKE server's Files and Batches API (src/providers/batch-api.ts, answering each line with
// the fake's usual chat replies), with faults a test can inject and a count of every request
// submitted, by custom_id, so that a test can assert that none was submitted twice:
//   expireNext(n) / failNext(n, status):  the next n lines run expire, or fail with that status
//   holdMs:                              every batch waits this long before its lines run (slow batches)
//   rejectNext(param, message):          the next batch fails validation, naming its first line and `param`
//   refuseForQuotaNext():                the next batch fails as OpenAI fails one past the enqueued-token limit
// Batches run on the server's own timers: one completes whether or not any worker is polling.
import { createBatchApi, type BatchApi, type RunLine } from '../../src/providers/batch-api';

export interface FakeBatchApi {
  api: BatchApi;
  /** custom_id → how many batches that passed validation held it. */
  submitted: Map<string, number>;
  /** Requests submitted more than once (0 when every custom_id was submitted once). */
  duplicates(): number;
  /** Lines answered 200 (each a call made, as the provider would bill it). */
  answered: number;
  /** IDs of the batches created, in order, and of those a client asked to cancel. */
  created: string[];
  cancelRequested: string[];
  /** Every batch waits this long (ms) after validation before its lines run. */
  holdMs: number;
  expireNext(lines: number): void;
  failNext(lines: number, status?: number, message?: string): void;
  rejectNext(param: string, message: string): void;
  refuseForQuotaNext(): void;
}

export function createFakeBatchApi(runLine: RunLine, limits: { maxRequests?: number } = {}): FakeBatchApi {
  const fates: ({ expire: true } | { status: number; message: string })[] = [];
  const rejections: { line?: null; param: string | null; message: string; code?: string }[] = [];
  const fake: FakeBatchApi = {
    api: undefined as unknown as BatchApi,
    submitted: new Map(),
    duplicates: () => [...fake.submitted.values()].reduce((n, k) => n + k - 1, 0),
    answered: 0,
    created: [],
    cancelRequested: [],
    holdMs: 0,
    expireNext(lines) {
      for (let i = 0; i < lines; i++) fates.push({ expire: true });
    },
    failNext(lines, status = 500, message = 'fake batch line failure') {
      for (let i = 0; i < lines; i++) fates.push({ status, message });
    },
    rejectNext(param, message) {
      rejections.push({ param, message });
    },
    refuseForQuotaNext() {
      rejections.push({
        line: null,
        param: null,
        code: 'token_limit_exceeded',
        message:
          'Enqueued token limit reached for fake-model in organization org-fake. Limit: 90,000 enqueued tokens. Please try again once some in_progress batches have been completed.',
      });
    },
  };
  const api = createBatchApi({
    async runLine(url, body, signal) {
      const response = await runLine(url, body, signal);
      if (response.status === 200) fake.answered++;
      return response;
    },
    concurrency: 64,
    maxRequests: limits.maxRequests,
    hooks: {
      holdMs: () => fake.holdMs,
      lineFate: () => fates.shift(),
      validate: (lines) => {
        const r = rejections.shift();
        return r ? [{ line: lines[0].line, ...r }] : [];
      },
      accepted: (batch, lines) => {
        for (const l of lines) fake.submitted.set(l.custom_id, (fake.submitted.get(l.custom_id) ?? 0) + 1);
      },
    },
  });
  fake.api = {
    batches: api.batches,
    files: api.files,
    close: () => api.close(),
    async handle(req, res) {
      const url = req.url ?? '';
      const cancel = /^\/v1\/batches\/([^/]+)\/cancel$/.exec(url);
      if (cancel && req.method === 'POST') fake.cancelRequested.push(cancel[1]);
      const before = api.batches.size;
      const handled = await api.handle(req, res);
      if (api.batches.size > before) fake.created.push([...api.batches.keys()].at(-1)!);
      return handled;
    },
  };
  return fake;
}

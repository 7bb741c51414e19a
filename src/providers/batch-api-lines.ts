// How the in-memory Batches API (./batch-api.ts) runs a batch: validates its file, runs its
// lines a few at a time, and writes the output and error files as OpenAI does.
import type { BatchApiOptions, LineResponse } from './batch-api';

export interface BatchFile {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  status: 'processed';
  content: Buffer;
}

export interface BatchRecord {
  id: string;
  object: 'batch';
  endpoint: string;
  input_file_id: string;
  completion_window: string;
  status:
    | 'validating'
    | 'failed'
    | 'in_progress'
    | 'finalizing'
    | 'completed'
    | 'expired'
    | 'cancelling'
    | 'cancelled';
  created_at: number;
  expires_at: number;
  in_progress_at?: number;
  finalizing_at?: number;
  completed_at?: number;
  failed_at?: number;
  expired_at?: number;
  cancelling_at?: number;
  cancelled_at?: number;
  output_file_id?: string;
  error_file_id?: string;
  errors?: {
    object: 'list';
    data: { code: string; line: number | null; param: string | null; message: string }[];
  };
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
}

/** One line of an input file, as validation left it. */
export interface ParsedLine {
  /** 1-based, as the API's errors count. */
  line: number;
  custom_id: string;
  url: string;
  body: Record<string, unknown>;
}

interface Deps extends BatchApiOptions {
  files: Map<string, BatchFile>;
  addFile(filename: string, purpose: string, content: Buffer): BatchFile;
  running: Set<AbortController>;
}

type Problem = { line: number | null; param: string | null; message: string };

const isTerminal = (s: BatchRecord['status']) =>
  s === 'failed' || s === 'completed' || s === 'expired' || s === 'cancelled';

/** The input file's lines, or the problems that fail the batch. */
function parseLines(
  file: BatchFile,
  batch: BatchRecord,
  limits: { maxRequests: number; maxBytes: number },
): ParsedLine[] | Problem[] {
  if (file.bytes > limits.maxBytes)
    return [
      { line: null, param: null, message: `the file is ${file.bytes} bytes; at most ${limits.maxBytes}` },
    ];
  const texts = file.content.toString('utf8').split('\n');
  const lines: ParsedLine[] = [];
  const problems: Problem[] = [];
  const seen = new Set<string>();
  let model: string | undefined;
  texts.forEach((text, i) => {
    if (!text.trim()) return;
    const at = (param: string | null, message: string) => problems.push({ line: i + 1, param, message });
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return at(null, 'the line is not JSON');
    }
    const body = v.body as Record<string, unknown> | undefined;
    if (typeof v.custom_id !== 'string' || !v.custom_id) return at('custom_id', 'custom_id must be a string');
    if (seen.has(v.custom_id)) return at('custom_id', `custom_id '${v.custom_id}' appears twice`);
    seen.add(v.custom_id);
    if (v.method !== 'POST') return at('method', 'method must be POST');
    if (v.url !== batch.endpoint) return at('url', `url must be the batch's endpoint ${batch.endpoint}`);
    if (!body || typeof body.model !== 'string') return at('body.model', 'body.model must be a string');
    if (model !== undefined && body.model !== model)
      return at('body.model', `every line must use one model (line 1 uses '${model}')`);
    model = body.model;
    lines.push({ line: i + 1, custom_id: v.custom_id, url: v.url, body });
  });
  if (lines.length > limits.maxRequests)
    problems.push({
      line: null,
      param: null,
      message: `${lines.length} requests; at most ${limits.maxRequests}`,
    });
  if (!lines.length && !problems.length)
    problems.push({ line: null, param: null, message: 'the file has no lines' });
  return problems.length ? problems : lines;
}

const isProblems = (x: ParsedLine[] | Problem[]): x is Problem[] => x.length > 0 && !('custom_id' in x[0]);

export function batchLines(deps: Deps) {
  const concurrency = deps.concurrency ?? 4;
  const limits = { maxRequests: deps.maxRequests ?? 50_000, maxBytes: deps.maxBytes ?? 200 * 1024 * 1024 };
  const now = () => Math.floor(Date.now() / 1000);

  const fail = (batch: BatchRecord, problems: Problem[]) => {
    batch.status = 'failed';
    batch.failed_at = now();
    batch.errors = { object: 'list', data: problems.map((p) => ({ code: 'invalid_request', ...p })) };
  };

  /** Runs every line (a few at a time) unless stopped; each one's output or error line. */
  async function runAll(batch: BatchRecord, lines: ParsedLine[], stop: AbortController) {
    const out: string[] = [];
    const errors: string[] = [];
    let next = 0;
    const record = (
      l: ParsedLine,
      response: LineResponse | null,
      error: { code: string; message: string } | null,
    ) => {
      const ok = response?.status === 200;
      (ok ? out : errors).push(
        JSON.stringify({
          id: `batch_req_${batch.id}_${l.line}`,
          custom_id: l.custom_id,
          response: response && {
            status_code: response.status,
            request_id: `req_${l.line}`,
            body: response.body,
          },
          error,
        }),
      );
      if (ok) batch.request_counts.completed++;
      else batch.request_counts.failed++;
    };
    const worker = async () => {
      while (next < lines.length) {
        const l = lines[next++];
        if (stop.signal.aborted || batch.status === 'cancelling') {
          record(l, null, {
            code: 'batch_cancelled',
            message: 'The batch was cancelled before this request ran.',
          });
          continue;
        }
        const fate = deps.hooks?.lineFate?.(l, batch);
        if (fate && 'expire' in fate) {
          record(l, null, {
            code: 'batch_expired',
            message: 'This request could not be executed before the completion window expired.',
          });
          continue;
        }
        if (fate) {
          record(
            l,
            { status: fate.status, body: { error: { message: fate.message, type: 'server_error' } } },
            null,
          );
          continue;
        }
        record(l, await deps.runLine(l.url, l.body, stop.signal).catch(toResponse), null);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, lines.length) }, worker));
    return { out, errors, expired: errors.some((e) => e.includes('"batch_expired"')) };
  }

  async function process(batch: BatchRecord, file: BatchFile) {
    const stop = new AbortController();
    deps.running.add(stop);
    try {
      await pause(10, stop.signal);
      const parsed = parseLines(file, batch, limits);
      const extra = isProblems(parsed) ? [] : (deps.hooks?.validate?.(parsed, batch) ?? []);
      if (isProblems(parsed) || extra.length) return fail(batch, isProblems(parsed) ? parsed : extra);
      const cancelling = () => batch.status === 'cancelling';
      if (cancelling()) return finish(batch, { out: [], errors: [] }, 'cancelled');
      deps.hooks?.accepted?.(batch, parsed);
      Object.assign(batch, { status: 'in_progress', in_progress_at: now() });
      batch.request_counts.total = parsed.length;
      await pause(deps.hooks?.holdMs?.(batch) ?? 0, stop.signal, cancelling);
      const done = await runAll(batch, parsed, stop);
      if (stop.signal.aborted) return;
      finish(batch, done, cancelling() ? 'cancelled' : done.expired ? 'expired' : 'completed');
    } finally {
      deps.running.delete(stop);
    }
  }

  function finish(
    batch: BatchRecord,
    done: { out: string[]; errors: string[] },
    status: 'completed' | 'expired' | 'cancelled',
  ) {
    Object.assign(batch, { status: 'finalizing', finalizing_at: now() });
    const write = (rows: string[], kind: string) =>
      rows.length
        ? deps.addFile(
            `${batch.id}_${kind}.jsonl`,
            'batch_output',
            Buffer.from(rows.map((r) => `${r}\n`).join('')),
          ).id
        : undefined;
    batch.output_file_id = write(done.out, 'output');
    batch.error_file_id = write(done.errors, 'error');
    Object.assign(batch, { status, [`${status}_at`]: now() });
  }

  return {
    process,
    /** Cancelling: lines not yet run are not run; the batch ends cancelled with what finished. */
    cancel(batch: BatchRecord): BatchRecord {
      if (!isTerminal(batch.status) && batch.status !== 'cancelling')
        Object.assign(batch, { status: 'cancelling', cancelling_at: now() });
      return batch;
    },
  };
}

function toResponse(err: unknown): LineResponse {
  return {
    status: 500,
    body: { error: { message: String((err as Error)?.message ?? err), type: 'server_error' } },
  };
}

/** Waits `ms`, or less when aborted or `until` turns true (checked every 20 ms). */
async function pause(ms: number, signal: AbortSignal, until: () => boolean = () => false) {
  const end = Date.now() + ms;
  while (Date.now() < end && !signal.aborted && !until())
    await new Promise((r) => setTimeout(r, Math.min(20, end - Date.now())));
}

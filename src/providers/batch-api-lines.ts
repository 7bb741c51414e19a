// How the in-memory Batches API (./batch-api.ts) runs a batch: validates its file, runs its
// lines a few at a time, and writes the output and error files as OpenAI does.
import type { Batch } from 'openai/resources/batches';
import { MAX_BATCH_BYTES, MAX_BATCH_REQUESTS } from '../config/batch-endpoints';

/** What a line's request got: an HTTP status and a JSON body. */
export interface LineResponse {
  status: number;
  body: unknown;
}

export type RunLine = (
  url: string,
  body: Record<string, unknown>,
  signal: AbortSignal,
) => Promise<LineResponse>;

/** How a line ends instead of being run: it expires, or fails with a status. */
export type LineFate = { expire: true } | { status: number; message: string };

export interface BatchApiHooks {
  /** Before the lines run (ms): a slow provider. */
  holdMs?(batch: BatchRecord): number;
  /** A line's fate, when it is not to run as usual. */
  lineFate?(line: ParsedLine, batch: BatchRecord): LineFate | undefined;
  /** Problems that fail the batch at validation, beyond the built-in checks (code default `invalid_request`). */
  validate?(
    lines: ParsedLine[],
    batch: BatchRecord,
  ): { line: number | null; param: string | null; message: string; code?: string }[];
  /** Told of every batch that passed validation, with its lines (once each). */
  accepted?(batch: BatchRecord, lines: ParsedLine[]): void;
}

export interface BatchApiOptions {
  runLine: RunLine;
  /** Lines run at once (default 4). */
  concurrency?: number;
  /** OpenAI's limits: 50,000 requests and 200 MB a batch. */
  maxRequests?: number;
  maxBytes?: number;
  hooks?: BatchApiHooks;
}

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
  status: Batch['status'];
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

type Problem = { line: number | null; param: string | null; message: string; code?: string };
type LineError = { code: string; message: string };

const now = () => Math.floor(Date.now() / 1000);
const isTerminal = (s: BatchRecord['status']) =>
  s === 'failed' || s === 'completed' || s === 'expired' || s === 'cancelled';

const EXPIRED: LineError = {
  code: 'batch_expired',
  message: 'This request could not be executed before the completion window expired.',
};
const CANCELLED: LineError = {
  code: 'batch_cancelled',
  message: 'The batch was cancelled before this request ran.',
};

/** One problem with a line, or the line as the batch runs it. */
function parseLine(
  text: string,
  line: number,
  batch: BatchRecord,
  seen: Set<string>,
  model: { name?: string },
): ParsedLine | Problem {
  const at = (param: string | null, message: string): Problem => ({ line, param, message });
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
  if (model.name !== undefined && body.model !== model.name)
    return at('body.model', `every line must use one model (line 1 uses '${model.name}')`);
  model.name = body.model;
  return { line, custom_id: v.custom_id, url: v.url, body };
}

/** The input file's lines, or the problems that fail the batch. */
function parseLines(
  file: BatchFile,
  batch: BatchRecord,
  limits: { maxRequests: number; maxBytes: number },
): { lines: ParsedLine[]; problems: Problem[] } {
  const problems: Problem[] = [];
  if (file.bytes > limits.maxBytes)
    problems.push({
      line: null,
      param: null,
      message: `the file is ${file.bytes} bytes; at most ${limits.maxBytes}`,
    });
  const lines: ParsedLine[] = [];
  const seen = new Set<string>();
  const model: { name?: string } = {};
  file.content
    .toString('utf8')
    .split('\n')
    .forEach((text, i) => {
      if (!text.trim()) return;
      const parsed = parseLine(text, i + 1, batch, seen, model);
      if ('custom_id' in parsed) lines.push(parsed);
      else problems.push(parsed);
    });
  if (lines.length > limits.maxRequests)
    problems.push({
      line: null,
      param: null,
      message: `${lines.length} requests; at most ${limits.maxRequests}`,
    });
  if (!lines.length && !problems.length)
    problems.push({ line: null, param: null, message: 'the file has no lines' });
  return { lines, problems };
}

/** Runs batches: validation, the lines a few at a time, the output and error files. */
export class BatchRunner {
  private readonly limits: { maxRequests: number; maxBytes: number };

  constructor(
    private readonly options: BatchApiOptions,
    private readonly addFile: (filename: string, purpose: string, content: Buffer) => BatchFile,
    private readonly running: Set<AbortController>,
  ) {
    this.limits = {
      maxRequests: options.maxRequests ?? MAX_BATCH_REQUESTS,
      maxBytes: options.maxBytes ?? MAX_BATCH_BYTES,
    };
  }

  async process(batch: BatchRecord, file: BatchFile) {
    const stop = new AbortController();
    this.running.add(stop);
    const cancelling = () => batch.status === 'cancelling';
    try {
      await pause(10, stop.signal);
      const { lines, problems } = parseLines(file, batch, this.limits);
      if (!problems.length) problems.push(...(this.options.hooks?.validate?.(lines, batch) ?? []));
      if (problems.length) return this.fail(batch, problems);
      if (cancelling()) return this.finish(batch, { out: [], errors: [] }, 'cancelled');
      this.options.hooks?.accepted?.(batch, lines);
      Object.assign(batch, { status: 'in_progress', in_progress_at: now() });
      batch.request_counts.total = lines.length;
      await pause(this.options.hooks?.holdMs?.(batch) ?? 0, stop.signal, cancelling);
      const done = await this.runAll(batch, lines, stop.signal);
      if (stop.signal.aborted) return;
      this.finish(batch, done, cancelling() ? 'cancelled' : done.expired ? 'expired' : 'completed');
    } finally {
      this.running.delete(stop);
    }
  }

  /** Cancelling: lines not yet run are not run; the batch ends cancelled with what finished. */
  cancel(batch: BatchRecord): BatchRecord {
    if (!isTerminal(batch.status) && batch.status !== 'cancelling')
      Object.assign(batch, { status: 'cancelling', cancelling_at: now() });
    return batch;
  }

  private fail(batch: BatchRecord, problems: Problem[]) {
    batch.status = 'failed';
    batch.failed_at = now();
    batch.errors = {
      object: 'list',
      data: problems.map(({ code = 'invalid_request', ...p }) => ({ code, ...p })),
    };
  }

  /** Every line, a few at a time, unless the batch is cancelled; each one's output or error line. */
  private async runAll(batch: BatchRecord, lines: ParsedLine[], signal: AbortSignal) {
    const done = { out: [] as string[], errors: [] as string[], expired: false };
    let next = 0;
    const worker = async () => {
      while (next < lines.length) {
        const l = lines[next++];
        const outcome = await this.runLine(batch, l, signal);
        const row = JSON.stringify({
          id: `batch_req_${batch.id}_${l.line}`,
          custom_id: l.custom_id,
          response: outcome.response && {
            status_code: outcome.response.status,
            request_id: `req_${l.line}`,
            body: outcome.response.body,
          },
          error: outcome.error ?? null,
        });
        const ok = outcome.response?.status === 200;
        (ok ? done.out : done.errors).push(row);
        batch.request_counts[ok ? 'completed' : 'failed']++;
        if (outcome.error === EXPIRED) done.expired = true;
      }
    };
    const workers = Math.min(this.options.concurrency ?? 4, lines.length);
    await Promise.all(Array.from({ length: workers }, worker));
    return done;
  }

  private async runLine(
    batch: BatchRecord,
    l: ParsedLine,
    signal: AbortSignal,
  ): Promise<{ response?: LineResponse; error?: LineError }> {
    if (signal.aborted || batch.status === 'cancelling') return { error: CANCELLED };
    const fate = this.options.hooks?.lineFate?.(l, batch);
    if (fate && 'expire' in fate) return { error: EXPIRED };
    if (fate)
      return {
        response: { status: fate.status, body: { error: { message: fate.message, type: 'server_error' } } },
      };
    return { response: await this.options.runLine(l.url, l.body, signal).catch(toResponse) };
  }

  private finish(
    batch: BatchRecord,
    done: { out: string[]; errors: string[] },
    status: 'completed' | 'expired' | 'cancelled',
  ) {
    Object.assign(batch, { status: 'finalizing', finalizing_at: now() });
    const write = (rows: string[], kind: string) =>
      rows.length
        ? this.addFile(
            `${batch.id}_${kind}.jsonl`,
            'batch_output',
            Buffer.from(rows.map((r) => `${r}\n`).join('')),
          ).id
        : undefined;
    batch.output_file_id = write(done.out, 'output');
    batch.error_file_id = write(done.errors, 'error');
    Object.assign(batch, { status, [`${status}_at`]: now() });
  }
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

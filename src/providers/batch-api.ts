// OpenAI's Files and Batches API, served from memory by an OpenAI-compatible server that answers
// each line itself: the local model server (src/local-llm/server.ts) and the tests'
// FAKE server (test/helpers/fake-batch-api.ts) plug it in with a few lines. Routes:
//   POST /v1/files (multipart: file, purpose)   GET /v1/files[/<id>[/content]]   DELETE /v1/files/<id>
//   POST /v1/batches   GET /v1/batches[/<id>]   POST /v1/batches/<id>/cancel
// A batch is validated (every line JSON with a unique custom_id, POST, the batch's url, one
// model; at most maxRequests lines and maxBytes), then its lines run a few at a time; the output
// file holds each answered line, the error file the lines that failed, expired or were cancelled,
// as OpenAI writes them. Hooks let a test make lines fail or expire, or hold a batch back.
import type http from 'node:http';
import { BatchRunner, type BatchApiOptions, type BatchFile, type BatchRecord } from './batch-api-lines';

export type {
  BatchApiHooks,
  BatchApiOptions,
  LineFate,
  LineResponse,
  ParsedLine,
  RunLine,
} from './batch-api-lines';

export interface BatchApi {
  /** Serves the request if it is a files or batches route (it reads the body); false otherwise. */
  handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean>;
  readonly batches: ReadonlyMap<string, BatchRecord>;
  readonly files: ReadonlyMap<string, BatchFile>;
  /** Stops every batch still running (as at a server's end). */
  close(): void;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export function createBatchApi(options: BatchApiOptions): BatchApi {
  return new InMemoryBatchApi(options);
}

/** Files and batches in memory; each route a method. */
class InMemoryBatchApi implements BatchApi {
  readonly files = new Map<string, BatchFile>();
  readonly batches = new Map<string, BatchRecord>();
  private readonly running = new Set<AbortController>();
  private readonly runner: BatchRunner;
  private ids = 0;

  constructor(options: BatchApiOptions) {
    this.runner = new BatchRunner(
      options,
      (name, purpose, content) => this.addFile(name, purpose, content),
      this.running,
    );
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      const answer = await this.route(req, url);
      if (answer === undefined) return false;
      if (Buffer.isBuffer(answer)) {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': answer.length });
        res.end(answer);
      } else sendJson(res, 200, answer);
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(500, String((err as Error)?.message ?? err));
      sendJson(res, e.status, {
        error: { message: e.message, type: 'invalid_request_error', code: e.code ?? null },
      });
    }
    return true;
  }

  close() {
    for (const a of this.running) a.abort();
  }

  /** The route's answer; undefined when it is not a files or batches route. */
  private async route(req: http.IncomingMessage, url: URL): Promise<unknown> {
    const [, v1, kind, id, action] = url.pathname.split('/');
    if (v1 !== 'v1' || (kind !== 'files' && kind !== 'batches')) return undefined;
    const method = req.method ?? 'GET';
    const answer =
      kind === 'files'
        ? await this.fileRoute(req, url, method, id, action)
        : await this.batchRoute(req, url, method, id, action);
    if (answer === undefined) throw new ApiError(404, `no route for ${method} ${url.pathname}`);
    return answer;
  }

  private async fileRoute(req: http.IncomingMessage, url: URL, method: string, id?: string, action?: string) {
    if (method === 'POST' && !id) return publicFile(await this.upload(req));
    if (method === 'GET' && !id) {
      const purpose = url.searchParams.get('purpose');
      const files = [...this.files.values()].reverse().filter((f) => !purpose || f.purpose === purpose);
      return listPage(files.map(publicFile), url);
    }
    if (!id) return undefined;
    if (method === 'GET' && action === 'content') return this.fileOf(id).content;
    if (method === 'GET' && !action) return publicFile(this.fileOf(id));
    if (method === 'DELETE' && !action) {
      this.fileOf(id);
      this.files.delete(id);
      return { id, object: 'file', deleted: true };
    }
    return undefined;
  }

  private async batchRoute(
    req: http.IncomingMessage,
    url: URL,
    method: string,
    id?: string,
    action?: string,
  ) {
    if (method === 'POST' && !id) return this.create(await readJson(req));
    if (method === 'GET' && !id) return listPage([...this.batches.values()].reverse(), url);
    if (!id) return undefined;
    if (method === 'GET' && !action) return this.batchOf(id);
    if (method === 'POST' && action === 'cancel') return this.runner.cancel(this.batchOf(id));
    return undefined;
  }

  private newId(prefix: string) {
    return `${prefix}${Date.now().toString(36)}${(++this.ids).toString(36)}`;
  }

  private addFile(filename: string, purpose: string, content: Buffer): BatchFile {
    const file: BatchFile = {
      id: this.newId('file-'),
      object: 'file',
      bytes: content.length,
      created_at: now(),
      filename,
      purpose,
      status: 'processed',
      content,
    };
    this.files.set(file.id, file);
    return file;
  }

  private fileOf(id: string): BatchFile {
    const f = this.files.get(id);
    if (!f) throw new ApiError(404, `No such File object: ${id}`);
    return f;
  }

  private batchOf(id: string): BatchRecord {
    const b = this.batches.get(id);
    if (!b) throw new ApiError(404, `No batch found with id '${id}'.`);
    return b;
  }

  private async upload(req: http.IncomingMessage): Promise<BatchFile> {
    const form = await new Response(new Uint8Array(await readBody(req)), {
      headers: { 'content-type': req.headers['content-type'] ?? '' },
    })
      .formData()
      .catch(() => {
        throw new ApiError(400, 'body: must be multipart/form-data with `file` and `purpose`');
      });
    const file = form.get('file');
    const purpose = form.get('purpose');
    if (!(file instanceof Blob) || typeof purpose !== 'string')
      throw new ApiError(400, 'file and purpose are required');
    const name = 'name' in file && typeof file.name === 'string' ? file.name : 'upload.jsonl';
    return this.addFile(name, purpose, Buffer.from(await file.arrayBuffer()));
  }

  private create(body: Record<string, unknown>): BatchRecord {
    const file = this.fileOf(String(body.input_file_id));
    if (file.purpose !== 'batch') throw new ApiError(400, `file ${file.id}: purpose must be 'batch'`);
    const window = typeof body.completion_window === 'string' ? body.completion_window : '';
    const hours = /^(\d+)h$/.exec(window);
    if (!hours) throw new ApiError(400, `completion_window: '${window}' is not supported (use '24h')`);
    const batch: BatchRecord = {
      id: this.newId('batch_'),
      object: 'batch',
      endpoint: String(body.endpoint),
      input_file_id: file.id,
      completion_window: window,
      status: 'validating',
      created_at: now(),
      expires_at: now() + Number(hours[1]) * 3600,
      request_counts: { total: 0, completed: 0, failed: 0 },
      metadata: (body.metadata as Record<string, string> | null) ?? null,
    };
    this.batches.set(batch.id, batch);
    void this.runner.process(batch, file);
    return batch;
  }
}

const now = () => Math.floor(Date.now() / 1000);

/** A list page as OpenAI's cursor pagination serves it (newest first: `after` the last ID seen). */
function listPage<T extends { id: string }>(all: T[], url: URL) {
  const after = url.searchParams.get('after');
  const limit = Math.min(100, Number(url.searchParams.get('limit') ?? 20) || 20);
  const start = after ? all.findIndex((x) => x.id === after) + 1 : 0;
  const data = all.slice(start, start + limit);
  return {
    object: 'list',
    data,
    has_more: start + limit < all.length,
    first_id: data[0]?.id,
    last_id: data.at(-1)?.id,
  };
}

/** A file as the API shows it: without its content. */
function publicFile({ content: _, ...file }: BatchFile) {
  return file;
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  try {
    const v: unknown = JSON.parse((await readBody(req)).toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* below */
  }
  throw new ApiError(400, 'body: must be a JSON object');
}

function sendJson(res: http.ServerResponse, status: number, value: unknown) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

// The HTTP side of the local endpoint: which path goes to which handler, the checks every POST
// shares (JSON body, no streaming, the served model), and errors in OpenAI's shape.
import type http from 'node:http';
import { HttpError } from './http-error';
import type { RequestBody } from './request-fields';

export type Handler = (body: RequestBody, signal: AbortSignal) => Promise<unknown>;

export interface Routes {
  modelId: string;
  /** When the server started, in seconds: /v1/models reports it as the model's `created`. */
  created: number;
  /** The POST routes by path. */
  post: ReadonlyMap<string, Handler>;
}

/** A request listener for `http.createServer`; a request that closes early aborts its generation. */
export function requestListener(routes: Routes) {
  const serve = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    try {
      sendJson(res, 200, await route(routes, req, abort.signal));
    } catch (err) {
      const e =
        err instanceof HttpError
          ? err
          : new HttpError(500, String((err as Error)?.message ?? err), 'server_error');
      if (!res.headersSent && !res.destroyed)
        sendJson(res, e.status, { error: { message: e.message, type: e.type, code: e.code ?? null } });
    }
  };
  // http ignores a handler's promise; dropping it is explicit here (`void`), not by accident.
  return (req: http.IncomingMessage, res: http.ServerResponse) => void serve(req, res);
}

async function route(routes: Routes, req: http.IncomingMessage, signal: AbortSignal): Promise<unknown> {
  const path = (req.url ?? '').split('?')[0];
  if (req.method === 'GET' && path === '/v1/models') {
    return {
      object: 'list',
      data: [{ id: routes.modelId, object: 'model', created: routes.created, owned_by: 'parrot-local' }],
    };
  }
  const handler = req.method === 'POST' ? routes.post.get(path) : undefined;
  if (!handler) throw new HttpError(404, `no route for ${req.method} ${path}`);
  const body = await readJson(req);
  if (body.stream) throw new HttpError(400, 'stream: streaming is not supported by the local endpoint');
  if (body.model !== routes.modelId) {
    throw new HttpError(
      404,
      `The model '${String(body.model)}' does not exist; this endpoint serves '${routes.modelId}'`,
      'invalid_request_error',
      'model_not_found',
    );
  }
  return handler(body, signal);
}

async function readJson(req: http.IncomingMessage): Promise<RequestBody> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  try {
    const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as RequestBody;
  } catch {
    /* fall through */
  }
  throw new HttpError(400, 'body: must be a JSON object');
}

function sendJson(res: http.ServerResponse, status: number, value: unknown) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

// The codec server the Temporal UI (and CLI, with --codec-endpoint) call to show encrypted
// payloads decrypted: POST /decode and /encode with {"payloads": [...]} in proto JSON form
// (metadata values and data base64). Run it where the key may be: those who can reach it read.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))]),
  ),
  data: new Uint8Array(Buffer.from(p.data ?? '', 'base64')),
});
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

export interface CodecServer {
  url: string;
  close(): Promise<void>;
}

/** `allowOrigin`: the UI's origin, for the browser's CORS check (the dev UI: http://localhost:8233). */
export async function startCodecServer(
  codec: PayloadCodec,
  opts: { port?: number; host?: string; allowOrigin?: string } = {},
): Promise<CodecServer> {
  // http ignores a handler's promise; dropping it is explicit here (`void`), not by accident.
  const serve = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    res.setHeader('access-control-allow-origin', opts.allowOrigin ?? 'http://localhost:8233');
    res.setHeader('access-control-allow-methods', 'POST, OPTIONS');
    res.setHeader('access-control-allow-headers', 'content-type, x-namespace, authorization');
    res.setHeader('access-control-allow-credentials', 'true');
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    const route = req.url?.replace(/\/+$/, '');
    if (req.method !== 'POST' || (route !== '/decode' && route !== '/encode')) {
      return void res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: 'POST /decode or /encode' }));
    }
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const { payloads } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { payloads: JsonPayload[] };
      if (!Array.isArray(payloads)) throw new Error('body.payloads must be an array');
      const out =
        route === '/decode'
          ? await codec.decode(payloads.map(fromJson))
          : await codec.encode(payloads.map(fromJson));
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ payloads: out.map(toJson) }));
    } catch (err) {
      res
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: (err as Error).message }));
    }
  };
  const server = http.createServer((req, res) => void serve(req, res));
  await new Promise<void>((r) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

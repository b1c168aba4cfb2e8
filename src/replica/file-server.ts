// The replica's one HTTP server for plain files: `/<host>/<path>` answered from `www/<host>/<path>` with GET/HEAD,
// strong ETag + Last-Modified, one byte Range honoured while If-Range matches, 404 for anything else; redirects
// and special routes (token endpoints, blob storage) are handed in by the caller. Loopback only.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import { answerRange } from './http-range.ts';

/** A route answers a request it owns and returns true, or returns false to let the next one try. */
export type Route = (req: IncomingMessage, res: ServerResponse, path: string) => boolean | Promise<boolean>;

export interface FileServer {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  server: Server;
  close: () => Promise<void>;
}

/** Send `file` (or 404) with ETag, Last-Modified and Range support. */
export async function sendFile(req: IncomingMessage, res: ServerResponse, file: string, contentType = 'application/octet-stream'): Promise<void> {
  const st = await stat(file).catch(() => undefined);
  if (!st?.isFile()) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found\n');
    return;
  }
  const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
  const lastModified = st.mtime.toUTCString();
  const common = { etag, 'last-modified': lastModified, 'accept-ranges': 'bytes', 'content-type': contentType };
  const decision = answerRange({ range: req.headers.range, ifRange: req.headers['if-range'] as string | undefined, size: st.size, etag, lastModified });
  if (decision.status === 416) {
    res.writeHead(416, { 'content-range': `bytes */${st.size}` }).end();
    return;
  }
  const [start, end] = decision.status === 206 ? [decision.start, decision.end] : [0, st.size - 1];
  res.writeHead(decision.status, {
    ...common,
    'content-length': st.size === 0 ? 0 : end - start + 1,
    ...(decision.status === 206 ? { 'content-range': `bytes ${start}-${end}/${st.size}` } : {}),
  });
  if (req.method === 'HEAD' || st.size === 0) {
    res.end();
    return;
  }
  createReadStream(file, { start, end }).on('error', () => res.destroy()).pipe(res);
}

/** `/host/a/b` → the file under `www`, or undefined when the path would leave it. */
export function fileFor(www: string, path: string): string | undefined {
  const rel = normalize(decodeURIComponent(path)).replace(/^\/+/, '');
  if (rel.startsWith('..') || rel === '' || rel.includes('\0')) return undefined;
  return join(www, rel);
}

/** Start the server on 127.0.0.1 (ephemeral port). */
export async function startFileServer(www: string, routes: readonly Route[] = []): Promise<FileServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    for (const route of routes) if (await route(req, res, path)) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const file = fileFor(www, path);
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    await sendFile(req, res, file, /\.(ya?ml|txt|sha256|key|pub)$|\/(gpg|gpgkey|Packages|Release|InRelease)$/.test(path) ? 'text/plain' : 'application/octet-stream');
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => (res.headersSent ? res.destroy() : res.writeHead(500).end()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    close: () => closeServer(server),
  };
}

/** Close a server and every connection it holds. */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

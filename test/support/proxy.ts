// A loopback HTTP proxy in front of a test registry that records every request and can misbehave on cue:
// cut a blob stream after N bytes, flip a byte in it, or redirect blob GETs to another origin.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxyLogEntry {
  method: string;
  path: string;
  range?: string;
  /** Whether an Authorization header came in (its value is never kept). */
  authorization: boolean;
  status?: number;
  /** Body bytes sent to the client. */
  bytes: number;
}

export interface ProxyFaults {
  /** Send only `bytes` of the body of the next `times` matching responses, then destroy the connection. */
  cut?: { match: (path: string) => boolean; bytes: number; times: number };
  /** Flip one byte in the body of the next `times` matching responses. */
  corrupt?: { match: (path: string) => boolean; times: number };
  /** Answer matching GETs with 307 to `${to}${path}` (another origin). */
  redirect?: { match: (path: string) => boolean; to: string };
  /** Hold the body of the next matching response after `bytes` for `ms`, calling `onStall` when the hold begins. */
  stall?: { match: (path: string) => boolean; bytes: number; ms: number; times: number; onStall?: () => void };
  /** Answer the next `times` matching requests with `status` and no body. */
  fail?: { match: (path: string) => boolean; status: number; times: number };
  /** Send this Authorization header upstream in place of the client's (a storage back end with its own access). */
  authorization?: string;
}

export interface TestProxy {
  host: string;
  log: ProxyLogEntry[];
  faults: ProxyFaults;
  close: () => Promise<void>;
}

/** Start a proxy on 127.0.0.1 forwarding to `target` (`127.0.0.1:PORT`). */
export async function startProxy(target: string, faults: ProxyFaults = {}): Promise<TestProxy> {
  const [targetHost, targetPort] = target.split(':');
  const log: ProxyLogEntry[] = [];
  const state: TestProxy = { host: '', log, faults, close: async () => {} };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    const entry: ProxyLogEntry = {
      method: req.method ?? 'GET',
      path,
      ...(req.headers.range ? { range: req.headers.range } : {}),
      authorization: req.headers.authorization !== undefined,
      bytes: 0,
    };
    log.push(entry);
    const f = state.faults;
    if (f.redirect && req.method === 'GET' && f.redirect.match(path)) {
      entry.status = 307;
      res.writeHead(307, { location: `${f.redirect.to}${path}` }).end();
      return;
    }
    if (f.fail && f.fail.times > 0 && f.fail.match(path)) {
      f.fail.times--;
      entry.status = f.fail.status;
      res.writeHead(f.fail.status).end();
      return;
    }
    const headers = { ...req.headers, host: target, ...(f.authorization ? { authorization: f.authorization } : {}) };
    const upstream = request(
      { host: targetHost, port: Number(targetPort), method: req.method, path, headers },
      (up) => {
        entry.status = up.statusCode;
        res.writeHead(up.statusCode ?? 502, up.headers);
        const cut = f.cut && f.cut.times > 0 && f.cut.match(path) ? f.cut : undefined;
        const corrupt = f.corrupt && f.corrupt.times > 0 && f.corrupt.match(path) ? f.corrupt : undefined;
        const stall = f.stall && f.stall.times > 0 && f.stall.match(path) ? f.stall : undefined;
        if (stall) stall.times--;
        if (cut) cut.times--;
        if (corrupt) corrupt.times--;
        let flipped = false;
        let held = false;
        up.on('data', (chunk: Buffer) => {
          if (cut && entry.bytes + chunk.length > cut.bytes) {
            const part = chunk.subarray(0, cut.bytes - entry.bytes);
            entry.bytes += part.length;
            res.write(part, () => res.destroy());
            up.destroy();
            return;
          }
          if (stall && !held && entry.bytes + chunk.length > stall.bytes) {
            held = true;
            const part = chunk.subarray(0, stall.bytes - entry.bytes);
            const rest = chunk.subarray(part.length);
            entry.bytes += part.length;
            res.write(part);
            up.pause();
            stall.onStall?.();
            setTimeout(() => {
              if (res.destroyed) return up.destroy();
              entry.bytes += rest.length;
              res.write(rest);
              up.resume();
            }, stall.ms);
            return;
          }
          if (corrupt && !flipped && chunk.length > 0) {
            chunk = Buffer.from(chunk);
            chunk[0] = chunk[0]! ^ 0xff;
            flipped = true;
          }
          entry.bytes += chunk.length;
          res.write(chunk);
        });
        up.on('end', () => res.end());
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

/** True for blob GET paths (`/v2/<repo>/blobs/sha256:…`). */
export function isBlobPath(path: string): boolean {
  return /\/blobs\/sha256:[a-f0-9]{64}$/.test(path);
}

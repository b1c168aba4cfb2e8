// A loopback HTTP file server for tests: serves in-memory files with ETag, Last-Modified and single byte ranges,
// logs every request, and can misbehave on purpose (ignore Range, cut the connection after N body bytes).
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerRange } from '../../src/replica/http-range.ts';

export interface ServedFile {
  body: Buffer;
  /** Answer 200 with the whole body even when a Range is asked for. */
  ignoreRange?: boolean;
  /** Destroy the socket after this many body bytes, for the first `cutTimes` requests (default 1). */
  cutAfter?: number;
  cutTimes?: number;
  /** Send a weak ETag instead of a strong one. */
  weakEtag?: boolean;
  /** Answer with this status instead of the file. */
  status?: number;
  /** Wait this long before answering, so concurrent requests surely overlap. */
  delayMs?: number;
}

export interface RequestLog {
  path: string;
  range?: string;
  ifRange?: string;
  status: number;
  bodyBytes: number;
}

export interface RangeServer {
  url: (path: string) => string;
  files: Map<string, ServedFile>;
  log: RequestLog[];
  /** Most requests in flight at once since start (or since the test reset it). */
  peak: { active: number; max: number };
  close: () => Promise<void>;
}

const lastModified = new Date(Date.UTC(2026, 0, 1)).toUTCString();

function etagOf(file: ServedFile): string {
  const tag = `"${createHash('sha256').update(file.body).digest('hex').slice(0, 16)}"`;
  return file.weakEtag ? `W/${tag}` : tag;
}

function send(res: ServerResponse, body: Buffer, file: ServedFile, entry: RequestLog, cutsLeft: () => boolean): void {
  const cut = file.cutAfter !== undefined && cutsLeft() ? file.cutAfter : undefined;
  const chunk = 64 * 1024;
  let offset = 0;
  const pump = (): void => {
    while (offset < body.length) {
      let end = Math.min(offset + chunk, body.length);
      if (cut !== undefined) end = Math.min(end, cut);
      if (cut !== undefined && offset >= cut) {
        res.socket?.destroy();
        return;
      }
      const slice = body.subarray(offset, end);
      offset = end;
      entry.bodyBytes += slice.length;
      if (cut !== undefined && offset >= cut) {
        // Give the client a moment to drain what was sent, so the cut lands where the test asked.
        res.write(slice, () => setTimeout(() => res.socket?.destroy(), 150));
        return;
      }
      if (!res.write(slice)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

/** Start the server on 127.0.0.1 with a free port. */
export async function startRangeServer(files: Record<string, ServedFile> = {}): Promise<RangeServer> {
  const map = new Map(Object.entries(files));
  const log: RequestLog[] = [];
  const cuts = new Map<string, number>();
  const peak = { active: 0, max: 0 };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    peak.active++;
    peak.max = Math.max(peak.max, peak.active);
    res.once('close', () => peak.active--);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const entry: RequestLog = {
      path,
      range: req.headers.range,
      ifRange: req.headers['if-range'] as string | undefined,
      status: 0,
      bodyBytes: 0,
    };
    log.push(entry);
    const delay = map.get(path)?.delayMs;
    if (delay) setTimeout(() => answer(req, res, path, entry), delay);
    else answer(req, res, path, entry);
  };
  const answer = (req: IncomingMessage, res: ServerResponse, path: string, entry: RequestLog): void => {
    const file = map.get(path);
    if (!file || file.status !== undefined) {
      entry.status = file?.status ?? 404;
      res.writeHead(entry.status).end();
      return;
    }
    const etag = etagOf(file);
    const common = { etag, 'last-modified': lastModified, 'accept-ranges': file.ignoreRange ? 'none' : 'bytes' };
    const cutsLeft = (): boolean => {
      const used = cuts.get(path) ?? 0;
      if (used >= (file.cutTimes ?? 1)) return false;
      cuts.set(path, used + 1);
      return true;
    };
    const decision = file.ignoreRange
      ? ({ status: 200 } as const)
      : answerRange({ range: req.headers.range, ifRange: req.headers['if-range'] as string | undefined, size: file.body.length, etag, lastModified });
    if (decision.status === 416) {
      entry.status = 416;
      res.writeHead(416, { 'content-range': `bytes */${file.body.length}` }).end();
      return;
    }
    if (decision.status === 206) {
      entry.status = 206;
      res.writeHead(206, {
        ...common,
        'content-length': decision.end - decision.start + 1,
        'content-range': `bytes ${decision.start}-${decision.end}/${file.body.length}`,
      });
      send(res, file.body.subarray(decision.start, decision.end + 1), file, entry, cutsLeft);
      return;
    }
    entry.status = 200;
    res.writeHead(200, { ...common, 'content-length': file.body.length });
    send(res, file.body, file, entry, cutsLeft);
  };
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    files: map,
    log,
    peak,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

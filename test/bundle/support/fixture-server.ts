// Test support: serves a directory over HTTP on 127.0.0.1 (an ephemeral port), counting requests per path,
// standing in for the upstreams (dl.k8s.io, raw.githubusercontent.com) that the spec's mirrors point at.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

export async function serveDir(root: string): Promise<{ url: string; hits: Map<string, number>; close: () => Promise<void> }> {
  const hits = new Map<string, number>();
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const file = join(root, path);
    const st = await stat(file).catch(() => undefined);
    if (!file.startsWith(root) || !st?.isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-length': st.size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

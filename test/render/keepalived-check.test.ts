// The keepalived health check run for real: HAProxy (rendered config, TLS health checks against the test CA) in
// front of a stand-in for kube-apiserver's /readyz, and the rendered check script run through it on loopback.
import { createServer, type Server } from 'node:https';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { renderHaproxyConfig } from '../../src/render/haproxy.ts';
import { renderKeepalived } from '../../src/render/keepalived.ts';
import { controlPlanes, vip } from './fixtures.ts';
import { freePort, waitFor } from './net.ts';
import { makeTestPki } from './test-ca.ts';
import { put, tempDir, tool } from './tools.ts';

/** Stand-in for kube-apiserver: answers only GET /readyz with 200 "ok", over TLS with a certificate for the VIP. */
function apiserverStandIn(cert: string, key: string): Server {
  return createServer({ cert, key }, (req, res) => {
    const ok = req.method === 'GET' && req.url === '/readyz';
    res.writeHead(ok ? 200 : 404).end(ok ? 'ok' : 'not found');
  });
}

describe('keepalived check script through HAProxy', () => {
  const tmp = tempDir('kacheck');
  let haproxy: ReturnType<typeof execa> | undefined;
  let apiserver: Server | undefined;
  let script = '';

  beforeAll(async () => {
    const pki = await makeTestPki(tmp.dir, ['IP:127.0.0.1', `IP:${vip}`]);
    const apiPort = await freePort();
    const lbPort = await freePort();
    apiserver = apiserverStandIn(readFileSync(pki.serverCert, 'utf8'), readFileSync(pki.serverKey, 'utf8'));
    await new Promise<void>((r) => apiserver!.listen(apiPort, '127.0.0.1', r));
    const [cfg] = renderHaproxyConfig({ bindAddress: '127.0.0.1', bindPort: lbPort, backends: [{ name: 'cp-1', address: '127.0.0.1', port: apiPort }], healthCheckCaFile: pki.caCert });
    haproxy = execa('haproxy', ['-db', '-f', put(tmp.dir, 'haproxy.cfg', cfg!.content)], { reject: false, timeout: 60_000, all: true });
    const [, check] = renderKeepalived({
      self: controlPlanes[0]!, peers: controlPlanes, interface: 'eth0', vip, virtualRouterId: 51,
      authPass: 'unused', apiPort: lbPort, caFile: pki.caCert, checkScriptPath: `${tmp.dir}/check.sh`,
    });
    script = put(tmp.dir, 'check.sh', check!.content, 0o755);
  }, 30_000);

  afterAll(async () => {
    haproxy?.kill('SIGTERM'); // signals its PID; a no-op if it already exited
    await haproxy;
    await new Promise((r) => (apiserver ? apiserver.close(r) : r(undefined)));
    tmp.cleanup();
  });

  it('passes while an API server is ready behind HAProxy, and fails once it is gone', async () => {
    expect(await waitFor(async () => (await tool([script], 5000)).exitCode === 0, 15_000)).toBe(true);
    const closed = new Promise((r) => apiserver!.close(r));
    apiserver!.closeAllConnections();
    await closed;
    expect(await waitFor(async () => (await tool([script], 5000)).exitCode !== 0, 15_000)).toBe(true);
  }, 40_000);
});

// Test support, a process of its own (so the test's event loop, busy running ferry in-process, cannot stretch the
// gaps): asks the API through the VIP every 100 ms, as a client would, until SIGTERM, then prints one JSON line:
// its start (epoch ms), answers, failures, and every gap between two answers longer than 500 ms (start offset and length), longest first.
// The request is `GET /api/v1/nodes` with admin.conf's client certificate, verified against its CA: on the stand-in
// control plane that goes VIP → HAProxy → an API server → the first control plane's state, so a gap is the control
// plane not answering a read, whatever part of it was away. Each request has 1 s to answer.
//   node poll-api.ts https://VIP:8443 ADMIN_CONF
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';

const [server, kubeconfig] = process.argv.slice(2);
if (!server || !kubeconfig) throw new Error('usage: poll-api.ts https://HOST:PORT ADMIN_CONF');
const conf = parse(readFileSync(kubeconfig, 'utf8')) as {
  clusters: { cluster: { 'certificate-authority-data': string } }[];
  users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
};
const b64 = (s: string) => Buffer.from(s, 'base64');
const ca = b64(conf.clusters[0]!.cluster['certificate-authority-data']);
const cert = b64(conf.users[0]!.user['client-certificate-data']);
const key = b64(conf.users[0]!.user['client-key-data']);
const url = new URL('/api/v1/nodes', server);

function ask(): Promise<boolean> {
  return new Promise((done) => {
    const req = request(url, { ca, cert, key, agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode === 200));
      res.on('error', () => done(false));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => done(false));
    req.end();
  });
}

const started = performance.now();
const startedAt = Date.now();
let last = started;
let answers = 0;
let failures = 0;
const gaps: { atMs: number; ms: number }[] = [];
let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
});
let longest = 0;
const note = (now: number) => {
  longest = Math.max(longest, now - last);
  if (now - last > 500) gaps.push({ atMs: Math.round(last - started), ms: Math.round(now - last) });
};
while (!stopping) {
  const t = performance.now();
  const ok = await ask();
  const now = performance.now();
  if (ok) {
    answers++;
    note(now);
    last = now;
  } else failures++;
  await sleep(Math.max(0, 100 - (performance.now() - t)));
}
note(performance.now());
gaps.sort((a, b) => b.ms - a.ms);
process.stdout.write(`${JSON.stringify({ startedAt, answers, failures, spanMs: Math.round(performance.now() - started), longestGapMs: Math.round(longest), gaps: gaps.slice(0, 20) })}\n`);

// Test stand-in for kube-apiserver (named as such): a TCP listener on port 6443 inside each control-plane lab node's
// network namespace that answers `api-stand-in <node>` and closes. Started and stopped by PID. Plus the two
// probes the VIP test needs: which node holds the VIP, and what answers on it.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Lab } from '../../lab/lab.ts';

export interface ApiStandIns {
  /** The node whose interface carries `vip`, if any. */
  vipHolder(vip: string): Promise<string | undefined>;
  stop(): Promise<void>;
}

const SERVER = (name: string, port: number) =>
  `require('net').createServer((s) => s.end('api-stand-in ${name}\\n')).listen(${port}, '0.0.0.0', () => console.log('ready'))`;

/** Start one stand-in per named node; resolves when all listen. */
export async function startApiStandIns(lab: Lab, nodes: readonly string[], port: number): Promise<ApiStandIns> {
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.map((c) => new Promise<void>((res) => {
      if (c.exitCode !== null || c.signalCode !== null) return res();
      c.once('exit', () => res());
      c.kill('SIGTERM');
    })));
  };
  try {
    for (const name of nodes) {
      const node = lab.nodes.find((n) => n.name === name)!;
      const child = spawn('nsenter', ['-t', String(node.leaderPid), '-n', '--', process.execPath, '-e', SERVER(name, port)], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(child);
      await new Promise<void>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`api stand-in on ${name} did not start`)), 10_000);
        child.stdout!.once('data', () => (clearTimeout(timer), res()));
        child.once('exit', (code) => (clearTimeout(timer), rej(new Error(`api stand-in on ${name} exited ${code}`))));
      });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    async vipHolder(vip) {
      for (const n of lab.nodes) {
        const r = await lab.nodeExec(n.name, ['ip', '-o', '-4', 'addr', 'show'], { allowFailure: true });
        if (r.stdout.includes(` ${vip}/`)) return n.name;
      }
      return undefined;
    },
    stop,
  };
}

/** Connect to addr:port from the test machine and return the first line the far end says. HAProxy accepts and
 * closes without a word while it still counts every backend down (rise 2 x inter 2 s), so an empty answer is
 * retried too; bounded: 30 tries, 0.5 s apart. */
export async function vipConnect(address: string, port: number): Promise<string> {
  let last: unknown = new Error(`no answer from ${address}:${port}`);
  for (let i = 0; i < 30; i++) {
    try {
      const said = await new Promise<string>((resolve, reject) => {
        const s = connect({ host: address, port, timeout: 3000 });
        let data = '';
        s.on('data', (d) => (data += d));
        s.on('end', () => resolve(data.trim()));
        s.on('timeout', () => (s.destroy(), reject(new Error(`no answer from ${address}:${port}`))));
        s.on('error', reject);
      });
      if (said) return said;
    } catch (error) {
      last = error;
    }
    await sleep(500);
  }
  throw last;
}

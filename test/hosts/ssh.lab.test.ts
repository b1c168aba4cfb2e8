// SshHost against real lab nodes: quoting, files over SFTP, strict host keys (unknown, accept-new, changed), a host
// that is down, a bastion, sudo, and the errors a person sees when something is wrong.
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Inventory } from '../../src/config/inventory.ts';
import { loadYamlFile } from '../../src/config/load.ts';
import { HostKeyError, HostUnreachableError, RemoteCommandError, UserError } from '../../src/errors.ts';
import { connectInventory } from '../../src/hosts/connect.ts';
import { KnownHostsFile } from '../../src/hosts/host-key-policy.ts';
import { mapHosts } from '../../src/hosts/pool.ts';
import { sh } from '../../src/hosts/shell.ts';
import { JumpHost } from '../../src/hosts/ssh-connect.ts';
import { SshHost, type SshHostOptions } from '../../src/hosts/ssh.ts';
import { startLab, type Lab } from '../lab/lab.ts';

let lab: Lab;
const opened: SshHost[] = [];
const addr = (name: string) => lab.nodes.find((n) => n.name === name)!.address;
const host = (name: string, extra: Partial<SshHostOptions> = {}) => {
  const h = new SshHost({
    name, address: addr(name), user: 'root', identityFile: lab.identityFile,
    knownHosts: new KnownHostsFile(lab.knownHostsFile), connectTimeoutMs: 5_000, ...extra,
  });
  opened.push(h);
  return h;
};
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  lab = await startLab({ nodes: 3 });
});
afterAll(async () => {
  await Promise.all(opened.map((h) => h.close().catch(() => undefined)));
  await lab?.stop();
});

describe('SshHost on lab nodes', () => {
  it('passes argv through unchanged and runs sh-tag commands as written', async () => {
    const h = host('node1');
    const words = ['a b', "it's", '$HOME', '*', '; rm -rf /', '"q"', ''];
    const r = await h.exec(['printf', '%s|', ...words]);
    expect(r.stdout).toBe(`${words.join('|')}|`);
    expect(r).toMatchObject({ host: 'node1', exitCode: 0, signal: null, timedOut: false });
    const piped = await h.exec(sh`printf '%s\n' ${'x y'} z | wc -l`);
    expect(piped.stdout.trim()).toBe('2');
    const env = await h.exec(['sh', '-c', 'printf %s "$GREETING"'], { env: { GREETING: 'hello world' } });
    expect(env.stdout).toBe('hello world');
    const stdin = await h.exec(['sha256sum'], { stdin: 'abc' });
    expect(stdin.stdout).toMatch(/^ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad/);
  });

  it('reports failures, timeouts and keeps secrets out of results and errors', async () => {
    const h = host('node1');
    const failed = await h.exec(['sh', '-c', 'echo oops >&2; exit 3'], { allowFailure: true });
    expect(failed).toMatchObject({ exitCode: 3, stderr: 'oops\n' });
    await expect(h.exec(['false'])).rejects.toBeInstanceOf(RemoteCommandError);
    const t = performance.now();
    const slow = await h.exec(['sleep', '30'], { timeoutMs: 500, allowFailure: true });
    expect(slow.timedOut).toBe(true);
    expect(performance.now() - t).toBeLessThan(5_000);
    const secret = 'tok3n.s3cr3tvalue1234';
    const shown = await h.exec(['sh', '-c', `echo ${secret}; echo ${secret} >&2`], { secrets: [secret] });
    expect(JSON.stringify(shown)).not.toContain(secret);
    const err = await h.exec(['sh', '-c', `echo ${secret} >&2; exit 1`], { secrets: [secret] }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(RemoteCommandError);
    expect(`${(err as Error).message}`).not.toContain(secret);
    expect((err as Error).message).toContain('<redacted>');
  });

  it('reuses one connection for many commands, more at once than sshd allows sessions', async () => {
    const h = host('node2');
    await h.exec(['true']);
    const before = (await lab.nodeExec('node2', ['sh', '-c', 'ss -Htn state established "( sport = :22 )" | wc -l'])).stdout.trim();
    const many = await Promise.all(Array.from({ length: 25 }, (_, i) => h.exec(['sh', '-c', `sleep 0.2; echo ${i}`])));
    expect(many.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 25 }, (_, i) => String(i)));
    const after = (await lab.nodeExec('node2', ['sh', '-c', 'ss -Htn state established "( sport = :22 )" | wc -l'])).stdout.trim();
    expect(after).toBe(before);
  });

  it('uploads and reads back a 50 MB file over SFTP with its mode', async () => {
    const h = host('node1');
    const local = join(lab.stateDir, 'big.bin');
    const data = randomBytes(50 * 1024 * 1024);
    await writeFile(local, data);
    let t = performance.now();
    await h.upload(local, '/srv/ferry/big.bin', { mode: 0o640 });
    const upMs = performance.now() - t;
    const remote = await lab.nodeExec('node1', ['sh', '-c', 'stat -c %a /srv/ferry/big.bin; sha256sum /srv/ferry/big.bin']);
    expect(remote.stdout.split('\n')[0]).toBe('640');
    expect(remote.stdout).toContain(sha256(data));
    t = performance.now();
    const back = await h.readFile('/srv/ferry/big.bin');
    const downMs = performance.now() - t;
    expect(sha256(back)).toBe(sha256(data));
    console.log(`[ssh] 50 MiB upload ${Math.round(upMs)} ms (${Math.round(50_000 / upMs)} MiB/s), readFile ${Math.round(downMs)} ms (${Math.round(50_000 / downMs)} MiB/s)`);
    await h.writeFile('/etc/ferry/small.conf', 'x=1\n', { mode: 0o600 });
    expect((await lab.nodeExec('node1', ['stat', '-c', '%a %s', '/etc/ferry/small.conf'])).stdout.trim()).toBe('600 4');
    await rm(local);
  });

  it('refuses an unknown host key, then accepts and records it with accept-new', async () => {
    const kh = join(lab.stateDir, 'fresh_known_hosts');
    await writeFile(kh, '');
    const refused = await host('node1', { knownHosts: new KnownHostsFile(kh) }).exec(['true']).catch((e: Error) => e);
    expect(refused).toBeInstanceOf(HostKeyError);
    const fp = (await lab.nodeExec('node1', ['ssh-keygen', '-l', '-E', 'sha256', '-f', '/etc/ssh/ssh_host_ed25519_key.pub'])).stdout.split(' ')[1]!;
    expect((refused as HostKeyError).reason).toBe('unknown');
    expect((refused as HostKeyError).message).toContain(`node1 (${addr('node1')})`);
    expect((refused as HostKeyError).message).toContain(fp);
    expect((refused as HostKeyError).hint).toContain('--accept-new-host-keys');
    expect(await readFile(kh, 'utf8')).toBe('');

    const accepted = await host('node1', { knownHosts: new KnownHostsFile(kh, 'accept-new') }).exec(['hostname']);
    expect(accepted.stdout.trim()).toBe('node1');
    const recorded = await readFile(kh, 'utf8');
    const pub = (await lab.nodeExec('node1', ['cat', '/etc/ssh/ssh_host_ed25519_key.pub'])).stdout.split(' ');
    expect(recorded).toBe(`${addr('node1')} ${pub[0]} ${pub[1]}\n`);
    // OpenSSH agrees with what was recorded.
    const [file, ...args] = ['ssh', '-F', '/dev/null', '-i', lab.identityFile, '-o', `UserKnownHostsFile=${kh}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', `root@${addr('node1')}`, 'true'];
    expect((await execa(file!, args, { reject: false })).exitCode).toBe(0);
    expect((await host('node1', { knownHosts: new KnownHostsFile(kh) }).exec(['true'])).exitCode).toBe(0);
  });

  it('trusts hashed and [host]:port entries exactly as ssh-keyscan writes them', async () => {
    await lab.nodeExec('node1', ['sh', '-c', 'printf "Port 22\\nPort 2222\\n" > /etc/ssh/sshd_config.d/ferry-ports.conf && systemctl restart ssh']);
    const scanned = join(lab.stateDir, 'scanned_known_hosts');
    const hashed = (await execa('ssh-keyscan', ['-H', '-T', '5', addr('node2')])).stdout;
    const ported = (await execa('ssh-keyscan', ['-p', '2222', '-T', '5', addr('node1')])).stdout;
    expect(hashed).toMatch(/^\|1\|/m);
    expect(ported).toContain(`[${addr('node1')}]:2222 ssh-ed25519 `);
    await writeFile(scanned, `${hashed}\n${ported}\n`);
    expect((await host('node2', { knownHosts: new KnownHostsFile(scanned) }).exec(['hostname'])).stdout.trim()).toBe('node2');
    expect((await host('node1', { port: 2222, knownHosts: new KnownHostsFile(scanned) }).exec(['hostname'])).stdout.trim()).toBe('node1');
    // The key recorded for port 2222 says nothing about port 22.
    const e = await host('node1', { knownHosts: new KnownHostsFile(scanned) }).exec(['true']).catch((x: Error) => x);
    expect((e as HostKeyError).reason).toBe('unknown');
    await lab.nodeExec('node1', ['sh', '-c', 'rm /etc/ssh/sshd_config.d/ferry-ports.conf && systemctl restart ssh']);
  });

  it('refuses a changed host key, naming the host and file:line of the old key, even with accept-new', async () => {
    const kh = join(lab.stateDir, 'changed_known_hosts');
    await copyFile(lab.knownHostsFile, kh);
    await lab.nodeExec('node3', ['sh', '-c', 'rm -f /etc/ssh/ssh_host_* && ssh-keygen -A && systemctl restart ssh']);
    const lines = (await readFile(kh, 'utf8')).split('\n');
    const line = lines.findIndex((l) => l.startsWith(`${addr('node3')} ssh-ed25519 `)) + 1;
    expect(line).toBeGreaterThan(0);
    for (const policy of ['strict', 'accept-new'] as const) {
      const e = await host('node3', { knownHosts: new KnownHostsFile(kh, policy) }).exec(['true']).catch((x: Error) => x);
      expect(e).toBeInstanceOf(HostKeyError);
      expect((e as HostKeyError).reason).toBe('changed');
      expect((e as HostKeyError).message).toContain(`node3 (${addr('node3')})`);
      expect((e as HostKeyError).message).toContain(`${kh}:${line}`);
    }
    expect((await readFile(kh, 'utf8')).split('\n')).toEqual(lines);
  });

  it('reports a powered-off node as unreachable quickly while the others work', async () => {
    await lab.stopNode('node3');
    // EHOSTUNREACH comes after ARP gives up (about 3 s); the connect timeout bounds it on a busy machine.
    const hosts = ['node1', 'node2', 'node3'].map((n) => host(n, { connectTimeoutMs: 4_000 }));
    const t = performance.now();
    const out = await mapHosts(hosts, async (h) => (await h.exec(['hostname'])).stdout.trim());
    const ms = performance.now() - t;
    expect(out.slice(0, 2)).toEqual([
      { host: 'node1', ok: true, value: 'node1' },
      { host: 'node2', ok: true, value: 'node2' },
    ]);
    const down = out[2]!;
    expect(down.ok).toBe(false);
    expect((down as { error: unknown }).error).toBeInstanceOf(HostUnreachableError);
    expect(((down as { error: Error }).error).message).toMatch(new RegExp(`^node3: (host unreachable|timed out).*${addr('node3')}`));
    console.log(`[ssh] 3 hosts, one powered off: all answered in ${Math.round(ms)} ms`);
    expect(ms).toBeLessThan(7_000);
  });

  it('names the methods tried when authentication fails, and says when nothing listens', async () => {
    const otherKey = join(lab.stateDir, 'other_key');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    const e = await host('node1', { identityFile: otherKey }).exec(['true']).catch((x: Error) => x);
    expect(e).toBeInstanceOf(HostUnreachableError);
    expect((e as Error).message).toBe(`node1: authentication failed for root@${addr('node1')}:22 (tried: publickey (${otherKey}))`);
    const refused = await host('node1', { port: 2299 }).exec(['true']).catch((x: Error) => x);
    expect((refused as Error).message).toBe(`node1: connection refused at ${addr('node1')}:2299`);
  });

  it('authenticates through ssh-agent', async () => {
    const sock = join(lab.stateDir, 'agent.sock');
    const agent = execa('ssh-agent', ['-D', '-a', sock], { reject: false });
    try {
      for (let i = 0; i < 50 && (await execa('test', ['-S', sock], { reject: false })).exitCode !== 0; i++) await new Promise((r) => setTimeout(r, 50));
      await execa('ssh-add', [lab.identityFile], { env: { SSH_AUTH_SOCK: sock } });
      const r = await host('node2', { identityFile: undefined, agent: sock }).exec(['hostname']);
      expect(r.stdout.trim()).toBe('node2');
    } finally {
      agent.kill('SIGTERM');
      await agent;
    }
  });

  it('reaches a node only reachable through a bastion, with the bastion checked like any host', async () => {
    await lab.nodeExec('node2', ['nft', '-f', '-'], {
      input: `table inet labtest {\n chain input {\n  type filter hook input priority 0; policy accept;\n  ip saddr ${lab.hostAddress} tcp dport 22 drop\n }\n}\n`,
    });
    const direct = await host('node2', { connectTimeoutMs: 1_500 }).exec(['true']).catch((x: Error) => x);
    expect(direct).toBeInstanceOf(HostUnreachableError);
    expect((direct as Error).message).toContain('timed out after 1500 ms');

    const jump = new JumpHost({ label: 'bastion node1', target: { address: addr('node1'), user: 'root', identityFile: lab.identityFile }, knownHosts: new KnownHostsFile(lab.knownHostsFile), timeoutMs: 5_000 });
    const via = host('node2', { jump });
    expect((await via.exec(['hostname'])).stdout.trim()).toBe('node2');
    const peer = (await via.exec(['sh', '-c', 'echo $SSH_CONNECTION'])).stdout.split(' ')[0];
    expect(peer).toBe(addr('node1'));
    await via.close();
    await jump.close();

    // node2 known, the bastion (node1) not: the bastion's key is refused before any host behind it is tried.
    const withoutBastion = join(lab.stateDir, 'bastion_known_hosts');
    const lines = (await readFile(lab.knownHostsFile, 'utf8')).split('\n');
    await writeFile(withoutBastion, lines.filter((l) => !l.startsWith(`${addr('node1')} `)).join('\n'));
    const kh = new KnownHostsFile(withoutBastion);
    const badJump = new JumpHost({ label: 'bastion node1', target: { address: addr('node1'), user: 'root', identityFile: lab.identityFile }, knownHosts: kh, timeoutMs: 5_000 });
    const e = await host('node2', { jump: badJump, knownHosts: kh }).exec(['true']).catch((x: Error) => x);
    expect(e).toBeInstanceOf(HostUnreachableError);
    expect((e as Error).message).toMatch(/^node2: bastion root@.* failed: bastion node1 \(.*\): host key ssh-ed25519 SHA256:/);
    await badJump.close();

    // The same through the inventory: ssh.bastion, loaded and validated like a user's cluster.yaml.
    const file = await lab.writeInventory({ extra: { ssh: { bastion: `root@${addr('node1')}:22` } } });
    const inv = await loadYamlFile(file, Inventory);
    const set = connectInventory(inv, { homeDir: homedir(), baseDir: dirname(file) });
    try {
      const out = await mapHosts([...set.hosts.values()].filter((h) => h.name !== 'node3'), async (h) => (await h.exec(['hostname'])).stdout.trim());
      expect(out).toEqual([
        { host: 'node1', ok: true, value: 'node1' },
        { host: 'node2', ok: true, value: 'node2' },
      ]);
    } finally {
      await set.close();
      await lab.nodeExec('node2', ['nft', 'delete', 'table', 'inet', 'labtest']);
    }
  });

  it('runs as root through sudo -n for a NOPASSWD user, and explains when sudo wants a password', async () => {
    const key = (await readFile(`${lab.identityFile}.pub`, 'utf8')).trim();
    for (const user of ['alice', 'bob']) {
      await lab.nodeExec('node1', ['sh', '-c', `useradd -m -s /bin/sh ${user} && mkdir -p /home/${user}/.ssh && printf '%s\\n' "$1" > /home/${user}/.ssh/authorized_keys && chown -R ${user}: /home/${user}/.ssh && chmod 700 /home/${user}/.ssh`, 'sh', key]);
    }
    await lab.nodeExec('node1', ['sh', '-c', 'echo "alice ALL=(ALL) NOPASSWD: ALL" > /etc/sudoers.d/alice && echo "bob ALL=(ALL) ALL" > /etc/sudoers.d/bob && echo bob:lab-test-password | chpasswd']);
    const alice = host('node1', { user: 'alice', sudo: true });
    expect((await alice.exec(['id', '-u'])).stdout.trim()).toBe('0');
    expect((await host('node1', { user: 'alice', sudo: false }).exec(['id', '-un'])).stdout.trim()).toBe('alice');
    await alice.writeFile('/etc/ferry/by-alice.conf', 'owned by root\n', { mode: 0o640 });
    expect((await lab.nodeExec('node1', ['stat', '-c', '%U %a', '/etc/ferry/by-alice.conf'])).stdout.trim()).toBe('root 640');
    expect((await alice.readFile('/etc/ferry/by-alice.conf')).toString()).toBe('owned by root\n');
    const e = await host('node1', { user: 'bob', sudo: true }).exec(['id', '-u'], { allowFailure: true }).catch((x: Error) => x);
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).message).toBe('node1: sudo needs a password for bob, and ferry runs sudo -n (never types a password)');
    expect((e as UserError).hint).toContain('bob ALL=(ALL) NOPASSWD: ALL');
  });
});

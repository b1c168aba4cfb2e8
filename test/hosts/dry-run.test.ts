import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { DryRunHost, DryRunPlan } from '../../src/hosts/dry-run.ts';
import { LocalHost } from '../../src/hosts/local.ts';
import { sh } from '../../src/hosts/shell.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-dry-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('DryRunHost', () => {
  it('records commands, writes and uploads in order, touching nothing', async () => {
    const plan = new DryRunPlan();
    const h = new DryRunHost('node1', { plan });
    const local = join(dir, 'blob');
    await writeFile(local, 'abc');
    const target = join(dir, 'must-not-exist');
    const r = await h.exec(['touch', target]);
    await h.exec(sh`echo ${'x y'} > /etc/motd`, { stdin: 'hello' });
    await h.writeFile(target, 'abc', { mode: 0o600 });
    await h.upload(local, '/opt/blob', { mode: 0o755 });
    expect(r).toMatchObject({ exitCode: 0, stdout: '', timedOut: false, host: 'node1', recorded: true });
    const abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'; // sha256("abc"), FIPS 180-2 example
    expect(plan.entries).toEqual([
      { host: 'node1', kind: 'exec', command: `touch ${target}` },
      { host: 'node1', kind: 'exec', command: `echo 'x y' > /etc/motd`, stdinBytes: 5 },
      { host: 'node1', kind: 'write', path: target, size: 3, sha256: abc, mode: 0o600 },
      { host: 'node1', kind: 'upload', path: '/opt/blob', from: local, size: 3, sha256: abc, mode: 0o755 },
    ]);
    await expect(new LocalHost().exec(['test', '-e', target], { allowFailure: true })).resolves.toMatchObject({ exitCode: 1 });
  });

  it('never keeps a secret: commands are redacted and file contents are only hashed', async () => {
    const plan = new DryRunPlan();
    const h = new DryRunHost('cp1', { plan });
    const token = 'abcdef.0123456789abcdef';
    await h.exec(['kubeadm', 'join', '--token', token], { secrets: [token] });
    await h.writeFile('/etc/kubernetes/join.env', `TOKEN=${token}\n`);
    expect(JSON.stringify(plan.entries)).not.toContain(token);
    expect(plan.entries[0]).toMatchObject({ command: 'kubeadm join --token <redacted>' });
  });

  it('runs read-only commands and file reads on the live host, so facts are real', async () => {
    const plan = new DryRunPlan();
    const h = new DryRunHost('local', { plan, live: new LocalHost() });
    const facts = join(dir, 'facts');
    await writeFile(facts, 'kernel 6.1');
    const r = await h.exec(['cat', facts], { readOnly: true });
    expect(r.stdout).toBe('kernel 6.1');
    expect((await h.readFile(facts)).toString()).toBe('kernel 6.1');
    expect(plan.entries).toEqual([]);
  });

  it('refuses to invent facts when there is no live host', async () => {
    const h = new DryRunHost('x', { plan: new DryRunPlan() });
    await expect(h.readFile('/etc/os-release')).rejects.toBeInstanceOf(UserError);
  });
});

// The deciding parts of the SSH host: command lines, sudo detection, host-key messages, connection error messages.
import { createServer, connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { HostKeyError } from '../../src/errors.ts';
import { hostKeyError } from '../../src/hosts/host-key-policy.ts';
import { sh } from '../../src/hosts/shell.ts';
import { hostKeyAlgorithms } from '../../src/hosts/ssh-connect.ts';
import { describeSshError } from '../../src/hosts/ssh-errors.ts';
import { remoteCommandLine, sudoNeedsPassword } from '../../src/hosts/ssh.ts';

// Public half of a throwaway test key made with `ssh-keygen -t ed25519` for this file (the private half was deleted).
const BLOB = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIJfxacZhAu3R4CZx/N4iYhyt0DlWm4j6bRw4bcmGF8QX', 'base64');
const CTX = { host: 'node1', name: '10.0.0.11', file: '/root/.ssh/known_hosts', blob: BLOB };

describe('remote command line', () => {
  it.each([
    ['argv is quoted word by word', ['echo', "it's", '$HOME'], {}, false, `echo 'it'\\''s' '$HOME'`],
    ['a sh-tag command runs as written', sh`ls ${'/a b'} | wc -l`, {}, false, `ls '/a b' | wc -l`],
    ['env goes through env(1) for argv', ['printenv', 'X'], { X: 'a b' }, false, `env 'X=a b' printenv X`],
    ['env with a shell line wraps it in sh -c', sh`echo $X`, { X: '1' }, false, `env X=1 sh -c 'echo $X'`],
    ['sudo wraps the whole line', ['id', '-u'], {}, true, `sudo -n -- sh -c 'id -u'`, undefined],
    ['a timeout stops the remote command, rounded up to whole seconds', ['sleep', '9'], {}, false, `timeout -k 2 2 sh -c 'sleep 9'`, 1500],
    ['timeout sits inside sudo', ['id'], {}, true, `sudo -n -- sh -c 'timeout -k 2 1 sh -c id'`, 200],
  ])('%s', (_n, cmd, env, sudo, line, timeoutMs?: number) => {
    expect(remoteCommandLine(cmd as never, { env, sudo, timeoutMs })).toBe(line);
  });
});

describe('sudo -n', () => {
  // What sudo 1.9.13p3 (Debian 12) prints for `sudo -n true` as a user without NOPASSWD, and for a user not in sudoers.
  it.each([
    ['password required', 1, 'sudo: a password is required\n', true],
    ['not in sudoers is a different problem', 1, 'alice is not in the sudoers file.\n', false],
    ['a command that itself fails', 1, 'grep: x: No such file\n', false],
    ['success', 0, '', false],
  ])('%s', (_n, code, stderr, expected) => {
    expect(sudoNeedsPassword(code, stderr)).toBe(expected);
  });
});

describe('host-key errors', () => {
  it('refuses an unknown key under strict, naming host, fingerprint and the flag', () => {
    const e = hostKeyError({ kind: 'unknown' }, { ...CTX, policy: 'strict' })!;
    expect(e).toBeInstanceOf(HostKeyError);
    expect(e.exitCode).toBe(5);
    expect(e.message).toContain('node1 (10.0.0.11)');
    expect(e.message).toMatch(/SHA256:[A-Za-z0-9+/]{43}/);
    expect(e.hint).toContain('--accept-new-host-keys');
  });
  it('accepts an unknown key under accept-new', () => {
    expect(hostKeyError({ kind: 'unknown' }, { ...CTX, policy: 'accept-new' })).toBeUndefined();
  });
  it.each(['strict', 'accept-new'] as const)('refuses a changed key under %s, naming file:line', (policy) => {
    const e = hostKeyError({ kind: 'changed', line: 7, knownType: 'ssh-ed25519' }, { ...CTX, policy })!;
    expect(e.reason).toBe('changed');
    expect(e.message).toContain('/root/.ssh/known_hosts:7');
    expect(e.hint).toContain("ssh-keygen -R '10.0.0.11'");
  });
  it('refuses a revoked key under accept-new', () => {
    expect(hostKeyError({ kind: 'revoked', line: 2 }, { ...CTX, policy: 'accept-new' })?.reason).toBe('revoked');
  });
  it('offers the known key types first', () => {
    expect(hostKeyAlgorithms(['ssh-rsa']).slice(0, 3)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(hostKeyAlgorithms(['ecdsa-sha2-nistp256'])[0]).toBe('ecdsa-sha2-nistp256');
    expect(hostKeyAlgorithms([])[0]).toBe('ssh-ed25519');
    expect(new Set(hostKeyAlgorithms(['ssh-rsa'])).size).toBe(7);
  });
});

describe('connection errors', () => {
  const ctx = { address: '10.0.0.11', port: 22, user: 'root', methods: ['publickey (/k)', 'agent (/run/a.sock)'], timeoutMs: 5000 };
  it('names the user and every method tried when authentication fails', () => {
    // ssh2's error when the server rejects every method (lib/client.js).
    const d = describeSshError({ message: 'All configured authentication methods failed', level: 'client-authentication' }, ctx);
    expect(d.message).toBe('authentication failed for root@10.0.0.11:22 (tried: publickey (/k), agent (/run/a.sock))');
  });
  it('reports a handshake timeout with the limit', () => {
    const d = describeSshError({ message: 'Timed out while waiting for handshake', level: 'client-timeout' }, ctx);
    expect(d.message).toContain('timed out after 5000 ms');
  });
  it.each([
    ['EHOSTUNREACH', /host unreachable/],
    ['ENETUNREACH', /host unreachable/],
    ['ENOTFOUND', /cannot resolve 10.0.0.11 \(DNS/],
    ['EAI_AGAIN', /DNS/],
  ])('%s', (code, re) => {
    expect(describeSshError({ message: `connect ${code}`, code, level: 'client-socket' }, ctx).message).toMatch(re);
  });
  it('says "connection refused" for a real refused connection on loopback', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    const err = await new Promise<NodeJS.ErrnoException>((r) => connect(port, '127.0.0.1').on('error', r));
    const d = describeSshError(err, { ...ctx, address: '127.0.0.1', port, via: 'bastion admin@b:22' });
    expect(d.message).toBe(`connection refused at 127.0.0.1:${port} via bastion admin@b:22`);
  });
});

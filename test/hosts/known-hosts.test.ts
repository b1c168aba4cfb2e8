// known_hosts parsing checked against OpenSSH itself: keys made by ssh-keygen in the test, lines written as
// ssh-keyscan writes them (`host type base64`), hashed by `ssh-keygen -H`, and looked up with `ssh-keygen -F`.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHostKey, entryMatches, fingerprint, keyTypeOf, knownHostsLine, knownHostsName, knownKeyTypes, parseKnownHosts } from '../../src/hosts/known-hosts.ts';

let dir: string;
const keys: Record<string, { type: string; b64: string; blob: Buffer; fp: string }> = {};

async function makeKey(id: string, type: 'ed25519' | 'ecdsa' | 'rsa') {
  const f = join(dir, id);
  await execa('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-f', f]);
  const [t, b64] = (await readFile(`${f}.pub`, 'utf8')).split(' ');
  const fp = (await execa('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${f}.pub`])).stdout.split(' ')[1]!;
  keys[id] = { type: t!, b64: b64!, blob: Buffer.from(b64!, 'base64'), fp };
}

/** OpenSSH's own answer: line numbers of the entries that `ssh-keygen -F name` finds. */
async function opensshLookup(file: string, name: string): Promise<number[]> {
  const r = await execa('ssh-keygen', ['-F', name, '-f', file], { reject: false });
  return [...r.stdout.matchAll(/found: line (\d+)/g)].map((m) => Number(m[1]));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-kh-'));
  await Promise.all([makeKey('a', 'ed25519'), makeKey('b', 'ecdsa'), makeKey('c', 'ed25519'), makeKey('d', 'rsa')]);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('known_hosts', () => {
  it('reads key types and fingerprints as ssh-keygen prints them', () => {
    for (const k of Object.values(keys)) {
      expect(keyTypeOf(k.blob)).toBe(k.type);
      expect(fingerprint(k.blob)).toBe(k.fp);
    }
  });

  it('finds plain, [host]:port, comma-list and wildcard entries exactly where ssh-keygen -F finds them', async () => {
    const text = [
      '# lab hosts',
      `10.0.0.11 ${keys.a!.type} ${keys.a!.b64}`,
      `[10.0.0.12]:2222 ${keys.b!.type} ${keys.b!.b64}`,
      `node3,10.0.0.13 ${keys.c!.type} ${keys.c!.b64}`,
      `*.lab.internal,!bad.lab.internal ${keys.d!.type} ${keys.d!.b64}`,
      '',
    ].join('\n');
    const file = join(dir, 'plain');
    await writeFile(file, text);
    const entries = parseKnownHosts(text);
    for (const name of ['10.0.0.11', '[10.0.0.12]:2222', '10.0.0.12', 'node3', '10.0.0.13', 'gpu1.lab.internal', 'bad.lab.internal', 'other']) {
      const ours = entries.filter((e) => entryMatches(e, name)).map((e) => e.line);
      expect(ours, name).toEqual(await opensshLookup(file, name));
    }
  });

  it('matches hashed entries (ssh-keygen -H) like OpenSSH does', async () => {
    const file = join(dir, 'hashed');
    await writeFile(file, `10.0.0.11 ${keys.a!.type} ${keys.a!.b64}\n[10.0.0.12]:2222 ${keys.b!.type} ${keys.b!.b64}\n`);
    await execa('ssh-keygen', ['-q', '-H', '-f', file]);
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(/^\|1\|/);
    expect(text).not.toContain('10.0.0.11');
    const entries = parseKnownHosts(text);
    expect(checkHostKey(entries, '10.0.0.11', keys.a!.blob)).toEqual({ kind: 'trusted', line: 1 });
    expect(checkHostKey(entries, knownHostsName('10.0.0.12', 2222), keys.b!.blob)).toEqual({ kind: 'trusted', line: 2 });
    expect(checkHostKey(entries, '10.0.0.12', keys.b!.blob)).toEqual({ kind: 'unknown' });
  });

  it.each([
    ['the known key', 'a', '10.0.0.11', { kind: 'trusted', line: 1 }],
    ['another key of the same type', 'c', '10.0.0.11', { kind: 'changed', line: 1, knownType: 'ssh-ed25519' }],
    ['a key of another type when only ed25519 is known', 'b', '10.0.0.11', { kind: 'changed', line: 1, knownType: 'ssh-ed25519' }],
    ['a host never seen', 'a', '10.0.0.99', { kind: 'unknown' }],
    ['a revoked key, even for a host that has it listed', 'd', '10.0.0.14', { kind: 'revoked', line: 3 }],
  ])('verdict for %s', (_n, key, name, verdict) => {
    const text = `10.0.0.11 ${keys.a!.type} ${keys.a!.b64}\n10.0.0.14 ${keys.d!.type} ${keys.d!.b64}\n@revoked * ${keys.d!.type} ${keys.d!.b64}\n@cert-authority *.lab ${keys.c!.type} ${keys.c!.b64}\n`;
    expect(checkHostKey(parseKnownHosts(text), name, keys[key]!.blob)).toEqual(verdict);
  });

  it('writes lines that OpenSSH then finds, with the port form for non-22 ports', async () => {
    const file = join(dir, 'written');
    await writeFile(file, `${knownHostsLine(knownHostsName('10.0.0.20', 2200), keys.a!.blob)}\n${knownHostsLine('10.0.0.21', keys.b!.blob)}\n`);
    expect(await opensshLookup(file, '[10.0.0.20]:2200')).toEqual([1]);
    expect(await opensshLookup(file, '10.0.0.21')).toEqual([2]);
    expect(knownKeyTypes(parseKnownHosts(await readFile(file, 'utf8')), '10.0.0.21')).toEqual([keys.b!.type]);
  });
});

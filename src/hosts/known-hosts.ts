// OpenSSH known_hosts, read the way `ssh` reads it (plain, `[host]:port`, hashed `|1|salt|hash`, comma lists,
// wildcards, `!` negation, @revoked), and the verdict for a key a host offers. Pure: text in, verdict out.
import { createHash, createHmac } from 'node:crypto';

/** One key line of a known_hosts file (comments, blanks and @cert-authority lines are left out). */
export interface KnownHostEntry {
  /** 1-based line number in the file, for messages (`file:line`). */
  line: number;
  revoked: boolean;
  /** Host patterns of a plain entry (`a,[b]:2222,*.lab,!c`); absent for a hashed one. */
  patterns?: string[];
  hashed?: { salt: Buffer; hash: Buffer };
  keyType: string;
  /** The key blob, base64 as written in the file. */
  key: string;
}

/** What to make of the key a host offered. */
export type HostKeyVerdict =
  | { kind: 'trusted'; line: number }
  | { kind: 'revoked'; line: number }
  | { kind: 'changed'; line: number; knownType: string }
  | { kind: 'unknown' };

/** Parse a known_hosts file into its key lines. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const words = line.split(/\s+/);
    let revoked = false;
    if (words[0]!.startsWith('@')) {
      const marker = words.shift()!;
      if (marker !== '@revoked') return; // @cert-authority: host certificates are not used by ferry
      revoked = true;
    }
    const [hosts, keyType, key] = words;
    if (!hosts || !keyType || !key) return;
    const entry: KnownHostEntry = { line: i + 1, revoked, keyType, key };
    const h = /^\|1\|([^|]+)\|([^|]+)$/.exec(hosts);
    if (h) entry.hashed = { salt: Buffer.from(h[1]!, 'base64'), hash: Buffer.from(h[2]!, 'base64') };
    else entry.patterns = hosts.split(',');
    out.push(entry);
  });
  return out;
}

/** The name ssh looks up: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port = 22): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`, 'i');
  return re.test(name);
}

/** Whether a known_hosts entry names this host (`name` as from knownHostsName). */
export function entryMatches(entry: KnownHostEntry, name: string): boolean {
  if (entry.hashed) return createHmac('sha1', entry.hashed.salt).update(name).digest().equals(entry.hashed.hash);
  let matched = false;
  for (const p of entry.patterns ?? []) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), name)) return false;
    } else if (globMatch(p, name)) matched = true;
  }
  return matched;
}

/** Key type named inside an SSH public key blob (its first string field), e.g. `ssh-ed25519`. */
export function keyTypeOf(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** The fingerprint ssh prints: `SHA256:` and unpadded base64 of the blob's SHA-256. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Key types known for a host (not revoked), so a client can ask the server for one of those first, as ssh does. */
export function knownKeyTypes(entries: readonly KnownHostEntry[], name: string): string[] {
  return [...new Set(entries.filter((e) => !e.revoked && entryMatches(e, name)).map((e) => e.keyType))];
}

/** The verdict for `blob` offered by `name`: revoked wins, then a matching key, then any other key known for the host means it changed. */
export function checkHostKey(entries: readonly KnownHostEntry[], name: string, blob: Buffer): HostKeyVerdict {
  const key = blob.toString('base64');
  const revoked = entries.find((e) => e.revoked && e.key === key);
  if (revoked) return { kind: 'revoked', line: revoked.line };
  const mine = entries.filter((e) => !e.revoked && entryMatches(e, name));
  const same = mine.find((e) => e.key === key);
  if (same) return { kind: 'trusted', line: same.line };
  const type = keyTypeOf(blob);
  const other = mine.find((e) => e.keyType === type) ?? mine[0];
  return other ? { kind: 'changed', line: other.line, knownType: other.keyType } : { kind: 'unknown' };
}

/** The line `accept-new` appends for a host's key. */
export function knownHostsLine(name: string, blob: Buffer): string {
  return `${name} ${keyTypeOf(blob)} ${blob.toString('base64')}`;
}

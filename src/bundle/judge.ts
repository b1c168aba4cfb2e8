// The verdict on a bundle: what it holds (Observed) against what its manifest, SHA256SUMS and signature say. Pure.
import type { KeyObject } from 'node:crypto';
import { FerryError } from '../errors.ts';
import { parseSha256Sums } from './checksums.ts';
import { BundleLayout, unlistedFiles } from './layout.ts';
import { manifestEntries, parseManifest, type BundleManifest } from './manifest.ts';
import type { Observed } from './observe.ts';
import { checkSignature, fingerprint, parsePublicKey } from './sign.ts';

export interface JudgeOptions {
  /** The caller's trusted public key; without it the signature is not checked (and a note says so). */
  trustedKey?: KeyObject;
  /** Paths a delta bundle leaves to its base: their absence is not a problem. */
  fromBase?: ReadonlySet<string>;
}

export interface Verdict {
  ok: boolean;
  /** One line per bad file or fact, `PATH: what is wrong`, sorted by path. */
  problems: string[];
  notes: string[];
  manifest?: BundleManifest;
  checkedFiles: number;
  checkedBytes: number;
  signer?: string;
}

function describeMismatch(path: string, want: { size: number; sha256: string }, got: { size: number; sha256: string }): string | undefined {
  if (got.size < want.size) return `${path}: truncated (${got.size} of ${want.size} bytes)`;
  if (got.size > want.size) return `${path}: longer than the manifest says (${got.size} bytes, expected ${want.size})`;
  if (got.sha256 !== want.sha256) return `${path}: content changed (sha256 ${got.sha256}, expected ${want.sha256})`;
  return undefined;
}

/** Judges an observed bundle: every file against the manifest, SHA256SUMS against both, the signature if a key is trusted. */
export function judgeBundle(observed: Observed, options: JudgeOptions = {}): Verdict {
  const problems: string[] = [...observed.oddities];
  const notes: string[] = [];
  const done = (extra: Partial<Verdict> = {}): Verdict => ({
    ok: problems.length === 0,
    problems: [...new Set(problems)].sort(),
    notes,
    checkedFiles: 0,
    checkedBytes: 0,
    ...extra,
  });
  const manifestBytes = observed.metadata.get(BundleLayout.manifest);
  if (!manifestBytes) {
    problems.push(`${BundleLayout.manifest}: missing (nothing can be checked without it)`);
    return done();
  }
  let manifest: BundleManifest;
  try {
    manifest = parseManifest(manifestBytes.toString('utf8'), BundleLayout.manifest);
  } catch (error) {
    problems.push(`${BundleLayout.manifest}: invalid: ${error instanceof FerryError ? error.message : String(error)}`);
    return done();
  }

  const { signer, problems: sigProblems, note } = judgeSignature(observed, manifestBytes, manifest, options.trustedKey);
  problems.push(...sigProblems);
  if (note) notes.push(note);

  const entries = manifestEntries(manifest);
  const listed = new Set(entries.map((e) => e.path));
  let checkedFiles = 0;
  let checkedBytes = 0;
  for (const want of entries) {
    const got = observed.files.get(want.path);
    if (!got) {
      // An applied delta leaves its delta.yaml behind; without it the bundle is judged whole, which is stricter.
      if (!options.fromBase?.has(want.path) && want.path !== BundleLayout.delta) problems.push(`${want.path}: missing`);
      continue;
    }
    checkedFiles++;
    checkedBytes += got.size;
    const bad = describeMismatch(want.path, want, got);
    if (bad) problems.push(bad);
  }
  for (const path of observed.files.keys()) {
    if (!listed.has(path) && !unlistedFiles.includes(path)) problems.push(`${path}: extra file, not in the manifest`);
  }

  const sumsBytes = observed.metadata.get(BundleLayout.checksums);
  if (!sumsBytes) problems.push(`${BundleLayout.checksums}: missing`);
  else {
    const sums = parseSha256Sums(sumsBytes.toString('utf8'));
    for (const line of sums.badLines) problems.push(`${BundleLayout.checksums}: line ${line} is not "<sha256>  <path>"`);
    const byPath = new Map(entries.map((e) => [e.path, e.sha256]));
    const manifestHash = observed.files.get(BundleLayout.manifest)?.sha256;
    const inSums = new Set<string>();
    for (const e of sums.entries) {
      inSums.add(e.path);
      const want = e.path === BundleLayout.manifest ? manifestHash : byPath.get(e.path);
      if (want === undefined) problems.push(`${BundleLayout.checksums}: lists ${e.path}, which the manifest does not`);
      else if (want !== e.sha256) problems.push(`${BundleLayout.checksums}: disagrees with the manifest on ${e.path}`);
    }
    for (const e of entries) if (!inSums.has(e.path) && e.path !== BundleLayout.delta) problems.push(`${BundleLayout.checksums}: does not list ${e.path}`);
  }
  return done({ manifest, checkedFiles, checkedBytes, signer });
}

/**
 * The signature against the trusted key; without one, against the bundle's own ferry.pub (which the manifest lists,
 * so it is covered by the checksums): that proves the signature file intact, not who made it, and the note says so.
 */
function judgeSignature(observed: Observed, manifestBytes: Buffer, manifest: BundleManifest, trustedKey: KeyObject | undefined): { signer?: string; problems: string[]; note?: string } {
  const sig = observed.metadata.get(BundleLayout.signature);
  const signed = manifest.documents.some((d) => d.path === BundleLayout.publicKey);
  if (trustedKey) {
    if (!sig) return { problems: [`${BundleLayout.signature}: missing, but a trusted public key was given`] };
    const v = checkSignature(manifestBytes, sig.toString('utf8'), trustedKey);
    return v.ok ? { signer: v.keyFingerprint, problems: [] } : { problems: [`${BundleLayout.signature}: ${v.reason}`] };
  }
  if (!sig) return signed ? { problems: [`${BundleLayout.signature}: missing, though the manifest lists ${BundleLayout.publicKey} (the bundle was signed)`] } : { problems: [], note: 'bundle is not signed: checksums prove integrity, not origin' };
  const own = observed.metadata.get(BundleLayout.publicKey);
  if (!signed || !own) return { problems: [`${BundleLayout.signature}: present, but the bundle carries no listed ${BundleLayout.publicKey} to check it against`] };
  let key: KeyObject;
  try {
    key = parsePublicKey(own.toString('utf8'), BundleLayout.publicKey);
  } catch {
    return { problems: [`${BundleLayout.publicKey}: not an ed25519 public key (damaged)`] };
  }
  const v = checkSignature(manifestBytes, sig.toString('utf8'), key);
  if (!v.ok) return { problems: [`${BundleLayout.signature}: ${v.reason}`] };
  return {
    problems: [],
    note: `signature intact (by the bundle's own ${BundleLayout.publicKey}, ${fingerprint(key)}), but its origin is not checked: pass --pubkey with a key you trust, or --fingerprint (the ferry.pub inside the bundle proves nothing on its own)`,
  };
}

// Apply the writable refresh changes to the matrix files' YAML documents (the `yaml` Document API keeps comments,
// key order and flow style), stamping each touched fact with its new source, today's date and `verified: true`.
// Pure on the documents; the CLI reads and writes the files.
import { isMap, isSeq, Scalar, type Document, type YAMLMap, type YAMLSeq } from 'yaml';
import type { RefreshChange } from './diff.ts';

/** Matrix file name of each family. */
export const FAMILY_FILE: Record<string, string> = {
  kubernetes: 'kubernetes.yaml',
  containerd: 'containerd.yaml',
  runc: 'runc.yaml',
  'cri-o': 'cri-o.yaml',
  cni: 'cni.yaml',
  nvidia: 'nvidia.yaml',
  os: 'os.yaml',
};

const quoted = (v: string) => Object.assign(new Scalar(v), { type: Scalar.QUOTE_DOUBLE });

function seqOf(doc: Document, key: string): YAMLSeq | null {
  const node = doc.get(key, true);
  return isSeq(node) ? node : null;
}

/** The entry of a family a change is about: `kubernetes 1.36` → releases[minor=1.36], `R580` → branches[branch=580]. */
function entryFor(doc: Document, change: RefreshChange): YAMLMap | null {
  const parts = change.subject.split(' ');
  const line = parts.at(-1)!;
  const match = (seq: YAMLSeq | null, test: (m: YAMLMap) => boolean) => (seq?.items.find((i) => isMap(i) && test(i)) as YAMLMap | undefined) ?? null;
  const get = (m: YAMLMap, k: string) => String(m.get(k) ?? '');
  switch (change.family) {
    case 'kubernetes':
    case 'cri-o':
      return match(seqOf(doc, 'releases'), (m) => get(m, 'minor') === line);
    case 'containerd':
    case 'runc':
      return match(seqOf(doc, 'releases'), (m) => get(m, 'branch') === line);
    case 'cni':
      return match(seqOf(doc, 'releases'), (m) => get(m, 'name') === parts[0] && get(m, 'minor') === line);
    case 'nvidia':
      return match(seqOf(doc, 'branches'), (m) => get(m, 'branch') === line.replace(/^R/, ''));
    default:
      return null;
  }
}

/** Set the fact fields of an entry after a value in it was read from `source` today. */
function stamp(entry: YAMLMap, source: string, today: string): void {
  const old = String(entry.get('source') ?? '');
  const oldUrl = old.split(' ')[0];
  entry.set('source', source);
  entry.set('read', quoted(today));
  entry.set('verified', true);
  if (oldUrl && oldUrl !== source) entry.set('note', `refreshed by ferry matrix refresh on ${today}; the entry's other values were read from ${old}`);
}

/** Apply every writable change; returns the changes applied (the others need a person). */
export function applyChanges(docs: Map<string, Document>, changes: readonly RefreshChange[], today: string): RefreshChange[] {
  const applied: RefreshChange[] = [];
  for (const change of changes) {
    if (!change.writable) continue;
    const doc = docs.get(FAMILY_FILE[change.family] ?? '');
    if (!doc) continue;
    if (change.kind === 'new-line') {
      if (addLine(doc, change, today)) applied.push(change);
      continue;
    }
    const entry = entryFor(doc, change);
    if (!entry || !change.field || !change.to) continue;
    entry.set(change.field, quoted(change.to));
    stamp(entry, change.source, today);
    applied.push(change);
  }
  return applied;
}

/** Append a new line (Kubernetes minor, CRI-O minor, runc branch) in the style of its siblings. */
function addLine(doc: Document, change: RefreshChange, today: string): boolean {
  const seq = seqOf(doc, 'releases');
  const e = change.entry;
  if (!seq || !e) return false;
  const fact = { source: change.source, read: today, verified: true };
  let value: Record<string, unknown>;
  if (change.family === 'kubernetes')
    value = {
      minor: e.minor, latest: e.latest, released: e.released, eol: e.eol, ...fact,
      note: 'added by ferry matrix refresh; not chosen until its containerd row and kubeadm images are read',
      containerd: { min: [], source: 'https://github.com/containerd/containerd/blob/main/RELEASES.md (Kubernetes support table)', read: today, verified: false, note: `read the row for Kubernetes ${e.minor}` },
    };
  else if (change.family === 'cri-o') value = { minor: e.minor, latest: e.latest, ...fact };
  else if (change.family === 'runc') value = { branch: e.branch, latest: e.latest, ...fact };
  else return false;
  const node = doc.createNode(value) as YAMLMap;
  quoteVersions(node);
  const sibling = seq.items.at(-1);
  if (isMap(sibling) && sibling.flow) node.flow = true;
  seq.items.push(node);
  return true;
}

/** Quote every version and date string, as the matrix files do (YAML would read 8.10 as 8.1). */
function quoteVersions(node: YAMLMap): void {
  for (const pair of node.items) {
    const v = pair.value;
    if (v instanceof Scalar && typeof v.value === 'string' && /^\d[\d.-]*$/.test(v.value)) v.type = Scalar.QUOTE_DOUBLE;
    else if (isMap(v)) quoteVersions(v);
  }
}

// The lock's and the bundle spec's rules of meaning, one row each, with the message and field each gives.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { BundleSpec } from '../../src/config/bundle-spec.ts';
import { Lock } from '../../src/config/lock.ts';
import { parseYaml } from '../../src/config/parse.ts';
import { InputError, type InputIssue } from '../../src/errors.ts';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const read = (p: string) => readFileSync(new URL(p, import.meta.url), 'utf8');
const lock = (): Any => parse(read('../bundle/fixtures/lock-rocky9-h100.yaml')) as Any;
const spec = (): Any => parse(read('../../bundles/gpu-cluster.yaml')) as Any;

function issues(doc: Any, schema: typeof Lock | typeof BundleSpec): InputIssue[] {
  try {
    parseYaml(stringify(doc), 'input.yaml', schema);
  } catch (error) {
    return [...(error as InputError).issues];
  }
  return [];
}

const lockRows: { name: string; edit: (d: Any) => void; field: string; message: RegExp }[] = [
  { name: 'a Kubernetes version that is no release', edit: (d) => (d.stack.kubernetes = '9.99'), field: 'stack.kubernetes', message: /must be a Kubernetes release such as 1\.33\.2/ },
  { name: 'a runc version that is a word', edit: (d) => (d.stack.runc = 'latest'), field: 'stack.runc', message: /must be a version such as 1\.33\.2/ },
  { name: 'a CNI version with a leading v', edit: (d) => (d.stack.cni.version = 'v3.31.3'), field: 'stack.cni.version', message: /must be a version/ },
  { name: 'an unknown platform', edit: (d) => (d.platform = 'windows/amd64'), field: 'platform', message: /must be linux\/amd64 or linux\/arm64/ },
  { name: 'a platform that is not the stack’s arch', edit: (d) => (d.platform = 'linux/arm64'), field: 'platform', message: /linux\/arm64 is not the stack's linux\/amd64/ },
  { name: 'an unknown arch', edit: (d) => (d.stack.os.arch = 'mips'), field: 'stack.os.arch', message: /must be one of amd64, arm64, x86_64, aarch64/ },
  { name: 'a driver version off its branch', edit: (d) => (d.stack.nvidiaDriver.version = '570.1.2'), field: 'stack.nvidiaDriver.version', message: /570\.1\.2 is not on branch 580/ },
  { name: 'a GPU without a driver', edit: (d) => (d.stack.nvidiaDriver = null), field: 'stack.nvidiaDriver', message: /names GPU h100 but no NVIDIA driver/ },
  { name: 'an image reference with an upper-case path', edit: (d) => (d.images[0].ref = 'registry.k8s.io/Kube-Apiserver:v1'), field: 'images[0].ref', message: /must be an image reference/ },
  { name: 'a matrix digest that is not one', edit: (d) => (d.matrixDigest = 'abc'), field: 'matrixDigest', message: /must be sha256:<64 hex digits>/ },
  { name: 'a resolve time that is not a time', edit: (d) => (d.resolvedAt = 'yesterday'), field: 'resolvedAt', message: /must be an ISO 8601 time/ },
];

const specRows: { name: string; edit: (d: Any) => void; field: string; message: RegExp }[] = [
  { name: 'an unknown placeholder', edit: (d) => (d.files[0].url = 'https://dl.k8s.io/{k8s}/kubeadm'), field: 'files[0].url', message: /unknown placeholder \{k8s\}/ },
  { name: 'a URL that is none once filled', edit: (d) => (d.files[0].url = 'dl.k8s.io/{kubernetes}/kubeadm'), field: 'files[0].url', message: /not an http, https or file URL/ },
  { name: 'two files writing one path', edit: (d) => d.files.push({ ...d.files[0] }), field: `files[${spec().files.length}].name`, message: /writes the same bundle path as files\[0\]/ },
  { name: 'a release key that is no release', edit: (d) => (d.os.el.rocky = d.os.el['9']), field: 'os.el.rocky', message: /"rocky" is not an OS release/ },
  { name: 'an extra image that is no reference', edit: (d) => (d.images = { extra: [{ ref: 'Not An Image' }] }), field: 'images.extra[0].ref', message: /must be an image reference/ },
  { name: 'a when on an unknown lock value', edit: (d) => (d.files[0].when = { gpu: '*' }), field: 'files[0].when.gpu', message: /unknown lock value gpu/ },
  { name: 'a mirror that is no URL', edit: (d) => (d.mirrors = { 'https://dl.k8s.io/': 'mirror.site' }), field: 'mirrors.https://dl.k8s.io/', message: /replacement mirror\.site: not an http, https or file URL/ },
];

describe('lock rules', () => {
  it('accepts the real lock every row starts from', () => expect(issues(lock(), Lock)).toEqual([]));
  it.each(lockRows)('refuses $name', ({ edit, field, message }) => {
    const d = lock();
    edit(d);
    const found = issues(d, Lock);
    expect(found.find((i) => i.field === field && message.test(i.message)), JSON.stringify(found)).toBeDefined();
  });
});

describe('bundle spec rules', () => {
  it('accepts the real spec every row starts from', () => expect(issues(spec(), BundleSpec)).toEqual([]));
  it.each(specRows)('refuses $name', ({ edit, field, message }) => {
    const d = spec();
    edit(d);
    const found = issues(d, BundleSpec);
    expect(found.find((i) => i.field === field && message.test(i.message)), JSON.stringify(found)).toBeDefined();
  });
});

describe('the placeholders the spec rules know', () => {
  it('are exactly the ones the bundle plan fills from a lock (besides imageTag.<name>)', async () => {
    const { LOCK_PLACEHOLDERS } = await import('../../src/config/bundle-spec-rules.ts');
    const { templateVariables } = await import('../../src/bundle/plan.ts');
    const lock = parseYaml(readFileSync(new URL('../bundle/fixtures/lock-rocky9-h100.yaml', import.meta.url), 'utf8'), 'lock', Lock);
    const filled = Object.keys(templateVariables(lock)).filter((k) => !k.startsWith('imageTag.'));
    expect([...LOCK_PLACEHOLDERS].sort()).toEqual(filled.sort());
  });
});

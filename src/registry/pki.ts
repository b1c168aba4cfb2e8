// The registry's PKI: a CA that ferry creates once and keeps on the admin host (key 0600, never printed), and a
// server certificate per replica with the SANs from registryCertificateSans(). openssl runs through a Host
// (present on every Linux admin host); the argv and extension text are built by pure functions below.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Host } from '../hosts/host.ts';
import { UserError } from '../errors.ts';

export interface San {
  type: 'IP' | 'DNS';
  value: string;
}

export interface RegistryCa {
  certPath: string;
  keyPath: string;
  certPem: string;
}

export interface ServerCertificate {
  certPem: string;
  keyPem: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** openssl argv that makes the self-signed CA (10 years; it only signs registry certificates). */
export function caArgv(dir: string, clusterName: string): string[] {
  return ['openssl', 'req', '-x509', ...EC, '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt'), '-days', '3650',
    '-subj', `/O=ferry/CN=ferry registry CA ${clusterName}`,
    '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'];
}

/** The x509v3 extension file for a replica certificate: its SANs, server auth only. */
export function serverExtensions(sans: readonly San[]): string {
  if (sans.length === 0) throw new UserError('a registry certificate needs at least one subject alternative name');
  for (const s of sans) {
    const ok = s.type === 'IP' ? /^[0-9a-fA-F.:]+$/.test(s.value) : /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(s.value);
    if (!ok) throw new UserError(`not a valid ${s.type} subject alternative name: ${JSON.stringify(s.value)}`);
  }
  const list = sans.map((s) => `${s.type}:${s.value}`).join(',');
  return `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${list}\n`;
}

/** The CA's files under its directory. */
export function caPaths(dir: string): { certPath: string; keyPath: string } {
  return { certPath: join(dir, 'ca.crt'), keyPath: join(dir, 'ca.key') };
}

/** argv that runs `argv` with umask 077, so the key it writes is owner-only from the start. */
export function ownerOnly(argv: readonly string[]): string[] {
  return ['sh', '-c', 'umask 077 && exec "$@"', 'sh', ...argv];
}

/** The commands that make the CA under `dir` (directory 0700, key 0600). */
export function makeCaArgvs(dir: string, clusterName: string): string[][] {
  return [['install', '-d', '-m', '0700', dir], ownerOnly(caArgv(dir, clusterName))];
}

/** The files of one replica's certificate while it is issued (in `work`, named after the replica). */
export function issuedPaths(work: string, name: string): { ext: string; key: string; csr: string; crt: string } {
  const p = (ext: string) => join(work, `${name}.${ext}`);
  return { ext: p('ext'), key: p('key'), csr: p('csr'), crt: p('crt') };
}

/**
 * A random serial per certificate (RFC 5280: positive, at most 20 octets): the replicas' certificates are issued in
 * parallel, and -CAcreateserial's shared ca.srl file was read while another openssl rewrote it ("Unable to load
 * number from ca.srl"), failing the registry phase at random.
 */
export function newSerial(): string {
  return `0x${(randomBytes(16)[0]! & 0x7f).toString(16).padStart(2, '0')}${randomBytes(15).toString('hex')}`;
}

/** The key and request of a replica's certificate (the extension file must be written first). */
export function requestArgv(work: string, name: string): string[] {
  const p = issuedPaths(work, name);
  return ownerOnly(['openssl', 'req', '-new', ...EC, '-keyout', p.key, '-out', p.csr, '-subj', `/O=ferry/CN=${name}`]);
}

/** The CA signs the request with the extension file's SANs. */
export function signArgv(ca: { certPath: string; keyPath: string }, work: string, name: string, serial: string): string[] {
  const p = issuedPaths(work, name);
  return ['openssl', 'x509', '-req', '-in', p.csr, '-CA', ca.certPath, '-CAkey', ca.keyPath, '-set_serial', serial,
    '-out', p.crt, '-days', '825', '-sha256', '-extfile', p.ext];
}

/** Create the CA under `dir` unless it exists; returns it. The key stays 0600 and is never read into output. */
export async function ensureRegistryCa(host: Host, dir: string, clusterName: string): Promise<RegistryCa> {
  const { certPath, keyPath } = caPaths(dir);
  const present = await host.exec(['test', '-s', certPath, '-a', '-s', keyPath], { allowFailure: true, readOnly: true });
  if (present.exitCode !== 0) for (const argv of makeCaArgvs(dir, clusterName)) await host.exec(argv);
  await host.exec(['chmod', '0600', keyPath]);
  return { certPath, keyPath, certPem: (await host.readFile(certPath)).toString('utf8') };
}

/** A server certificate for one replica, signed by the CA; the key comes back to be written 0600 on the replica. */
export async function issueServerCertificate(host: Host, ca: RegistryCa, work: string, name: string, sans: readonly San[]): Promise<ServerCertificate> {
  const p = issuedPaths(work, name);
  await host.exec(['install', '-d', '-m', '0700', work]);
  await host.writeFile(p.ext, serverExtensions(sans), { mode: 0o600 });
  await host.exec(requestArgv(work, name));
  await host.exec(signArgv(ca, work, name, newSerial()));
  const certPem = (await host.readFile(p.crt)).toString('utf8');
  const keyPem = (await host.readFile(p.key)).toString('utf8');
  await host.exec(['rm', '-f', p.key, p.csr]);
  return { certPem, keyPem };
}

// Reading a control plane's certificate expiry over a Host (read-only): `kubeadm certs check-expiration`, or where
// kubeadm is absent the notAfter of every certificate under /etc/kubernetes/pki from openssl; then the verdicts.
import type { Host } from '../hosts/host.ts';
import { sh } from '../hosts/shell.ts';
import { UnexpectedOutputError } from '../errors.ts';
import { judgeExpiry, parseCheckExpiration, parseOpensslList, worstStatus, type CertStatus, type CertVerdict } from './expiry.ts';

/** The one read-only command: a marker line saying which tool answered, then its output. */
export const CERTS_COMMAND = sh`if command -v kubeadm >/dev/null 2>&1; then echo @@kubeadm; exec kubeadm certs check-expiration; fi
echo @@openssl
for f in /etc/kubernetes/pki/*.crt /etc/kubernetes/pki/etcd/*.crt; do
  [ -e "$f" ] || continue
  printf '%s ' "$f"; openssl x509 -noout -enddate -in "$f" || exit 1
done`;

export interface HostCerts {
  host: string;
  source: 'kubeadm' | 'openssl';
  status: CertStatus;
  certificates: CertVerdict[];
}

/** The verdicts from the command's output (pure). Throws UnexpectedOutputError on output it does not recognise. */
export function judgeCertsOutput(host: string, stdout: string, now: Date): HostCerts {
  const [marker, ...rest] = stdout.split('\n');
  const body = rest.join('\n');
  if (marker !== '@@kubeadm' && marker !== '@@openssl') throw new UnexpectedOutputError(`unexpected output from ${host}: ${JSON.stringify(stdout.slice(0, 200))}`);
  const source = marker === '@@kubeadm' ? 'kubeadm' : 'openssl';
  const entries = source === 'kubeadm' ? parseCheckExpiration(body) : parseOpensslList(body);
  if (entries.length === 0) throw new UnexpectedOutputError(`${host}: no certificate under /etc/kubernetes/pki (is it a control plane?)`);
  const certificates = judgeExpiry(entries, now);
  return { host, source, status: worstStatus(certificates), certificates };
}

/** Runs the command on one control plane and judges it. */
export async function checkHostCerts(host: Host, now: () => Date): Promise<HostCerts> {
  const r = await host.exec(CERTS_COMMAND, { readOnly: true, timeoutMs: 60_000 });
  return judgeCertsOutput(host.name, r.stdout, now());
}

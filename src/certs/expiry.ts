// Control-plane certificate expiry: parsing `kubeadm certs check-expiration` (or `openssl x509 -enddate` where kubeadm
// is absent) into one entry per certificate, and the verdict: warn under 30 days, fail under 7 (pure; `now` is given).
//
// kubeadm's text format is cmd/kubeadm/app/cmd/certs.go (certTextPrinter): two tabwriter tables (padding 3) headed
// "CERTIFICATE  EXPIRES  RESIDUAL TIME  CERTIFICATE AUTHORITY  EXTERNALLY MANAGED" and "CERTIFICATE AUTHORITY
// EXPIRES  RESIDUAL TIME  EXTERNALLY MANAGED", dates as Go's "Jan 02, 2006 15:04 MST" in UTC, a missing file as
// "!MISSING! <name>" (https://github.com/kubernetes/kubernetes/blob/master/cmd/kubeadm/app/cmd/certs.go).
import { UnexpectedOutputError } from '../errors.ts';

export interface CertExpiry {
  /** As kubeadm names it: apiserver, admin.conf, etcd-ca, ... or, from openssl, the file path. */
  name: string;
  kind: 'certificate' | 'authority';
  /** undefined when the file is missing. */
  notAfter: Date | undefined;
  /** The CA that signed a certificate (kubeadm's CERTIFICATE AUTHORITY column). */
  authority?: string;
  externallyManaged: boolean;
}

export type CertStatus = 'pass' | 'warn' | 'fail';

export interface CertVerdict extends CertExpiry {
  status: CertStatus;
  /** Whole days left (negative once expired); undefined when missing. */
  daysLeft: number | undefined;
  message: string;
  remedy?: string;
}

export const CERT_THRESHOLDS = { warnDays: 30, failDays: 7 } as const;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const KUBEADM_DATE = /^([A-Z][a-z]{2}) (\d{2}), (\d{4}) (\d{2}):(\d{2}) UTC$/;

/** "Aug 19, 2026 09:03 UTC" → Date; undefined when it is not that format. */
export function parseKubeadmDate(text: string): Date | undefined {
  const m = KUBEADM_DATE.exec(text.trim());
  const month = m ? MONTHS.indexOf(m[1]!) : -1;
  if (!m || month < 0) return undefined;
  return new Date(Date.UTC(Number(m[3]), month, Number(m[2]), Number(m[4]), Number(m[5])));
}


const CERT_HEADERS = ['CERTIFICATE', 'EXPIRES', 'RESIDUAL TIME', 'CERTIFICATE AUTHORITY', 'EXTERNALLY MANAGED'];
const CA_HEADERS = ['CERTIFICATE AUTHORITY', 'EXPIRES', 'RESIDUAL TIME', 'EXTERNALLY MANAGED'];

/** Column start offsets of a header line, when it is one of kubeadm's two headers. */
function headerColumns(line: string, names: readonly string[]): number[] | undefined {
  if (!line.startsWith(names[0]!)) return undefined;
  const starts: number[] = [];
  let from = 0;
  for (const name of names) {
    const at = line.indexOf(name, from);
    if (at < 0 || (starts.length > 0 && line.slice(from, at).trim() !== '')) return undefined;
    starts.push(at);
    from = at + name.length;
  }
  return line.slice(from).trim() === '' ? starts : undefined;
}

/**
 * The entries of `kubeadm certs check-expiration` output, read by the header's column offsets (tabwriter aligns
 * every row to them; older kubeadm leaves the CA column of kubeconfig rows empty). Lines starting with `[` are
 * kubeadm's progress and are skipped.
 */
export function parseCheckExpiration(text: string): CertExpiry[] {
  const out: CertExpiry[] = [];
  let table: { kind: CertExpiry['kind']; starts: number[] } | undefined;
  let seen = false;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line === '' || line.startsWith('[')) continue;
    const ca = headerColumns(line, CA_HEADERS);
    const certs = ca ? undefined : headerColumns(line, CERT_HEADERS);
    if (ca || certs) {
      table = ca ? { kind: 'authority', starts: ca } : { kind: 'certificate', starts: certs! };
      seen ||= Boolean(certs);
      continue;
    }
    if (!table) throw new UnexpectedOutputError(`unexpected line before any table: ${JSON.stringify(line)}`);
    const missing = /^!MISSING! (\S+)$/.exec(line.trim());
    if (missing) {
      out.push({ name: missing[1]!, kind: table.kind, notAfter: undefined, externallyManaged: false });
      continue;
    }
    const { starts, kind } = table;
    const cells = starts.map((s, i) => line.slice(s, starts[i + 1] ?? line.length).trim());
    const notAfter = parseKubeadmDate(cells[1] ?? '');
    const name = cells[0] ?? '';
    if (!notAfter || !/^\S+$/.test(name) || line.slice(0, starts[1]).trim() !== name)
      throw new UnexpectedOutputError(`not a row of kubeadm's ${kind} table: ${JSON.stringify(line)}`);
    out.push({
      name,
      kind,
      notAfter,
      ...(kind === 'certificate' && cells[3] ? { authority: cells[3] } : {}),
      externallyManaged: cells.at(-1) === 'yes',
    });
  }
  if (!seen) throw new UnexpectedOutputError('no CERTIFICATE table in the output');
  return out;
}

/** `openssl x509 -noout -enddate` → its notAfter ("notAfter=Dec  7 04:39:37 2027 GMT"). */
export function parseOpensslEnddate(text: string): Date {
  const m = /^notAfter=([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4}) GMT$/.exec(text.trim());
  const month = m ? MONTHS.indexOf(m[1]!) : -1;
  if (!m || month < 0) throw new UnexpectedOutputError(`not openssl's -enddate output: ${JSON.stringify(text.trim())}`);
  return new Date(Date.UTC(Number(m[6]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])));
}

/** Lines "<path> notAfter=..." (the fallback where kubeadm is absent) → entries named by file, CAs by their name. */
export function parseOpensslList(text: string): CertExpiry[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const [path, ...rest] = line.trim().split(' ');
      const file = path!.replace(/^\/etc\/kubernetes\/pki\//, '');
      const authority = /(^|\/)(ca|front-proxy-ca)\.crt$/.test(file);
      return { name: file, kind: authority ? 'authority' : 'certificate', notAfter: parseOpensslEnddate(rest.join(' ')), externallyManaged: false };
    });
}

const DAY_MS = 86_400_000;

/** The verdict per entry at `now`: fail when expired or under 7 days, warn under 30, pass otherwise. */
export function judgeExpiry(entries: readonly CertExpiry[], now: Date, thresholds: { warnDays: number; failDays: number } = CERT_THRESHOLDS): CertVerdict[] {
  return entries.map((e) => {
    if (!e.notAfter) {
      // kubeadm writes super-admin.conf on the first control plane only (kubeadm init); elsewhere it is missing by design.
      const expected = e.name === 'super-admin.conf';
      return {
        ...e,
        status: expected ? 'pass' : 'warn',
        daysLeft: undefined,
        message: expected ? 'not on this node (kubeadm writes it on the first control plane only)' : 'missing: kubeadm lists it but the file is not there',
        ...(expected ? {} : { remedy: 'restore it from a backup of /etc/kubernetes, or regenerate it with kubeadm init phase certs|kubeconfig on this node' }),
      };
    }
    const leftMs = e.notAfter.getTime() - now.getTime();
    const daysLeft = Math.floor(leftMs / DAY_MS);
    const when = e.notAfter.toISOString().replace('.000Z', 'Z');
    const status: CertStatus = leftMs < thresholds.failDays * DAY_MS ? 'fail' : leftMs < thresholds.warnDays * DAY_MS ? 'warn' : 'pass';
    const message = leftMs <= 0 ? `expired ${when}` : `expires ${when} (${daysLeft} days left)`;
    if (status === 'pass') return { ...e, status, daysLeft, message };
    const remedy =
      e.kind === 'authority'
        ? 'a CA cannot be renewed by kubeadm certs renew: plan a CA rotation (https://kubernetes.io/docs/tasks/tls/manual-rotation-of-ca-certificates/)'
        : 'renew on every control plane: kubeadm certs renew all, then restart the control-plane static pods (docs/day-two.md; ferry certs renew is not built yet)';
    return { ...e, status, daysLeft, message, remedy };
  });
}

/** The worst status among verdicts (pass when there are none). */
export function worstStatus(verdicts: readonly { status: CertStatus }[]): CertStatus {
  return verdicts.some((v) => v.status === 'fail') ? 'fail' : verdicts.some((v) => v.status === 'warn') ? 'warn' : 'pass';
}

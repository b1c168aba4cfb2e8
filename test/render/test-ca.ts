// Test helper: a throwaway CA and server certificate made with openssl at test time (never committed).
import { join } from 'node:path';
import { put, tool } from './tools.ts';

async function openssl(args: string[]): Promise<void> {
  const r = await tool(['openssl', ...args]);
  if (r.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${r.output}`);
}

/** Makes ca.crt/ca.key and server.crt/server.key (signed by the CA, with the given SANs) in `dir`. */
export async function makeTestPki(dir: string, sans: readonly string[]) {
  const p = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '1', '-subj', '/CN=ferry-test-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await openssl(['req', '-new', ...ec, '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=ferry-test-server']);
  const ext = put(dir, 'server.ext', `subjectAltName=${sans.join(',')}\nextendedKeyUsage=serverAuth\n`);
  await openssl(['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial',
    '-out', p('server.crt'), '-days', '1', '-extfile', ext]);
  return { caCert: p('ca.crt'), serverCert: p('server.crt'), serverKey: p('server.key') };
}

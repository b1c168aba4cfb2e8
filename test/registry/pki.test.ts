// The pure parts of the registry PKI: the extension text openssl signs with, and the SANs it refuses.
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { caArgv, serverExtensions, type San } from '../../src/registry/pki.ts';

describe('serverExtensions', () => {
  it('lists IP and DNS SANs for server auth only, never as a CA', () => {
    const text = serverExtensions([{ type: 'IP', value: '10.20.0.11' }, { type: 'IP', value: 'fd00::5' }, { type: 'DNS', value: 'registry.ferry.internal' }]);
    expect(text).toContain('subjectAltName=IP:10.20.0.11,IP:fd00::5,DNS:registry.ferry.internal\n');
    expect(text).toContain('extendedKeyUsage=serverAuth\n');
    expect(text).toContain('basicConstraints=critical,CA:FALSE\n');
  });

  const refused: [string, San[]][] = [
    ['no SAN at all', []],
    ['a DNS name with a comma (would inject another SAN)', [{ type: 'DNS', value: 'a.example,IP:1.2.3.4' }]],
    ['an IP with a newline (would inject an extension)', [{ type: 'IP', value: '10.0.0.1\nbasicConstraints=CA:TRUE' }]],
    ['a DNS name starting with a dot', [{ type: 'DNS', value: '.example' }]],
  ];
  it.each(refused)('refuses %s', (_, sans) => {
    expect(() => serverExtensions(sans)).toThrow(UserError);
  });
});

describe('caArgv', () => {
  it('makes a CA that can sign only end certificates, with the key unencrypted for the admin host to keep at 0600', () => {
    const argv = caArgv('/state/pki', 'prod');
    expect(argv.slice(0, 3)).toEqual(['openssl', 'req', '-x509']);
    expect(argv).toContain('basicConstraints=critical,CA:TRUE,pathlen:0');
    expect(argv).toContain('/O=ferry/CN=ferry registry CA prod');
    expect(argv[argv.indexOf('-keyout') + 1]).toBe('/state/pki/ca.key');
  });
});

describe('issueServerCertificate', () => {
  it('issues the replicas\' certificates in parallel, each with its own serial, all signed by the CA (real openssl)', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { X509Certificate } = await import('node:crypto');
    const { LocalHost } = await import('../../src/hosts/local.ts');
    const { ensureRegistryCa, issueServerCertificate } = await import('../../src/registry/pki.ts');
    const dir = await mkdtemp(join(tmpdir(), 'ferry-pki-'));
    try {
      const host = new LocalHost();
      const ca = await ensureRegistryCa(host, join(dir, 'ca'), 'test');
      // Sixteen at once, as the registry phase issues one per replica host in parallel (with the shared ca.srl of
      // -CAcreateserial this failed about one run in three with "Unable to load number from ca.srl").
      const certs = await Promise.all(Array.from({ length: 16 }, (_, i) => issueServerCertificate(host, ca, join(dir, 'issued'), `cp${i}`, [{ type: 'IP', value: `10.0.0.${i + 1}` }])));
      const caCert = new X509Certificate(ca.certPem);
      const parsed = certs.map((c) => new X509Certificate(c.certPem));
      for (const c of parsed) expect(c.verify(caCert.publicKey)).toBe(true);
      expect(new Set(parsed.map((c) => c.serialNumber)).size).toBe(16);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    // 16 × 3 openssl processes: more than the default 5 s on a loaded two-core machine (seen in a full unit run).
  }, 30_000);
});

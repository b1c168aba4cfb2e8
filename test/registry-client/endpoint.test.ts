import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { RegistryClient } from '../../src/registry-client/client.ts';

const creds = { username: 'u', password: 'secret-value' };

describe('RegistryClient.endpoint', () => {
  const client = new RegistryClient({
    mirrors: { 'registry.k8s.io': 'https://mirror.site:8443/k8s/', 'quay.io': 'http://10.0.0.5:5000' },
    credentials: { 'mirror.site:8443': creds, 'nvcr.io': creds },
    insecureRegistries: ['127.0.0.1:5000'],
  });

  it.each([
    ['Docker Hub goes to registry-1.docker.io', 'docker.io', { base: 'https://registry-1.docker.io', host: 'docker.io', prefix: '' }],
    ['a mirror with a path prefixes the repository and takes the mirror host credentials', 'registry.k8s.io', { base: 'https://mirror.site:8443', host: 'mirror.site:8443', prefix: 'k8s/', credentials: creds }],
    ['a plain-http mirror keeps its scheme', 'quay.io', { base: 'http://10.0.0.5:5000', host: '10.0.0.5:5000', prefix: '' }],
    ['an insecure registry is spoken to over http', '127.0.0.1:5000', { base: 'http://127.0.0.1:5000', host: '127.0.0.1:5000', prefix: '' }],
    ['other registries use https and their own credentials', 'nvcr.io', { base: 'https://nvcr.io', host: 'nvcr.io', prefix: '', credentials: creds }],
  ])('%s', (_name, registry, want) => {
    expect(client.endpoint(registry)).toEqual(want);
  });

  it.each([
    ['credentials in the URL', 'https://u:secret-value@mirror.site', /carries credentials/],
    ['not a URL', 'mirror.site', /is not a URL/],
    ['another scheme', 'ftp://mirror.site', /http or https/],
  ])('refuses a mirror with %s, without echoing it', (_name, mirror, message) => {
    const bad = new RegistryClient({ mirrors: { 'ghcr.io': mirror } });
    expect(() => bad.endpoint('ghcr.io')).toThrow(UserError);
    expect(() => bad.endpoint('ghcr.io')).toThrow(message);
    try {
      bad.endpoint('ghcr.io');
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('secret-value');
    }
  });
});

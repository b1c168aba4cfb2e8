import { describe, expect, it } from 'vitest';
import { parseChallenge, pullScope } from '../../src/registry-client/challenge.ts';

describe('parseChallenge', () => {
  it.each([
    [
      // The example in distribution's docs/spec/auth/token.md.
      'the token spec example, with a scope',
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"',
      { scheme: 'bearer', realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:samalba/my-app:pull,push' },
    ],
    [
      // What Docker Hub's GET /v2/ answers (no scope at the root).
      'Docker Hub at /v2/',
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io"',
      { scheme: 'bearer', realm: 'https://auth.docker.io/token', service: 'registry.docker.io' },
    ],
    [
      // distribution 2.8 with `auth: htpasswd: realm: ferry-test` (seen in test/registry-client/auth.test.ts).
      'distribution with htpasswd',
      'Basic realm="ferry-test"',
      { scheme: 'basic', realm: 'ferry-test' },
    ],
    ['a lower-case scheme and spaces around commas', 'bearer realm="http://127.0.0.1:1/token" , service="svc"', { scheme: 'bearer', realm: 'http://127.0.0.1:1/token', service: 'svc' }],
    ['token68-style unquoted values', 'Bearer realm=http://x/token,service=reg', { scheme: 'bearer', realm: 'http://x/token', service: 'reg' }],
    ['escaped quotes inside a value', 'Basic realm="a \\"quoted\\" realm"', { scheme: 'basic', realm: 'a "quoted" realm' }],
  ])('parses %s', (_name, header, want) => {
    expect(parseChallenge(header)).toEqual(want);
  });

  it.each([
    ['a scheme ferry does not speak', 'Negotiate abc'],
    ['Bearer without a realm', 'Bearer service="x"'],
    ['an empty header', ''],
  ])('returns undefined for %s', (_name, header) => {
    expect(parseChallenge(header)).toBeUndefined();
  });

  it('builds pull scopes the way the token spec writes them', () => {
    expect(pullScope('library/nginx')).toBe('repository:library/nginx:pull');
    expect(pullScope('a/b', ['pull', 'push'])).toBe('repository:a/b:pull,push');
  });
});

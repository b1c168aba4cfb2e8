// A tiny token server for distribution's `auth: token` (docs/spec/auth/token.md and jwt.md): answers
// GET /token?service=&scope= with a JWT signed (RS256) by a key generated for the test, its self-signed
// certificate in the `x5c` header and in the registry's rootcertbundle. Anonymous callers get pull on the
// public repositories only; a caller with the right Basic credentials gets what it asks for.
import { createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  /** PEM certificate for the registry's rootcertbundle. */
  certFile: string;
  /** One entry per token request: whether Basic credentials came with it, and the scope asked. */
  requests: { basic: boolean; scope: string | null; granted: boolean }[];
  close: () => Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** Start the token server on loopback; keys and certificate go under `dir`. */
export async function startTokenServer(
  dir: string,
  policy: { username: string; password: string; publicRepositories: readonly string[] },
): Promise<TokenServer> {
  const keyFile = join(dir, 'token.key');
  const certFile = join(dir, 'token.crt');
  await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=ferry-test-token']);
  const key = createPrivateKey(await readFile(keyFile));
  const certDer = new X509Certificate(await readFile(certFile)).raw;
  const service = 'ferry-test-registry';
  const issuer = 'ferry-test-issuer';
  const requests: TokenServer['requests'] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const header = req.headers.authorization;
    const scope = url.searchParams.get('scope');
    let user = '';
    if (header) {
      const [u, ...p] = Buffer.from(header.replace(/^Basic /, ''), 'base64').toString().split(':');
      if (u !== policy.username || p.join(':') !== policy.password) {
        requests.push({ basic: true, scope, granted: false });
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
        return;
      }
      user = u;
    }
    const access = (scope ? scope.split(' ') : []).flatMap((s) => {
      const [type, name, actions] = [s.split(':')[0], s.split(':').slice(1, -1).join(':'), s.split(':').at(-1)];
      if (type !== 'repository' || !name || !actions) return [];
      if (user) return [{ type, name, actions: actions.split(',') }];
      return policy.publicRepositories.includes(name) ? [{ type, name, actions: ['pull'] }] : [];
    });
    requests.push({ basic: header !== undefined, scope, granted: access.length > 0 });
    const now = Math.floor(Date.now() / 1000);
    const head = { alg: 'RS256', typ: 'JWT', x5c: [certDer.toString('base64')] };
    const claims = { iss: issuer, sub: user, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const input = `${b64url(JSON.stringify(head))}.${b64url(JSON.stringify(claims))}`;
    const token = `${input}.${b64url(sign('sha256', Buffer.from(input), key))}`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const realm = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  return {
    realm,
    service,
    issuer,
    certFile,
    requests,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

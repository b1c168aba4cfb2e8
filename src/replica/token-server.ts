// A tiny token server for distribution's `auth: token` (docs/spec/auth/token.md and jwt.md): answers
// GET <realm>?service=&scope= with a JWT signed (RS256) by a key generated here, its self-signed certificate in
// the `x5c` header and in the registry's rootcertbundle. Anonymous callers get pull on the public repositories
// only; a caller with the right Basic credentials gets what it asks for, wrong ones get 401. Used by the tests'
// registries and by the upstream replica (docker.io, quay.io, ghcr.io, nvcr.io token endpoints).
import { createPrivateKey, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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
  requests: TokenRequestLog[];
  close: () => Promise<void>;
}

export interface TokenRequestLog {
  basic: boolean;
  scope: string | null;
  granted: boolean;
}

export interface TokenPolicy {
  /** Credentials that get every action asked for; without them nobody authenticates. */
  username?: string;
  password?: string;
  /** Repositories anonymous callers may pull (`all`: every one). */
  publicRepositories: readonly string[] | 'all';
}

/** The key and certificate tokens are signed with. */
export interface TokenSigner {
  key: KeyObject;
  certDer: Buffer;
  /** PEM certificate for the registry's rootcertbundle. */
  certFile: string;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** Make (or reuse) `token.key` and `token.crt` under `dir`. */
export async function tokenSigner(dir: string): Promise<TokenSigner> {
  const keyFile = join(dir, 'token.key');
  const certFile = join(dir, 'token.crt');
  const have = await readFile(certFile).then(() => true, () => false);
  if (!have) await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '3650', '-subj', '/CN=ferry-test-token']);
  return { key: createPrivateKey(await readFile(keyFile)), certDer: new X509Certificate(await readFile(certFile)).raw, certFile };
}

/** A request handler for one token endpoint: `aud` is `service`, `iss` is `issuer`; each request is logged. */
export function tokenHandler(
  signer: TokenSigner,
  o: { service: string; issuer: string; policy: TokenPolicy; log?: TokenRequestLog[] },
): (req: IncomingMessage, res: ServerResponse) => void {
  const { policy } = o;
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const header = req.headers.authorization;
    const scope = url.searchParams.get('scope');
    let user = '';
    if (header?.startsWith('Basic ')) {
      const [u, ...p] = Buffer.from(header.slice('Basic '.length), 'base64').toString().split(':');
      if (policy.username === undefined || u !== policy.username || p.join(':') !== policy.password) {
        o.log?.push({ basic: true, scope, granted: false });
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
        return;
      }
      user = u;
    }
    const access = (scope ? scope.split(' ') : []).flatMap((s) => {
      const [type, name, actions] = [s.split(':')[0], s.split(':').slice(1, -1).join(':'), s.split(':').at(-1)];
      if (type !== 'repository' || !name || !actions) return [];
      if (user) return [{ type, name, actions: actions.split(',') }];
      const open = policy.publicRepositories === 'all' || policy.publicRepositories.includes(name);
      return open ? [{ type, name, actions: ['pull'] }] : [];
    });
    o.log?.push({ basic: header !== undefined, scope, granted: access.length > 0 });
    const now = Math.floor(Date.now() / 1000);
    const head = { alg: 'RS256', typ: 'JWT', x5c: [signer.certDer.toString('base64')] };
    const claims = { iss: o.issuer, sub: user, aud: o.service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const input = `${b64url(JSON.stringify(head))}.${b64url(JSON.stringify(claims))}`;
    const token = `${input}.${b64url(sign('sha256', Buffer.from(input), signer.key))}`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300 }));
  };
}

/** Start a token server on loopback; keys and certificate go under `dir`. */
export async function startTokenServer(dir: string, policy: TokenPolicy): Promise<TokenServer> {
  const signer = await tokenSigner(dir);
  const service = 'ferry-test-registry';
  const issuer = 'ferry-test-issuer';
  const requests: TokenRequestLog[] = [];
  const server: Server = createServer(tokenHandler(signer, { service, issuer, policy, log: requests }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const realm = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  return {
    realm,
    service,
    issuer,
    certFile: signer.certFile,
    requests,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

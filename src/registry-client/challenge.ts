// Parse `WWW-Authenticate` challenges from a registry's `GET /v2/` (RFC 7235 auth-params), as the
// distribution token spec describes them. Pure.

export type Challenge =
  | { scheme: 'bearer'; realm: string; service?: string; scope?: string }
  | { scheme: 'basic'; realm?: string };

// One auth-param: key=token or key="quoted string" (with backslash escapes), separated by commas.
const PARAM = String.raw`\s*([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?`;

/** Parse one header value; undefined for schemes ferry does not speak. */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  const params: Record<string, string> = {};
  const rest = m[2] ?? '';
  const param = new RegExp(PARAM, 'y');
  for (let p = param.exec(rest); p; p = param.exec(rest)) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
    if (param.lastIndex >= rest.length) break;
  }
  if (scheme === 'basic') return { scheme, ...(params.realm !== undefined ? { realm: params.realm } : {}) };
  if (scheme === 'bearer' && params.realm) {
    return {
      scheme,
      realm: params.realm,
      ...(params.service !== undefined ? { service: params.service } : {}),
      ...(params.scope !== undefined ? { scope: params.scope } : {}),
    };
  }
  return undefined;
}

/** The scope a pull of `repository` needs (`repository:library/nginx:pull`). */
export function pullScope(repository: string, actions: readonly string[] = ['pull']): string {
  return `repository:${repository}:${actions.join(',')}`;
}

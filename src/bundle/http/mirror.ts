// Mirrors: every upstream URL can be redirected to a site's own copy. Pure.

/** One override: URLs starting with `prefix` are fetched from `replacement` + the rest. */
export interface Mirror {
  prefix: string;
  replacement: string;
}

/** Rewrite `url` with the longest matching mirror prefix, so a specific override beats a general one. */
export function applyMirrors(url: string, mirrors: readonly Mirror[] = []): string {
  let best: Mirror | undefined;
  for (const m of mirrors) {
    if (url.startsWith(m.prefix) && (best === undefined || m.prefix.length > best.prefix.length)) best = m;
  }
  return best ? best.replacement + url.slice(best.prefix.length) : url;
}

/** A URL as it may be shown or recorded: user and password removed. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username === '' && u.password === '') return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

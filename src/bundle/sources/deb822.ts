// Parse deb822 text (Packages indexes, `apt-cache show`, dpkg status, .sources files) into stanzas. Pure.

/** One stanza: field name (as written) to value; continuation lines are kept, joined with newlines. */
export type Stanza = Record<string, string>;

/** Split deb822 text into stanzas; `#` comment lines are dropped, blank lines separate stanzas. */
export function parseDeb822(text: string): Stanza[] {
  const stanzas: Stanza[] = [];
  let current: Stanza = {};
  let last: string | undefined;
  const flush = (): void => {
    if (Object.keys(current).length > 0) stanzas.push(current);
    current = {};
    last = undefined;
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      flush();
      continue;
    }
    if (line.startsWith('#')) continue;
    if ((line.startsWith(' ') || line.startsWith('\t')) && last !== undefined) {
      current[last] += `\n${line}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon);
    current[last] = line.slice(colon + 1).trim();
  }
  flush();
  return stanzas;
}

/** Write stanzas back as deb822 text (fields in their original order). */
export function formatDeb822(stanzas: readonly Stanza[]): string {
  return stanzas.map((s) => Object.entries(s).map(([k, v]) => `${k}: ${v}\n`).join('')).join('\n');
}

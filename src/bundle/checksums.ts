// SHA256SUMS in the format `sha256sum -c` reads (hashing itself is src/util/hash.ts).

export interface Checksum {
  path: string;
  sha256: string;
}

/** Renders `<hex>  <path>` lines (text mode, as GNU sha256sum writes them), sorted by path. */
export function renderSha256Sums(entries: readonly Checksum[]): string {
  return [...entries]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((e) => `${e.sha256}  ${e.path}\n`)
    .join('');
}

/** Parses SHA256SUMS; returns the entries and the lines that are not `<hex>  <path>` (1-based). */
export function parseSha256Sums(text: string): { entries: Checksum[]; badLines: number[] } {
  const entries: Checksum[] = [];
  const badLines: number[] = [];
  text.split('\n').forEach((line, i) => {
    if (line === '') return;
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (m) entries.push({ sha256: m[1]!, path: m[2]! });
    else badLines.push(i + 1);
  });
  return { entries, badLines };
}


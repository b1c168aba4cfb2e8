// Read the Debian mirror from the machine's own apt sources, so the lab never hard-codes a mirror address.

/** One apt sources file: its path (for messages) and its text. */
export interface AptSourcesFile {
  path: string;
  text: string;
}

/** A `deb` source: where it points and which suites and components it serves. */
export interface AptSource {
  uri: string;
  suites: string[];
  components: string[];
}

/** Parse deb822 (`*.sources`) and one-line (`*.list`) files into their binary (`deb`) sources, in file order. */
export function parseAptSources(files: readonly AptSourcesFile[]): AptSource[] {
  return files.flatMap((f) => (f.path.endsWith('.sources') ? parseDeb822(f.text) : parseOneLine(f.text)));
}

/** The mirror the lab's debootstrap should use: the first `deb` source that serves `suite` with `main`. */
export function pickDebianMirror(files: readonly AptSourcesFile[], suite: string): string | undefined {
  const source = parseAptSources(files).find((s) => s.suites.includes(suite) && s.components.includes('main'));
  return source?.uri.replace(/\/+$/, '');
}

function parseDeb822(text: string): AptSource[] {
  const stanzas = text.split(/\n\s*\n/);
  const out: AptSource[] = [];
  for (const stanza of stanzas) {
    const fields = new Map<string, string>();
    let last = '';
    for (const line of stanza.split('\n')) {
      if (line.startsWith('#') || line.trim() === '') continue;
      if (/^\s/.test(line) && last) {
        fields.set(last, `${fields.get(last)} ${line.trim()}`);
        continue;
      }
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (!m) continue;
      last = m[1]!.toLowerCase();
      fields.set(last, m[2]!.trim());
    }
    if (fields.get('enabled')?.toLowerCase() === 'no') continue;
    if (!(fields.get('types') ?? '').split(/\s+/).includes('deb')) continue;
    const words = (k: string) => (fields.get(k) ?? '').split(/\s+/).filter(Boolean);
    for (const uri of words('uris')) out.push({ uri, suites: words('suites'), components: words('components') });
  }
  return out;
}

function parseOneLine(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    out.push({ uri: m[1]!, suites: [m[2]!], components: m[3]!.split(/\s+/).filter(Boolean) });
  }
  return out;
}

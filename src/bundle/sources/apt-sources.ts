// Read apt's own source definitions (deb822 `.sources` files and one-line `.list` files) into DebSource records,
// so a build or a test can use the machine's configured mirror without anyone writing its address down. Pure.
import type { DebSource } from './deb-plan.ts';
import { parseDeb822 } from './deb822.ts';

/** Binary (`deb`) sources from deb822 `.sources` text; disabled entries and `deb-src` are skipped. */
export function parseSourcesDeb822(text: string): DebSource[] {
  const out: DebSource[] = [];
  for (const s of parseDeb822(text)) {
    if (!(s.Types ?? '').split(/\s+/).includes('deb') || /^no$/i.test(s.Enabled ?? 'yes')) continue;
    const signedBy = s['Signed-By'] && !s['Signed-By'].includes('\n') ? s['Signed-By'] : undefined;
    const trusted = /^yes$/i.test(s.Trusted ?? '');
    for (const uri of (s.URIs ?? '').split(/\s+/).filter(Boolean))
      for (const suite of (s.Suites ?? '').split(/\s+/).filter(Boolean))
        out.push({ uri, suite, components: (s.Components ?? '').split(/\s+/).filter(Boolean), ...(signedBy ? { signedBy } : {}), ...(trusted ? { trusted } : {}) });
  }
  return out;
}

/** Binary sources from one-line `sources.list` text: `deb [opt=value ...] uri suite component...`. */
export function parseSourcesList(text: string): DebSource[] {
  const out: DebSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    const m = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const opts = new Map((m[1] ?? '').split(/\s+/).filter(Boolean).map((o) => o.split('=') as [string, string]));
    const signedBy = opts.get('signed-by');
    out.push({ uri: m[2]!, suite: m[3]!, components: m[4]!.split(/\s+/).filter(Boolean), ...(signedBy ? { signedBy } : {}), ...(opts.get('trusted') === 'yes' ? { trusted: true } : {}) });
  }
  return out;
}

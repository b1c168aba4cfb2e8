// OS names as users type them: `<ID>-<VERSION_ID>` from /etc/os-release (`almalinux-9.4`, `rhel-9.4`, `rocky-9.4`,
// `ubuntu-24.04`), mapped onto the matrix's distro ids, and the refusals for IDs ferry knows but does not support.
// Pure: the CLI reads the file.
import { UserError } from '../errors.ts';
import type { Catalog } from './catalog.ts';

/** The KEY=value pairs of an os-release file (quotes removed, comments and blank lines skipped). */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2]!.trim();
    const q = value[0];
    if ((q === '"' || q === "'") && value.endsWith(q) && value.length >= 2) value = value.slice(1, -1);
    out[m[1]!] = value.replace(/\\(["'$`\\])/g, '$1');
  }
  return out;
}

/** The matrix OS id (`alma-9.4`) an os-release ID and VERSION_ID name; unknown or refused systems are a UserError. */
export function osIdFromRelease(catalog: Catalog, id: string, versionId: string): string {
  const distro = catalog.osReleaseIds.get(id.toLowerCase());
  const supported = () => `supported: ${[...new Set([...catalog.os.values()].map((o) => o.distro))].map((d) => `${d} (${versionsOf(catalog, d)})`).join('; ')}`;
  if (!distro) {
    const refused = catalog.matrix.os.refused.find((r) => r.id === id.toLowerCase());
    if (refused) throw new UserError(`${refused.name} (${id}-${versionId}) is not supported: ${refused.reason} (${supported()})`);
    throw new UserError(`unknown OS "${id}-${versionId}" (${knownIds(catalog)})`);
  }
  return `${distro}-${versionId}`;
}

/** `--os` as typed: a matrix id or an os-release `<ID>-<VERSION_ID>`, normalised to the matrix id. */
export function normalizeOsId(catalog: Catalog, text: string): string {
  if (catalog.os.has(text)) return text;
  const m = /^([a-z][a-z0-9_.]*?)-(\d[\w.]*)$/i.exec(text.trim());
  if (!m) throw new UserError(`unknown OS "${text}": expected <ID>-<VERSION_ID> as in /etc/os-release, e.g. rocky-9.4 or almalinux-9.4 (${knownIds(catalog)})`);
  const id = osIdFromRelease(catalog, m[1]!, m[2]!);
  if (!catalog.os.has(id)) {
    const distro = id.slice(0, id.lastIndexOf('-'));
    throw new UserError(`unknown OS "${text}" (${knownIds(catalog)}): the matrix knows ${distro} ${versionsOf(catalog, distro)}`);
  }
  return id;
}

function versionsOf(catalog: Catalog, distro: string): string {
  return [...catalog.os.values()].filter((o) => o.distro === distro).map((o) => o.version).join(', ');
}

function knownIds(catalog: Catalog): string {
  const aliases = [...catalog.osReleaseIds].filter(([alias, id]) => alias !== id).map(([alias, id]) => `${alias} = ${id}`);
  return `known: ${[...catalog.os.keys()].join(', ')}${aliases.length ? `; os-release IDs ${aliases.join(', ')}` : ''}`;
}

/**
 * The OS releases of a site file's nodes (`ferry doctor --site-out`), each once, in the order the nodes come, as
 * `--os` takes them; a node whose OS the matrix does not know is refused by name (osIdFromRelease).
 */
export function siteOsIds(catalog: Catalog, nodes: readonly { name: string; os: { id: string; versionId: string } }[]): string[] {
  const out: string[] = [];
  for (const n of nodes) {
    let id: string;
    try {
      id = osIdFromRelease(catalog, n.os.id, n.os.versionId);
    } catch (error) {
      throw new UserError(`site node ${n.name}: ${(error as Error).message}`, { cause: error });
    }
    if (!out.includes(id)) out.push(id);
  }
  return out;
}

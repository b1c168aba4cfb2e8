// systemd unit files and drop-ins as text: one helper so every unit ferry writes is formatted the same way.
import { renderedFile, STAGED_FILE, type RenderedFile } from './file.ts';

/** A directive value; an array repeats the directive (e.g. several ExecStartPre=), an empty string resets a list. */
export type UnitValue = string | number | boolean | readonly (string | number)[];

/** Sections in the order they are written; directives in insertion order. */
export type UnitSections = Readonly<Record<string, Readonly<Record<string, UnitValue | undefined>>>>;

function formatValue(value: string | number | boolean): string {
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  const text = String(value);
  if (text.includes('\n')) throw new TypeError(`systemd directive value must be one line: ${JSON.stringify(text)}`);
  return text;
}

/** Renders unit-file text from sections; used for whole units and for drop-ins alike. */
export function renderUnitText(sections: UnitSections, comment?: string): string {
  const out: string[] = [];
  if (comment) out.push(...comment.split('\n').map((l) => `# ${l}`));
  for (const [section, directives] of Object.entries(sections)) {
    if (out.length > 0) out.push('');
    out.push(`[${section}]`);
    for (const [key, value] of Object.entries(directives)) {
      if (value === undefined) continue;
      const values = Array.isArray(value) ? value : [value as string | number | boolean];
      for (const v of values) out.push(`${key}=${formatValue(v)}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** A whole unit at /etc/systemd/system/<name>. */
export function renderUnit(name: string, sections: UnitSections, comment?: string): RenderedFile {
  return renderedFile(`/etc/systemd/system/${name}`, renderUnitText(sections, comment), { verify: ['systemd-analyze', 'verify', STAGED_FILE] });
}

/** A drop-in at /etc/systemd/system/<unit>.d/<file>.conf, so a packaged unit is changed without editing it. */
export function renderDropIn(unit: string, file: string, sections: UnitSections, comment?: string): RenderedFile {
  return renderedFile(`/etc/systemd/system/${unit}.d/${file}.conf`, renderUnitText(sections, comment));
}

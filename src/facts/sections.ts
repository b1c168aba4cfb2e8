// Splits gather.sh output into named sections: the wire format between the node and the parsers.

export interface Section {
  lines: string[];
  /** Exit status of the section's command; undefined when the section never finished. */
  rc: number | undefined;
}

const BEGIN = /^@@ferry (\S+)$/;
const END = /^@@ferry-rc (\S+) (\d+)$/;

/** Parse the marker-delimited output of gather.sh into sections by name. */
export function splitSections(output: string): Map<string, Section> {
  const sections = new Map<string, Section>();
  let current: { name: string; section: Section } | undefined;
  for (const line of output.split('\n')) {
    const begin = BEGIN.exec(line);
    if (begin) {
      current = { name: begin[1]!, section: { lines: [], rc: undefined } };
      sections.set(current.name, current.section);
      continue;
    }
    const end = END.exec(line);
    if (end && current && end[1] === current.name) {
      current.section.rc = Number(end[2]);
      while (current.section.lines.length > 0 && current.section.lines.at(-1)!.trim() === '') current.section.lines.pop();
      current = undefined;
      continue;
    }
    if (current) current.section.lines.push(line);
  }
  return sections;
}

/** Lines of a section, without blank lines; [] when absent. */
export function linesOf(sections: Map<string, Section>, name: string): string[] {
  return (sections.get(name)?.lines ?? []).filter((l) => l.trim() !== '');
}

/** First non-blank line of a section, trimmed. */
export function firstLine(sections: Map<string, Section>, name: string): string | undefined {
  return linesOf(sections, name)[0]?.trim();
}

/**
 * Splits the output of a phase's own small probe script at `==ferry:NAME==` marker lines into NAME → text (os-prepare's
 * and the GPU driver's probes; the node's facts come from gather.sh's sections above).
 */
export function markedSections(output: string): Map<string, string> {
  const out = new Map<string, string>();
  let current: string | undefined;
  for (const line of output.split('\n')) {
    const m = /^==ferry:([a-z-]+)==$/.exec(line);
    if (m) {
      current = m[1]!;
      out.set(current, '');
    } else if (current) out.set(current, `${out.get(current)}${line}\n`);
  }
  return out;
}

// Safe shell command building: every interpolated value is single-quoted, so no value can break out.
/** A command line for `sh -c`, built only through `sh` or `shellJoin`. */
export interface ShellCommand {
  readonly shell: string;
}

/** Quote one value for POSIX sh. */
export function quote(value: string | number): string {
  const s = String(value);
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** Join an argv into one shell-safe line. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(quote).join(' ');
}

/** Template tag: `sh\`ip link del ${name}\`` quotes every value; arrays become quoted words; a ShellCommand is embedded as is. */
export function sh(strings: TemplateStringsArray, ...values: (string | number | readonly string[] | ShellCommand)[]): ShellCommand {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    if (typeof v === 'object' && v !== null && 'shell' in v) out += v.shell;
    else out += Array.isArray(v) ? shellJoin(v) : quote(v as string | number);
    out += strings[i + 1] ?? '';
  });
  return { shell: out };
}

// Replace secret values in any text that may reach a log, an error or the terminal.
export const REDACTED = '<redacted>';

export function redact(text: string, secrets: readonly string[] | undefined): string {
  if (!secrets || secrets.length === 0) return text;
  let out = text;
  // Longest first, so a secret that contains another is replaced whole.
  for (const s of [...secrets].filter((s) => s.length > 0).sort((a, b) => b.length - a.length)) out = out.replaceAll(s, REDACTED);
  return out;
}

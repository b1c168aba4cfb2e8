// The one output shape of every renderer: a file to place on a node, plus the secret values inside it.

/** A rendered file: where it goes on the node, its bytes as text, its mode, and any secrets it holds. */
export interface RenderedFile {
  /** Absolute path on the node. */
  path: string;
  content: string;
  /** Octal mode, e.g. 0o644; files with secrets are 0o600. */
  mode: number;
  /** Values inside `content` that must never reach a log: pass them to `redact()` before printing. */
  secrets: readonly string[];
}

/** Builds a RenderedFile; a file that holds secrets is made owner-only unless a mode is given. */
export function renderedFile(path: string, content: string, options: { mode?: number; secrets?: readonly string[] } = {}): RenderedFile {
  const secrets = (options.secrets ?? []).filter((s) => s.length > 0);
  return { path, content, mode: options.mode ?? (secrets.length > 0 ? 0o600 : 0o644), secrets };
}

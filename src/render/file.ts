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
  /**
   * The tool's own check, run on the node against the staged file before it replaces the live one; the word
   * STAGED_FILE stands for the staged path (see verifyArgv), which must keep the file's base name (systemd units).
   * Absent where no tool can check the file.
   */
  verify?: readonly string[];
}

/** Placeholder for the staged file's path in `verify`. */
export const STAGED_FILE = '{staged}';

/** The check argv for a file staged at `stagedPath`, or undefined when the file has none. */
export function verifyArgv(file: RenderedFile, stagedPath: string): string[] | undefined {
  return file.verify?.map((word) => (word === STAGED_FILE ? stagedPath : word));
}

/** Builds a RenderedFile; a file that holds secrets is made owner-only unless a mode is given. */
export function renderedFile(
  path: string,
  content: string,
  options: { mode?: number; secrets?: readonly string[]; verify?: readonly string[] } = {},
): RenderedFile {
  const secrets = (options.secrets ?? []).filter((s) => s.length > 0);
  const mode = options.mode ?? (secrets.length > 0 ? 0o600 : 0o644);
  return { path, content, mode, secrets, ...(options.verify ? { verify: options.verify } : {}) };
}

// What a command may touch of the terminal: two writable streams and the knowledge of whether stdout is a TTY.
// Commands take an Io so tests can run them in-process and read what they printed.
export interface Io {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr };
}

/** An Io that keeps everything written, for tests and for --json capture. */
export function memoryIo(): Io & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    out: () => out,
    err: () => err,
  };
}

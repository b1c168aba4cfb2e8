// Test support: the commands of the README's first code block, as a newcomer would copy them (comments dropped).

/** The lines of the first ```sh block of a README, each without its trailing `# comment`. */
export function firstCodeBlockCommands(readme: string): string[] {
  const m = /^```sh\n([\s\S]*?)^```$/m.exec(readme);
  if (!m) throw new Error('README has no ```sh code block');
  return m[1]!
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

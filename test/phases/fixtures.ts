// Reads a fixture of test/phases/fixtures (see its README for where each came from).
import { readFileSync } from 'node:fs';

export const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

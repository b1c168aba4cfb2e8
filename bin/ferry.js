#!/usr/bin/env node
// Entry point. ferry runs its TypeScript sources directly on Node 24 (type stripping).
// If an older Node started this file (npx on a machine whose system Node is older),
// hand over to the Node 24 that scripts/setup.sh put under .tools/, or say what to do.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  const local = fileURLToPath(new URL('../.tools/node/bin/node', import.meta.url));
  if (!existsSync(local)) {
    process.stderr.write(`ferry needs Node 24 or newer (this is ${process.version}). Run: bash scripts/setup.sh\n`);
    process.exit(2);
  }
  const r = spawnSync(local, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
await import('../src/cli/main.ts');

// Build the single executable `dist/ferry`: esbuild bundles the CLI (and the matrices as assets) into one script,
// Node makes a SEA blob of it, and postject injects the blob into a copy of this Node binary.
// Run with Node 24: node scripts/build-sea.ts [--out dist/ferry]
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { PRODUCT_FILES } from '../src/ship/embedded.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outIndex = process.argv.indexOf('--out');
const out = resolve(outIndex > 0 ? process.argv[outIndex + 1]! : join(root, 'dist/ferry'));
const work = join(dirname(out), '.sea-build');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

const started = performance.now();
const script = join(work, 'ferry.cjs');
await build({
  entryPoints: [join(root, 'src/ship/sea-main.ts')],
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'cjs',
  outfile: script,
  // Optional native speedups of ssh2 are loaded in try/catch; the pure-JS paths are used without them.
  external: ['cpu-features', '*.node'],
  define: { 'import.meta.url': '__ferry_import_meta_url' },
  banner: { js: 'const __ferry_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
  logLevel: 'warning',
});

// Matrices travel inside the executable as SEA assets, keyed by their path in the repo.
const assets: Record<string, string> = {};
for (const dir of ['matrices']) {
  const abs = join(root, dir);
  for (const name of readdirSync(abs, { recursive: true }) as string[]) {
    const file = join(abs, name);
    if (statSync(file).isFile()) assets[relative(root, file)] = file;
  }
}
// Scripts and playbooks ferry reads at run time (src/ship/embedded.ts PRODUCT_FILES) travel the same way.
for (const file of PRODUCT_FILES) assets[file] = join(root, file);
const blob = join(work, 'sea.blob');
const config = join(work, 'sea-config.json');
writeFileSync(config, JSON.stringify({ main: script, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, assets }));
execFileSync(process.execPath, ["--experimental-sea-config", config], { stdio: "ignore" });

mkdirSync(dirname(out), { recursive: true });
rmSync(out, { force: true });
copyFileSync(process.execPath, out);
chmodSync(out, 0o755);
execFileSync(process.execPath, [join(root, 'node_modules/postject/dist/cli.js'), out, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'], { stdio: 'ignore' });
rmSync(work, { recursive: true, force: true });
const mb = (statSync(out).size / 2 ** 20).toFixed(1);
process.stdout.write(`built ${relative(process.cwd(), out)} (${mb} MiB, ${Object.keys(assets).length} assets) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);

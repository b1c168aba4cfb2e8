// `ferry key generate` and `ferry key fingerprint`: the signing key pair for bundles.
import { createPublicKey } from 'node:crypto';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../errors.ts';
import { fingerprint, generateKeyPair, parsePrivateKey, parsePublicKey } from '../bundle/sign.ts';
import type { CommandContext } from './program.ts';

/** Writes a new file with `mode`, refusing to replace one unless `force`. */
async function writeNew(path: string, text: string, mode: number, force: boolean): Promise<void> {
  if (force) await rm(path, { force: true });
  const fh = await open(path, 'wx', mode).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EEXIST') throw new UserError(`${path} exists`, { hint: 'pass --force to replace it (bundles signed with the old key will no longer verify with the new one)' });
    throw new UserError(`cannot write ${path}: ${error.code}`);
  });
  try {
    await fh.chmod(mode);
    await fh.writeFile(text);
  } finally {
    await fh.close();
  }
}

/** Registers `ferry key`. */
export function registerKeyCommands(program: Command, ctx: CommandContext): void {
  const key = program.command('key').description('the ed25519 key that signs bundles: generate');
  key
    .command('generate')
    .description('Write a new key pair: ferry.key (private, mode 0600) and ferry.pub')
    .requiredOption('--out <dir>', 'directory for ferry.key and ferry.pub')
    .option('--force', 'replace existing key files')
    .option('--json', 'paths and fingerprint as one JSON line (never the key itself)')
    .action(async (opts: { out: string; force?: boolean; json?: boolean }) => {
      const pair = generateKeyPair();
      await mkdir(opts.out, { recursive: true });
      await writeNew(join(opts.out, 'ferry.key'), pair.privatePem, 0o600, opts.force === true);
      await writeNew(join(opts.out, 'ferry.pub'), pair.publicPem, 0o644, opts.force === true);
      const fp = fingerprint(parsePublicKey(pair.publicPem, 'ferry.pub'));
      if (opts.json) ctx.io.stdout.write(`${JSON.stringify({ privateKey: join(opts.out, 'ferry.key'), publicKey: join(opts.out, 'ferry.pub'), fingerprint: fp })}\n`);
      else ctx.io.stdout.write(`wrote ${join(opts.out, 'ferry.key')} (private: keep it on the build side) and ${join(opts.out, 'ferry.pub')}\nfingerprint ${fp}\n`);
    });
  key
    .command('fingerprint')
    .description('Print the fingerprint of a public or private key, to compare over a trusted channel')
    .argument('<file>')
    .option('--json', 'the fingerprint as one JSON line')
    .action(async (file: string, opts: { json?: boolean }) => {
      const text = await readFile(file, 'utf8').catch(() => {
        throw new UserError(`cannot read ${file}`);
      });
      const k = /PRIVATE KEY/.test(text) ? createPublicKey(parsePrivateKey(text, file)) : parsePublicKey(text, file);
      ctx.io.stdout.write(opts.json ? `${JSON.stringify({ file, fingerprint: fingerprint(k) })}\n` : `${fingerprint(k)}\n`);
    });
}

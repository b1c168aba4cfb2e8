import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireInstallLock } from '../../src/state/install-lock.ts';
import { UserError } from '../../src/errors.ts';

let dir: string;
beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'ferry-lock-'))));
afterEach(async () => rm(dir, { recursive: true, force: true }));

const owner = (pid: number) => ({ pid, hostname: hostname(), command: 'ferry install', since: '2026-11-23T00:00:00Z' });

describe('install lock', () => {
  it('refuses a second holder while the first lives, naming its pid, and frees on release', async () => {
    const path = join(dir, 'install.lock');
    const held = await acquireInstallLock(path, owner(process.pid));
    const error = await acquireInstallLock(path, owner(process.pid)).catch((e) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toContain(`pid ${process.pid}`);
    await held.release();
    await (await acquireInstallLock(path, owner(process.pid))).release();
  });

  it('takes over a lock whose process is gone', async () => {
    const path = join(dir, 'install.lock');
    const child = spawn('true');
    const pid = child.pid!;
    await new Promise((r) => child.on('exit', r));
    await writeFile(path, JSON.stringify(owner(pid)));
    const held = await acquireInstallLock(path, owner(process.pid));
    expect(JSON.parse(await readFile(path, 'utf8')).pid).toBe(process.pid);
    await held.release();
  });
});

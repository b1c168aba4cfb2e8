import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { observeTar, parseReportLba } from '../../src/bundle/observe.ts';

// Captured from `xorriso -indev t.iso -find / -type f -exec report_lba --` (xorriso 1.5.4, Debian 12) on an image
// made with `xorriso -as mkisofs -R -J -iso-level 3`: a header line, then one line per file extent.
const REPORT = `Report layout: xt , Startlba ,   Blocks , Filesize , ISO image path
File data lba:  0 ,       33 ,        3 ,     5000 , '/a/b/f1'
File data lba:  0 ,       32 ,        0 ,        0 , '/empty'
File data lba:  0 ,       36 ,        1 ,        3 , '/m.yaml'
`;

describe('parseReportLba', () => {
  it('turns each file into byte extents inside the image (2048-byte blocks), empty files with an empty extent', () => {
    expect(parseReportLba(REPORT)).toEqual([
      { path: 'a/b/f1', extents: [{ start: 33 * 2048, length: 5000 }] },
      { path: 'empty', extents: [{ start: 32 * 2048, length: 0 }] },
      { path: 'm.yaml', extents: [{ start: 36 * 2048, length: 3 }] },
    ]);
  });

  it('orders the extents of a multi-extent file (ISO level 3, files of 4 GiB and more) by their index', () => {
    // Not captured: written in the captured format, since a real multi-extent file needs a 4 GiB image.
    const lines = REPORT.split('\n')[0] + "\nFile data lba:  1 ,  2097185 ,  1000 ,  2048000 , '/big'\nFile data lba:  0 ,       33 ,  2097152 , 4294965248 , '/big'\n";
    expect(parseReportLba(lines)).toEqual([{ path: 'big', extents: [{ start: 33 * 2048, length: 4294965248 }, { start: 2097185 * 2048, length: 2048000 }] }]);
  });
});

describe('observeTar', () => {
  it('hashes each entry, keeps metadata bytes, and flags links, devices and a path that appears twice', async () => {
    const tar = pack();
    tar.entry({ name: 'manifest.yaml' }, 'kind: x\n');
    tar.entry({ name: 'files/a' }, 'one');
    tar.entry({ name: 'files/a' }, 'two');
    tar.entry({ name: 'files/link', type: 'symlink', linkname: '/etc/shadow' });
    tar.finalize();
    const seen: string[] = [];
    const o = await observeTar(Readable.from(tar), (path) => seen.push(path));
    expect(o.metadata.get('manifest.yaml')?.toString()).toBe('kind: x\n');
    expect(o.files.get('files/a')).toEqual({ size: 3, sha256: '7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed' });
    expect(o.oddities).toEqual(['files/a: appears twice in the tar stream', 'files/link: not a regular file (symlink)']);
    expect(seen).toEqual(['manifest.yaml', 'files/a']);
  });
});

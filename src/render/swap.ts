// Swap off for kubelet: the fstab with its swap entries commented out (so swap stays off after a reboot) and
// the argv that turns it off now. Pure: the caller reads /etc/fstab and writes the result back.
import { renderedFile, type RenderedFile } from './file.ts';

export const FSTAB_PATH = '/etc/fstab';
const MARK = '# ferry: swap off for kubelet: ';

/** Comments out every active swap line of `fstab`; `changed` says whether anything was (idempotent). */
export function disableSwapInFstab(fstab: string): { file: RenderedFile; changed: boolean } {
  let changed = false;
  const lines = fstab.split('\n').map((line) => {
    const fields = line.trim().split(/\s+/);
    if (line.trim().startsWith('#') || fields.length < 3 || fields[2] !== 'swap') return line;
    changed = true;
    return `${MARK}${line}`;
  });
  return { file: renderedFile(FSTAB_PATH, lines.join('\n')), changed };
}

/** argv that turns every swap device off now. */
export function swapOffArgv(): string[] {
  return ['swapoff', '--all'];
}

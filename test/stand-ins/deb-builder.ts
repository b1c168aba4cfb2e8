// STAND-IN support: one reproducible stand-in .deb (amd64, root-owned, fixed mtimes) through the replica's generic
// builder (src/replica/deb-builder.ts), marked as a stand-in in its maintainer and description. Test code only.
import { buildDeb as buildAnyDeb, type DebSpec as AnyDebSpec } from '../../src/replica/deb-builder.ts';

export interface DebSpec extends Omit<AnyDebSpec, 'maintainer' | 'maintainerScripts' | 'longDescription' | 'files'> {
  /** Paths inside the package (no leading /) → content and mode. */
  files: Record<string, { text: string; mode: number }>;
  maintainer?: AnyDebSpec['maintainerScripts'];
}

/** Builds `spec` into `outDir`/<name>_<version>_amd64.deb; returns the file name. */
export async function buildDeb(spec: DebSpec, outDir: string): Promise<string> {
  const { maintainer, ...rest } = spec;
  return buildAnyDeb({
    ...rest,
    maintainer: 'ferry tests <stand-in@ferry.invalid>',
    longDescription: ['STAND-IN package for ferry tests, not the real software.'],
    ...(maintainer ? { maintainerScripts: maintainer } : {}),
  }, outDir);
}

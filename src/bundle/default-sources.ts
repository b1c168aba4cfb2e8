// The sources `ferry bundle build` runs: one per kind of upstream (see src/bundle/sources/).
import type { BundleSources } from './build.ts';
import { collectDebPackages } from './sources/deb.ts';
import { collectFiles } from './sources/files.ts';
import { gpuDriverSets, gpuDriverInstaller } from './sources/gpu-packages.ts';
import { collectImages } from './sources/images.ts';
import { collectRpmPackages } from './sources/rpm.ts';

/** Every source this ferry has, wired to the shape build.ts calls them with. */
export const defaultSources: BundleSources = {
  images: collectImages,
  rpm: collectRpmPackages,
  deb: collectDebPackages,
  files: collectFiles,
  gpuDriverSets,
  gpuDriverInstaller,
};

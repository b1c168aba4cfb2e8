// The sources `ferry bundle build` runs: one per kind of upstream (see src/bundle/sources/).
import type { BundleSources } from './build.ts';

/** Every source this ferry has, wired to the shape build.ts calls them with. */
export const defaultSources: BundleSources = {};

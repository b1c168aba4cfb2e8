// What a bundle holds, one record per file: the unit that manifest.yaml, SHA256SUMS, the SBOM and verify share.
export type ArtifactKind = 'package' | 'repo-metadata' | 'image-blob' | 'image-index' | 'file' | 'manifest' | 'binary';

export interface Artifact {
  kind: ArtifactKind;
  /** Path inside the bundle, POSIX separators, relative to the bundle root (see layout.ts). */
  path: string;
  size: number;
  /** Lowercase hex sha256 of the file's bytes. */
  sha256: string;
  /** Where it came from: a URL, an image reference, a repo id. Never a credential. */
  source: string;
  /** For the SBOM: package or image or file identity where known. */
  name?: string;
  version?: string;
  release?: string;
  arch?: string;
  /** Image digest for image-index entries (the manifest digest a registry serves). */
  digest?: string;
}

/** Progress events a source emits; the CLI turns them into listr2 output or JSON lines. */
export type ProgressEvent =
  | { type: 'start'; task: string; total?: number }
  | { type: 'advance'; task: string; done: number; total?: number }
  | { type: 'finish'; task: string; detail?: string };

export interface SourceContext {
  /** The bundle directory being written. */
  bundleDir: string;
  /** Persistent cache shared across builds; a resumed build finds what it already fetched here. */
  cacheDir: string;
  concurrency: number;
  signal?: AbortSignal;
  progress: (event: ProgressEvent) => void;
  /** A partial build (--partial): sources leave out what their upstreams lack and say so here. Absent: they fail. */
  leftOut?: string[];
}

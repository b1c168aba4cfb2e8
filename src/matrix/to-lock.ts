// Turn a resolution into ferry.lock.yaml's data (src/config/lock.ts), the input of `ferry bundle build`. Pure.
import { LOCK_API_VERSION, type Lock } from '../config/lock.ts';
import type { Catalog } from './catalog.ts';
import { imagesFor } from './images.ts';
import type { RawRequest } from './request.ts';
import type { Resolved } from './resolve.ts';

/** The lock for a resolution: the request as given, the stack, its images, and every reason. */
export function toLock(catalog: Catalog, res: Resolved, meta: { raw: RawRequest; now: Date; matrixDigest: string; matrixReadAt?: string | undefined }): Lock {
  const request: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta.raw)) if (value !== undefined) request[key] = value;
  return {
    apiVersion: LOCK_API_VERSION,
    kind: 'Lock',
    resolvedAt: meta.now.toISOString(),
    matrixDigest: meta.matrixDigest,
    ...(meta.matrixReadAt ? { matrixReadAt: meta.matrixReadAt } : {}),
    request,
    gpu: res.gpu,
    stack: res.stack,
    platform: `linux/${res.stack.os.arch}`,
    images: imagesFor(catalog, res),
    decisions: res.decisions,
    hostChanges: res.hostChanges,
    warnings: res.warnings,
  };
}

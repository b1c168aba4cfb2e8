// Decide what to do with an HTTP answer to a (possibly ranged) request. Pure, so resume logic is table-tested.

export type RangeDecision =
  /** Append the body to the partial file at `offset`. */
  | { action: 'append'; offset: number; total?: number }
  /** Write the body from byte 0 (server ignored Range, or the file changed). */
  | { action: 'restart'; total?: number }
  /** The partial file cannot be resumed (416); drop it and ask again without Range. */
  | { action: 'discard' }
  | { action: 'retry'; reason: string }
  | { action: 'fail'; reason: string };

/** Parses `bytes 100-199/200` (total may be `*`). */
export function parseContentRange(value: string | null): { start: number; end: number; total?: number } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec((value ?? '').trim());
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

/** What to do with a response, given the offset we asked from (0 = no Range header). */
export function decideResponse(
  requestedOffset: number,
  status: number,
  headers: { contentRange: string | null; contentLength: string | null },
): RangeDecision {
  const length = headers.contentLength === null ? undefined : Number(headers.contentLength);
  if (status === 206) {
    const range = parseContentRange(headers.contentRange);
    if (!range) return { action: 'retry', reason: `206 without a usable Content-Range (${headers.contentRange ?? 'none'})` };
    if (range.start !== requestedOffset) return { action: 'discard' };
    return { action: 'append', offset: range.start, total: range.total };
  }
  if (status === 200) return { action: 'restart', total: length };
  if (status === 416) return { action: 'discard' };
  if (status === 408 || status === 429 || status >= 500) return { action: 'retry', reason: `HTTP ${status}` };
  return { action: 'fail', reason: `HTTP ${status}` };
}

/** The validator to send as If-Range: a strong ETag, else Last-Modified, else none (weak ETags are not allowed). */
export function ifRangeValidator(meta: { etag?: string; lastModified?: string }): string | undefined {
  if (meta.etag && !meta.etag.startsWith('W/')) return meta.etag;
  return meta.lastModified;
}

// How a file server answers a GET with Range and If-Range (RFC 9110 §14): one byte range, honoured only while the
// validator still matches. Pure; the replica's server and the tests' range server both ask it.

export type RangeAnswer = { status: 200 } | { status: 206; start: number; end: number } | { status: 416 };

/** `bytes=N-` or `bytes=N-M` against a body of `size` bytes; anything else (or a stale If-Range) gets the whole body. */
export function answerRange(o: { range?: string; ifRange?: string; size: number; etag: string; lastModified: string }): RangeAnswer {
  const m = /^bytes=(\d+)-(\d*)$/.exec(o.range ?? '');
  if (!m) return { status: 200 };
  if (o.ifRange !== undefined && o.ifRange !== o.etag && o.ifRange !== o.lastModified) return { status: 200 };
  const start = Number(m[1]);
  if (start >= o.size) return { status: 416 };
  const end = m[2] ? Math.min(Number(m[2]), o.size - 1) : o.size - 1;
  if (end < start) return { status: 200 };
  return { status: 206, start, end };
}

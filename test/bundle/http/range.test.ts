import { describe, expect, it } from 'vitest';
import { decideResponse, ifRangeValidator, parseContentRange } from '../../../src/bundle/http/range.ts';
import { applyMirrors, displayUrl } from '../../../src/bundle/http/mirror.ts';

describe('decideResponse', () => {
  const none = { contentRange: null, contentLength: null };
  it.each([
    { name: 'appends a 206 that starts where we asked', offset: 100, status: 206, headers: { contentRange: 'bytes 100-199/200', contentLength: '100' }, want: { action: 'append', offset: 100, total: 200 } },
    { name: 'discards a 206 that starts elsewhere', offset: 100, status: 206, headers: { contentRange: 'bytes 0-199/200', contentLength: '200' }, want: { action: 'discard' } },
    { name: 'retries a 206 without Content-Range', offset: 100, status: 206, headers: none, want: { action: 'retry' } },
    { name: 'restarts on 200 (server ignored Range or If-Range failed)', offset: 100, status: 200, headers: { contentRange: null, contentLength: '300' }, want: { action: 'restart', total: 300 } },
    { name: 'restarts on 200 without length', offset: 0, status: 200, headers: none, want: { action: 'restart' } },
    { name: 'discards on 416', offset: 200, status: 416, headers: { contentRange: 'bytes */200', contentLength: null }, want: { action: 'discard' } },
    { name: 'retries a 503', offset: 0, status: 503, headers: none, want: { action: 'retry' } },
    { name: 'retries a 429', offset: 0, status: 429, headers: none, want: { action: 'retry' } },
    { name: 'fails a 404', offset: 0, status: 404, headers: none, want: { action: 'fail' } },
    { name: 'fails a 403', offset: 0, status: 403, headers: none, want: { action: 'fail' } },
  ])('$name', ({ offset, status, headers, want }) => {
    expect(decideResponse(offset, status, headers)).toMatchObject(want);
  });

  it('parses Content-Range with unknown total', () => {
    expect(parseContentRange('bytes 5-9/*')).toEqual({ start: 5, end: 9, total: undefined });
    expect(parseContentRange('items 5-9/10')).toBeUndefined();
  });

  it('sends a strong ETag as If-Range, never a weak one', () => {
    expect(ifRangeValidator({ etag: '"abc"', lastModified: 'Thu, 01 Jan 2026 00:00:00 GMT' })).toBe('"abc"');
    expect(ifRangeValidator({ etag: 'W/"abc"', lastModified: 'Thu, 01 Jan 2026 00:00:00 GMT' })).toBe('Thu, 01 Jan 2026 00:00:00 GMT');
    expect(ifRangeValidator({ etag: 'W/"abc"' })).toBeUndefined();
  });
});

describe('applyMirrors', () => {
  const mirrors = [
    { prefix: 'https://dl.k8s.io/', replacement: 'http://mirror.site/k8s/' },
    { prefix: 'https://dl.k8s.io/release/v1.33.1/', replacement: 'http://pinned.site/' },
  ];
  it.each([
    ['longest prefix wins', 'https://dl.k8s.io/release/v1.33.1/bin/linux/amd64/kubeadm', 'http://pinned.site/bin/linux/amd64/kubeadm'],
    ['general prefix', 'https://dl.k8s.io/release/v1.32.0/bin/linux/amd64/kubeadm', 'http://mirror.site/k8s/release/v1.32.0/bin/linux/amd64/kubeadm'],
    ['no match leaves the URL alone', 'https://github.com/x/y', 'https://github.com/x/y'],
  ])('%s', (_name, url, want) => {
    expect(applyMirrors(url, mirrors)).toBe(want);
  });

  it('drops credentials from a URL that is shown', () => {
    expect(displayUrl('https://user:secret@mirror.site/a')).toBe('https://mirror.site/a');
    expect(displayUrl('https://mirror.site/a')).toBe('https://mirror.site/a');
  });
});

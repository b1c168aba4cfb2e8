import { describe, expect, it } from 'vitest';
import { parse, type DefaultTreeAdapterMap } from 'parse5';
import { escapeHtml, renderHtml } from '../../src/doctor/html.ts';
import { buildReport } from '../../src/doctor/model.ts';
import { testPlan } from '../checks/context.ts';
import { fixtureFacts } from '../facts/fixtures.ts';
import { scaleReport } from './scale-report.ts';

type Node = DefaultTreeAdapterMap['node'];
type Element = DefaultTreeAdapterMap['element'];

function elements(node: Node): Element[] {
  const own = 'tagName' in node ? [node as Element] : [];
  const children = 'childNodes' in node ? (node.childNodes as Node[]) : [];
  const content = 'content' in node ? [(node as DefaultTreeAdapterMap['template']).content as Node] : [];
  return [...own, ...children.flatMap(elements), ...content.flatMap(elements)];
}
const attr = (e: Element, name: string) => e.attrs.find((a) => a.name === name)?.value;
function text(node: Node): string {
  if (node.nodeName === '#text') return (node as DefaultTreeAdapterMap['textNode']).value;
  return 'childNodes' in node ? (node.childNodes as Node[]).map(text).join('') : '';
}

/** The page parsed back: each grid's cells by kind, "from>to" → state and title. */
function cellsOf(html: string) {
  const all = elements(parse(html));
  const cells = new Map<string, { state: string; title: string }>();
  for (const table of all.filter((e) => e.tagName === 'table'))
    for (const td of elements(table).filter((e) => e.tagName === 'td'))
      cells.set(`${attr(table, 'data-kind')}:${attr(td, 'data-from')}>${attr(td, 'data-to')}`, { state: attr(td, 'class')!, title: attr(td, 'title')! });
  return { all, cells };
}

describe('report.html of the 100-node report', () => {
  const page = cellsOf(renderHtml(scaleReport('all')));
  const rackPage = cellsOf(renderHtml(scaleReport('rack')));
  it.each([
    ['protocol 4 r1 → r2 dropped', page, 'ipip:n030>n060', 'dropped'],
    ['protocol 4 r2 → r1 passes', page, 'ipip:n060>n030', 'ok'],
    ['VXLAN r1 → r2 passes', page, 'udp:n030>n060', 'ok'],
    ['10250 refused on n050 from a control plane', page, 'tcp:n000>n050', 'refused'],
    ['a worker pair has its kubelet and BGP ports', page, 'tcp:n030>n031', 'ok'],
    ['the diagonal', page, 'ipip:n007>n007', 'none'],
    ['rack mode: two workers of different racks, not representatives', rackPage, 'ipip:n030>n060', 'skipped'],
    ['rack mode: representatives across racks', rackPage, 'ipip:n025>n050', 'dropped'],
    ['rack mode: within a rack', rackPage, 'udp:n030>n040', 'ok'],
  ])('%s: cell %s is %s', (_, p, key, state) => {
    expect(p.cells.get(key)?.state).toBe(state);
  });

  it('has a full 100 × 100 grid per probe kind, with the detail in each cell\'s title', () => {
    for (const kind of ['ipip', 'udp', 'tcp']) expect([...page.cells.keys()].filter((k) => k.startsWith(`${kind}:`))).toHaveLength(100 * 100);
    expect(page.cells.get('tcp:n000>n050')!.title).toContain('10250 refused');
  });

  it('is self-contained: no script, no external stylesheet, image or link', () => {
    expect(page.all.filter((e) => ['script', 'link', 'img', 'iframe', 'object'].includes(e.tagName))).toEqual([]);
    expect(page.all.filter((e) => attr(e, 'src') !== undefined || attr(e, 'href') !== undefined)).toEqual([]);
  });
});

describe('escaping', () => {
  it.each([
    ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    [`"quoted" & 'single'`, '&quot;quoted&quot; &amp; &#39;single&#39;'],
  ])('escapes %s', (raw, want) => expect(escapeHtml(raw)).toBe(want));

  it('keeps every string from the nodes text: an error with markup parses back as the same text, no element', () => {
    const hostile = '<img src=x onerror="alert(1)"><script>alert(2)</script> & \'x\'';
    const report = buildReport({
      cluster: 'lab', generatedAt: new Date('2026-12-07T08:00:00Z'), plan: testPlan(), probes: undefined, selection: {},
      gathered: [
        { name: 'cp-1', address: '10.0.0.11', roles: ['control-plane'], facts: fixtureFacts('debian12-lab-node', 'cp-1') },
        { name: 'w-1', address: '10.0.0.21', roles: ['worker'], error: hostile },
      ],
    });
    const html = renderHtml(report);
    const { all } = cellsOf(html);
    expect(all.filter((e) => ['script', 'img'].includes(e.tagName))).toEqual([]);
    expect(text(parse(html))).toContain(`w-1: ${hostile}`);
  });
});

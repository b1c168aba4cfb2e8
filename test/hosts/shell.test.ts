import { describe, expect, it } from 'vitest';
import { quote, sh, shellJoin } from '../../src/hosts/shell.ts';
import { execFileSync } from 'node:child_process';

describe('shell quoting', () => {
  const nasty = ["it's", '$(touch /tmp/x)', '`id`', 'a b', '', '; rm -rf /', '"\\', '\n'];
  it.each(nasty)('round-trips %j through a real sh unchanged', (value) => {
    const out = execFileSync('sh', ['-c', `printf %s ${quote(value)}`]).toString();
    expect(out).toBe(value);
  });

  it('leaves plain words bare and quotes the rest', () => {
    expect(shellJoin(['ip', 'link', 'del', 'ferry0'])).toBe('ip link del ferry0');
    expect(quote('a b')).toBe("'a b'");
  });

  it('quotes every interpolated value in the sh tag, arrays word by word', () => {
    const cmd = sh`echo ${'a b'} ${['c', "d'e"]} | ${sh`cat`}`;
    expect(cmd.shell).toBe(`echo 'a b' c 'd'\\''e' | cat`);
  });
});

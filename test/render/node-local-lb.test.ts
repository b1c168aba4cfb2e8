import { afterAll, describe, expect, it } from 'vitest';
import { nodeLocalEndpoint, renderNodeLocalLb } from '../../src/render/node-local-lb.ts';
import { verifyArgv } from '../../src/render/file.ts';
import { UserError } from '../../src/errors.ts';
import { controlPlanes } from './fixtures.ts';
import { put, tempDir, tool } from './tools.ts';

const backends = controlPlanes.map((c) => ({ name: c.name, address: c.address }));

describe('renderNodeLocalLb', () => {
  const tmp = tempDir('nodelocal');
  afterAll(() => tmp.cleanup());

  it('listens on loopback only, in front of every control plane', async () => {
    const [file] = renderNodeLocalLb({ backends });
    await expect(file!.content).toMatchFileSnapshot('__snapshots__/node-local-lb.cfg');
    expect(file!.content).toContain('bind 127.0.0.1:6444');
    expect(file!.content.match(/^ {4}server /gm)).toHaveLength(3);
    expect(nodeLocalEndpoint()).toBe('127.0.0.1:6444');
  });

  it('haproxy -c accepts it', async () => {
    const [file] = renderNodeLocalLb({ backends, port: 7443 });
    const r = await tool(verifyArgv(file!, put(tmp.dir, 'h.cfg', file!.content))!);
    expect(r.exitCode, r.output).toBe(0);
  });

  it('refuses the API server port, which kube-apiserver holds on control planes', () => {
    expect(() => renderNodeLocalLb({ backends, port: 6443 })).toThrow(UserError);
  });
});

import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseYaml } from '../../src/config/parse.ts';
import { InputError } from '../../src/errors.ts';
import { Inventory } from '../../src/config/inventory.ts';

const Schema = z.object({ hosts: z.array(z.object({ name: z.string(), port: z.number() }).strict()) }).strict();

function issuesOf(text: string, schema: z.ZodType = Schema) {
  try {
    parseYaml(text, 'cluster.yaml', schema);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as InputError).issues;
  }
  throw new Error('expected an InputError');
}

describe('parseYaml', () => {
  it('returns the validated data', () => {
    expect(parseYaml('hosts:\n  - {name: a, port: 22}\n', 'x.yaml', Schema)).toEqual({ hosts: [{ name: 'a', port: 22 }] });
  });

  it('names file, line, column and field of a wrong type', () => {
    const [issue] = issuesOf('hosts:\n  - name: a\n    port: twenty-two\n');
    expect(issue).toMatchObject({ file: 'cluster.yaml', line: 3, column: 11, field: 'hosts[0].port' });
    expect(issue!.message).toMatch(/number/);
  });

  it('points a missing field at its parent object', () => {
    const [issue] = issuesOf('hosts:\n  - name: a\n');
    expect(issue).toMatchObject({ line: 2, column: 5, field: 'hosts[0].port' });
  });

  it('reports every problem, not just the first', () => {
    const issues = issuesOf('hosts:\n  - {name: 1, port: 22}\n  - {name: b, port: x, extra: 1}\n');
    expect(issues.map((i) => i.field)).toEqual(['hosts[0].name', 'hosts[1].port', 'hosts[1]']);
  });

  it('reports YAML syntax errors with their position', () => {
    const [issue] = issuesOf('hosts:\n  - name: a\n   port: 1\n  bad: [\n');
    expect(issue!.line).toBeGreaterThan(1);
    expect(issue!.field).toBeUndefined();
  });

  it('rejects duplicate keys', () => {
    expect(issuesOf('hosts: []\nhosts: []\n')[0]!.message).toMatch(/unique/i);
  });
});

describe('Inventory schema', () => {
  const base = `apiVersion: ferry.dev/v1alpha1
kind: Cluster
name: lab
network: {controlPlaneEndpoint: "10.0.0.100:6443"}
hosts:
`;
  it('accepts a minimal inventory and fills defaults', () => {
    const inv = parseYaml(`${base}  - {name: cp1, address: 10.0.0.11, roles: [control-plane]}\n`, 'c.yaml', Inventory);
    expect(inv.ssh.concurrency).toBe(50);
    expect(inv.network.encapsulation).toBe('auto');
  });

  it('refuses duplicate names and addresses and a cluster without control plane', () => {
    const issues = issuesOf(
      `${base}  - {name: w1, address: 10.0.0.11, roles: [worker]}\n  - {name: w1, address: 10.0.0.11, roles: [gpu]}\n`,
      Inventory,
    );
    expect(issues.map((i) => `${i.field}: ${i.message}`)).toEqual([
      'hosts[1].name: duplicates hosts[0]',
      'hosts[1].address: duplicates hosts[0]',
      'hosts: needs at least one host with role control-plane',
    ]);
    expect(issues[0]!.line).toBe(7);
  });

  it('refuses an uppercase host name', () => {
    expect(issuesOf(`${base}  - {name: CP1, address: a, roles: [control-plane]}\n`, Inventory)[0]!.field).toBe('hosts[0].name');
  });
});

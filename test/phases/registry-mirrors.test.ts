// registry-mirrors' plan from tables of what it saw on a node: curl through the packages step, the CA where it
// differs (written from the admin host's copy, or uploaded when a dry run only planned it), the hosts.toml files
// that differ, and pins only where something changed and containerd honours them.
import { describe, expect, it } from 'vitest';
import { NODE_CA_PATH, trustStorePlan } from '../../src/registry/node-plan.ts';
import { renderedFile } from '../../src/render/file.ts';
import { debianFamily } from '../../src/phases/os/debian.ts';
import { elFamily } from '../../src/phases/os/el.ts';
import { planMirrors, type MirrorsSeen } from '../../src/phases/registry-mirrors.ts';
import { describeStep } from '../../src/phases/step.ts';
import { fixture } from './fixtures.ts';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const DEBIAN = trustStorePlan(fixture('debian12-os-release'));
const EL = trustStorePlan(fixture('rocky86-os-release'));
const HOSTS = renderedFile('/etc/containerd/certs.d/registry.k8s.io/hosts.toml', 'server = "https://10.20.0.11:5000/v2/registry.k8s.io"\n');
const PAUSE = 'registry.k8s.io/pause:3.10';
const APT = 'apt-get -q -y -o Dir::Etc::sourcelist=/etc/apt/sources.list.d/ferry.list -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0';
const PINS = [`ctr --namespace k8s.io images pull --hosts-dir /etc/containerd/certs.d ${PAUSE}`, `ctr --namespace k8s.io images label ${PAUSE} io.cri-containerd.pinned=pinned`];

const seen = (over: Partial<MirrorsSeen>): MirrorsSeen => ({
  family: debianFamily, curl: true, ca: { path: '/state/registry-ca/ca.crt', pem: PEM }, trust: DEBIAN,
  caChanged: false, anchorChanged: false, changedHosts: [], critical: [PAUSE], pins: true, ...over,
});

describe('registry-mirrors plan', () => {
  it.each<{ name: string; seen: MirrorsSeen; steps: string[] }>([
    {
      name: 'a fresh Debian node: curl, the CA twice (with the trust store rebuilt), hosts.toml, then the pins',
      seen: seen({ curl: false, caChanged: true, anchorChanged: true, changedHosts: [HOSTS] }),
      steps: [
        `${APT} install --no-install-recommends curl`,
        `write ${NODE_CA_PATH}`, 'write /usr/local/share/ca-certificates/ferry-registry-ca.crt', 'update-ca-certificates',
        'install -d -m 0755 /etc/containerd/certs.d', `write ${HOSTS.path}`, ...PINS,
      ],
    },
    {
      name: 'EL: its trust anchor and update-ca-trust',
      seen: seen({ family: elFamily, trust: EL, anchorChanged: true }),
      steps: ['write /etc/pki/ca-trust/source/anchors/ferry-registry-ca.crt', 'update-ca-trust extract', ...PINS],
    },
    {
      name: 'a dry run whose registry phase only planned the CA: uploaded from where it will be',
      seen: seen({ ca: { path: '/state/registry-ca/ca.crt' }, caChanged: true, anchorChanged: true }),
      steps: [
        `upload /state/registry-ca/ca.crt to ${NODE_CA_PATH}`, 'upload /state/registry-ca/ca.crt to /usr/local/share/ca-certificates/ferry-registry-ca.crt',
        'update-ca-certificates', ...PINS,
      ],
    },
    { name: 'a containerd that ignores pins (1.6): no pins', seen: seen({ changedHosts: [HOSTS], pins: false }), steps: ['install -d -m 0755 /etc/containerd/certs.d', `write ${HOSTS.path}`] },
    { name: 'everything in place: nothing, no pins', seen: seen({}), steps: [] },
  ])('$name', ({ seen: s, steps }) => {
    const planned = planMirrors(s);
    expect(planned.map(describeStep)).toEqual(steps);
    for (const step of planned) {
      if (step.kind === 'write') expect(step.mode).toBe(0o644);
      if (step.kind === 'packages') expect(step.phase).toBe('registry-mirrors');
    }
  });
});

// reset-registry-mirrors and reset-registry: undo registry-mirrors (ferry's CA in the OS trust store and on every
// node; the hosts.toml files go with reset-container-runtime) and the registry phase (the replica's unit, config,
// TLS files, binary and storage).
import type { Host } from '../hosts/host.ts';
import { sh } from '../hosts/shell.ts';
import { NODE_CA_PATH, REGISTRY_NODE_DIR } from '../registry/node-plan.ts';
import { registryHosts } from '../render/node-files.ts';
import { REGISTRY_CONFIG_PATH, REGISTRY_ROOT, REGISTRY_UNIT } from '../render/registry.ts';
import { REGISTRY_BINARY } from './local-registry.ts';
import type { Phase } from './phase.ts';
import { resetPhase } from './reset.ts';

// Both families' trust anchors (src/registry/node-plan.ts trustStorePlan): whichever the node has. Debian's
// update-ca-certificates keeps the links of a removed anchor unless it rebuilds /etc/ssl/certs (--fresh).
const ANCHORS = ['/usr/local/share/ca-certificates/ferry-registry-ca.crt', '/etc/pki/ca-trust/source/anchors/ferry-registry-ca.crt'];

async function rebuildTrust(host: Host): Promise<void> {
  await host.exec(sh`if command -v update-ca-certificates >/dev/null; then update-ca-certificates --fresh; elif command -v update-ca-trust >/dev/null; then update-ca-trust extract; fi`);
}

export const registryResetPhases: Phase[] = [
  resetPhase({
    id: 'reset-registry-mirrors',
    title: "remove ferry's registry CA from the nodes and their trust stores",
    paths: [NODE_CA_PATH, ...ANCHORS],
    dirs: [REGISTRY_NODE_DIR, '/etc/ferry'],
    after: rebuildTrust,
  }),
  resetPhase({
    id: 'reset-registry',
    title: 'stop and remove the local registry replicas',
    targets: (ctx) => registryHosts(ctx.inventory),
    units: [REGISTRY_UNIT],
    paths: [`/etc/systemd/system/${REGISTRY_UNIT}`, REGISTRY_CONFIG_PATH, `${REGISTRY_NODE_DIR}/tls`, REGISTRY_BINARY, REGISTRY_ROOT],
    dirs: [REGISTRY_NODE_DIR, '/etc/ferry'],
    async after(host) {
      await host.exec(['systemctl', 'daemon-reload']);
    },
  }),
];

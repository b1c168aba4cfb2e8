// /etc/ferry/gpu-addons.yaml: the `nvidia` RuntimeClass (handler = containerd's nvidia runtime that ferry renders
// on GPU nodes) and the NVIDIA device plugin DaemonSet, pulled from the local registry, on GPU-labelled nodes only.
// The DaemonSet follows the upstream static manifest (NVIDIA/k8s-device-plugin deployments/static/
// nvidia-device-plugin.yml: names, toleration, priority class, FAIL_ON_INIT_ERROR, the kubelet device-plugins
// hostPath); ferry adds the nodeSelector and runtimeClassName. Pure.
import { stringify } from 'yaml';
import { UserError } from '../errors.ts';
import { renderedFile, type RenderedFile } from './file.ts';
import { localImageRef } from './local-image.ts';

export const GPU_ADDONS_PATH = '/etc/ferry/gpu-addons.yaml';
/** The label ferry puts on GPU nodes and the device plugin selects. */
export const GPU_LABEL = { key: 'nvidia.com/gpu.present', value: 'true' } as const;
export const NVIDIA_RUNTIME_CLASS = 'nvidia';
export const DEVICE_PLUGIN_COMPONENT = 'nvidia-device-plugin';

export interface GpuAddonsInput {
  /** The lock's images; the one of component nvidia-device-plugin is used. */
  images: readonly { ref: string; component: string }[];
  /** The local registry as nodes pull from it, host:port. */
  registry: string;
}

/** The manifest's objects, in apply order. */
export function gpuAddonObjects(input: GpuAddonsInput): Record<string, unknown>[] {
  const plugin = input.images.find((i) => i.component === DEVICE_PLUGIN_COMPONENT);
  if (!plugin) throw new UserError('the lock names no NVIDIA device plugin image', { hint: 'resolve the lock with --gpu MODEL so it carries nvcr.io/nvidia/k8s-device-plugin' });
  const labels = { name: 'nvidia-device-plugin-ds' };
  const runtimeClass = { apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: NVIDIA_RUNTIME_CLASS }, handler: NVIDIA_RUNTIME_CLASS };
  const daemonSet = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'nvidia-device-plugin-daemonset', namespace: 'kube-system' },
    spec: {
      selector: { matchLabels: labels },
      updateStrategy: { type: 'RollingUpdate' },
      template: {
        metadata: { labels },
        spec: {
          nodeSelector: { [GPU_LABEL.key]: GPU_LABEL.value },
          runtimeClassName: NVIDIA_RUNTIME_CLASS,
          tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
          priorityClassName: 'system-node-critical',
          containers: [
            {
              name: 'nvidia-device-plugin-ctr',
              image: localImageRef(plugin.ref, input.registry),
              env: [{ name: 'FAIL_ON_INIT_ERROR', value: 'false' }],
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              volumeMounts: [{ name: 'kubelet-device-plugins-dir', mountPath: '/var/lib/kubelet/device-plugins' }],
            },
          ],
          volumes: [{ name: 'kubelet-device-plugins-dir', hostPath: { path: '/var/lib/kubelet/device-plugins', type: 'Directory' } }],
        },
      },
    },
  };
  return [runtimeClass, daemonSet];
}

/** The multi-document manifest file the gpu-addons phase applies. */
export function renderGpuAddons(input: GpuAddonsInput): RenderedFile {
  const docs = gpuAddonObjects(input).map((o) => stringify(o));
  return renderedFile(GPU_ADDONS_PATH, `# Written by ferry: NVIDIA RuntimeClass and device plugin.\n${docs.join('---\n')}`);
}

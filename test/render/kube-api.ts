// Structural schemas of the Kubernetes config types ferry renders, written from the API reference pages:
//   https://kubernetes.io/docs/reference/config-api/kubeadm-config.v1beta4/  (InitConfiguration, ClusterConfiguration,
//     JoinConfiguration, BootstrapToken, NodeRegistrationOptions, APIEndpoint, Discovery, BootstrapTokenDiscovery,
//     JoinControlPlane, Networking, APIServer, DNS, Etcd/LocalEtcd, Arg)
//   https://kubernetes.io/docs/reference/config-api/kubelet-config.v1beta1/  (KubeletConfiguration)
// Every object is strict: a field name that is not in the reference (a typo, a v1beta3 shape such as extraArgs as a
// map) fails. Only the fields ferry may render are listed; kubeadm itself is not available on the test machine.
import { z } from 'zod';

const Arg = z.object({ name: z.string().min(1), value: z.string() }).strict();
const Taint = z.object({ key: z.string(), value: z.string().optional(), effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']) }).strict();
const NodeRegistrationOptions = z
  .object({
    name: z.string().optional(),
    criSocket: z.string().regex(/^unix:\/\//).optional(),
    taints: z.array(Taint).optional(),
    kubeletExtraArgs: z.array(Arg).optional(),
    ignorePreflightErrors: z.array(z.string()).optional(),
    imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).optional(),
    imagePullSerial: z.boolean().optional(),
  })
  .strict();
const APIEndpoint = z.object({ advertiseAddress: z.string(), bindPort: z.number().int() }).strict();
const BootstrapToken = z
  .object({
    token: z.string().regex(/^[a-z0-9]{6}\.[a-z0-9]{16}$/),
    description: z.string().optional(),
    ttl: z.string().optional(),
    expires: z.string().optional(),
    usages: z.array(z.enum(['signing', 'authentication'])).optional(),
    groups: z.array(z.string()).optional(),
  })
  .strict();
const v1beta4 = z.literal('kubeadm.k8s.io/v1beta4');

export const InitConfiguration = z
  .object({
    apiVersion: v1beta4,
    kind: z.literal('InitConfiguration'),
    bootstrapTokens: z.array(BootstrapToken).optional(),
    dryRun: z.boolean().optional(),
    nodeRegistration: NodeRegistrationOptions.optional(),
    localAPIEndpoint: APIEndpoint.optional(),
    certificateKey: z.string().regex(/^[a-f0-9]{64}$/).optional(),
    skipPhases: z.array(z.string()).optional(),
    timeouts: z.record(z.string(), z.string()).optional(),
  })
  .strict();

const ImageMeta = { imageRepository: z.string().optional(), imageTag: z.string().optional() };
export const ClusterConfiguration = z
  .object({
    apiVersion: v1beta4,
    kind: z.literal('ClusterConfiguration'),
    etcd: z.object({ local: z.object({ ...ImageMeta, dataDir: z.string(), extraArgs: z.array(Arg).optional(), serverCertSANs: z.array(z.string()).optional(), peerCertSANs: z.array(z.string()).optional() }).strict() }).strict().optional(),
    networking: z.object({ serviceSubnet: z.string().optional(), podSubnet: z.string().optional(), dnsDomain: z.string().optional() }).strict().optional(),
    kubernetesVersion: z.string().regex(/^v\d+\.\d+\.\d+$/),
    controlPlaneEndpoint: z.string().regex(/^[^:]+:\d+$/),
    apiServer: z.object({ certSANs: z.array(z.string()).optional(), extraArgs: z.array(Arg).optional() }).strict().optional(),
    controllerManager: z.object({ extraArgs: z.array(Arg).optional() }).strict().optional(),
    scheduler: z.object({ extraArgs: z.array(Arg).optional() }).strict().optional(),
    dns: z.object({ ...ImageMeta, disabled: z.boolean().optional() }).strict().optional(),
    proxy: z.object({ disabled: z.boolean().optional() }).strict().optional(),
    certificatesDir: z.string().optional(),
    imageRepository: z.string(),
    featureGates: z.record(z.string(), z.boolean()).optional(),
    clusterName: z.string().optional(),
    encryptionAlgorithm: z.enum(['ECDSA-P256', 'ECDSA-P384', 'RSA-2048', 'RSA-3072', 'RSA-4096']).optional(),
    certificateValidityPeriod: z.string().optional(),
    caCertificateValidityPeriod: z.string().optional(),
  })
  .strict();

export const JoinConfiguration = z
  .object({
    apiVersion: v1beta4,
    kind: z.literal('JoinConfiguration'),
    dryRun: z.boolean().optional(),
    nodeRegistration: NodeRegistrationOptions.optional(),
    caCertPath: z.string().optional(),
    discovery: z
      .object({
        bootstrapToken: z
          .object({
            token: z.string(),
            apiServerEndpoint: z.string(),
            caCertHashes: z.array(z.string().regex(/^sha256:[a-f0-9]{64}$/)).min(1),
            unsafeSkipCAVerification: z.literal(false).optional(),
          })
          .strict(),
        tlsBootstrapToken: z.string().optional(),
      })
      .strict(),
    controlPlane: z.object({ localAPIEndpoint: APIEndpoint.optional(), certificateKey: z.string().regex(/^[a-f0-9]{64}$/).optional() }).strict().optional(),
    skipPhases: z.array(z.string()).optional(),
    timeouts: z.record(z.string(), z.string()).optional(),
  })
  .strict();

const percent = z.string().regex(/^\d+(\.\d+)?%$|^\d+(Mi|Gi|Ki)?$/);
export const KubeletConfiguration = z
  .object({
    apiVersion: z.literal('kubelet.config.k8s.io/v1beta1'),
    kind: z.literal('KubeletConfiguration'),
    cgroupDriver: z.enum(['systemd', 'cgroupfs']),
    containerRuntimeEndpoint: z.string().regex(/^unix:\/\//),
    failCgroupV1: z.boolean().optional(),
    imageGCHighThresholdPercent: z.number().int().min(0).max(100),
    imageGCLowThresholdPercent: z.number().int().min(0).max(100),
    imageMinimumGCAge: z.string().optional(),
    imageMaximumGCAge: z.string().optional(),
    evictionHard: z.partialRecord(z.enum(['memory.available', 'nodefs.available', 'nodefs.inodesFree', 'imagefs.available', 'imagefs.inodesFree', 'containerfs.available', 'containerfs.inodesFree', 'pid.available']), percent).optional(),
  })
  .strict();

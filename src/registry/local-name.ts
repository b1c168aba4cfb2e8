// The one name of the cluster's local registry. The bundle's manifest rewrite, containerd's hosts.toml, the
// replicas' certificates, kubeadm's imageRepository and the GPU add-ons all use these values and nothing else, so an
// image a manifest names is always one the nodes have a mirror for. The name need not resolve: hosts.toml sends
// every pull for it to the replicas' addresses.
export const LOCAL_REGISTRY = { name: 'registry.ferry.internal', port: 5000, caPath: '/etc/ferry/pki/ca.crt' } as const;

/** `registry.ferry.internal:5000`: how images on the nodes are named. */
export const LOCAL_REGISTRY_HOST = `${LOCAL_REGISTRY.name}:${LOCAL_REGISTRY.port}`;

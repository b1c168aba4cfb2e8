# kubeadm STAND-IN (ferry tests only): what kubeadm writes on a node: certificates, kubeconfigs, static pod
# manifests, the kubelet's config and flags, and the Node object it registers.
import hashlib
import tempfile

import yaml

from kubeadm_checks import MANIFESTS, arg_value, host_port
from stand_in import PKI, kubeconfig, make_leaf, read, write

STATE = "/var/lib/etcd/stand-in/state.json"
KUBELET_CONFIG = "/var/lib/kubelet/config.yaml"
FLAGS_ENV = "/var/lib/kubelet/kubeadm-flags.env"
# The files the kubeadm-certs Secret carries between control planes.
SHARED = ["ca.crt", "ca.key", "sa.key", "sa.pub", "front-proxy-ca.crt", "front-proxy-ca.key", "etcd/ca.crt", "etcd/ca.key"]


def manifest(name, image, command):
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "kube-system", "labels": {"component": name, "tier": "control-plane"}},
        "spec": {"hostNetwork": True, "priorityClassName": "system-node-critical",
                 "containers": [{"name": name, "image": image, "command": command}]},
    }, sort_keys=False)


def write_control_plane(cluster, address, port, node, primary):
    """Component certificates, kubeconfigs and static pod manifests of one control-plane node."""
    host, _ = host_port(cluster["controlPlaneEndpoint"], "controlPlaneEndpoint")
    sans = ["kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local",
            node, address, "127.0.0.1", host, *(cluster.get("apiServer", {}).get("certSANs") or [])]
    ca = (f"{PKI}/ca.crt", f"{PKI}/ca.key")
    make_leaf(f"{PKI}/apiserver.crt", f"{PKI}/apiserver.key", *ca, "kube-apiserver", sans=list(dict.fromkeys(sans)))
    make_leaf(f"{PKI}/apiserver-kubelet-client.crt", f"{PKI}/apiserver-kubelet-client.key", *ca,
              "kube-apiserver-kubelet-client", "kubeadm:cluster-admins")
    # The other leaves kubeadm writes on a control plane (so `kubeadm certs check-expiration` lists no !MISSING!).
    etcd_ca = (f"{PKI}/etcd/ca.crt", f"{PKI}/etcd/ca.key")
    local = [node, "localhost", address, "127.0.0.1", "::1"]
    for rel, signer, cn, org, leaf_sans in (
            ("front-proxy-client", (f"{PKI}/front-proxy-ca.crt", f"{PKI}/front-proxy-ca.key"), "front-proxy-client", None, ()),
            ("apiserver-etcd-client", etcd_ca, "kube-apiserver-etcd-client", None, ()),
            ("etcd/server", etcd_ca, node, None, local), ("etcd/peer", etcd_ca, node, None, local),
            ("etcd/healthcheck-client", etcd_ca, "kube-etcd-healthcheck-client", None, ())):
        make_leaf(f"{PKI}/{rel}.crt", f"{PKI}/{rel}.key", *signer, cn, org, sans=list(leaf_sans))
    server = f"https://{cluster['controlPlaneEndpoint']}"
    for conf, cn, org in (("admin.conf", "kubernetes-admin", "kubeadm:cluster-admins"),
                          ("controller-manager.conf", "system:kube-controller-manager", None),
                          ("scheduler.conf", "system:kube-scheduler", None)):
        write_kubeconfig(conf, server, cn, org)
    repo = cluster["imageRepository"]
    tag = cluster["kubernetesVersion"]
    api = ["kube-apiserver", f"--advertise-address={address}", f"--secure-port={port}",
           f"--tls-cert-file={PKI}/apiserver.crt", f"--tls-private-key-file={PKI}/apiserver.key",
           f"--client-ca-file={PKI}/ca.crt", "--etcd-servers=https://127.0.0.1:2379",
           f"--stand-in-client-cert={PKI}/apiserver-kubelet-client.crt", f"--stand-in-client-key={PKI}/apiserver-kubelet-client.key",
           f"--stand-in-state={STATE}" if primary is None else f"--stand-in-forward={primary}", f"--stand-in-version={tag}"]
    # As kubeadm: the pinned etcd.local.imageTag, else the default this kubeadm release was built with.
    etcd_tag = cluster["etcd"]["local"].get("imageTag", "3.5.21-0")
    for name, image, cmd in (("kube-apiserver", f"{repo}/kube-apiserver:{tag}", api),
                             ("kube-controller-manager", f"{repo}/kube-controller-manager:{tag}", ["kube-controller-manager"]),
                             ("kube-scheduler", f"{repo}/kube-scheduler:{tag}", ["kube-scheduler"]),
                             ("etcd", f"{repo}/etcd:{etcd_tag}", ["etcd", f"--data-dir={cluster['etcd']['local']['dataDir']}"])):
        write(f"{MANIFESTS}/{name}.yaml", manifest(name, image, cmd), 0o600)


def write_kubeconfig(conf, server, cn, org):
    with tempfile.TemporaryDirectory() as d:
        make_leaf(f"{d}/c", f"{d}/k", f"{PKI}/ca.crt", f"{PKI}/ca.key", cn, org)
        write(f"/etc/kubernetes/{conf}", kubeconfig(server, read(f"{PKI}/ca.crt"), cn, read(f"{d}/c"), read(f"{d}/k")), 0o600)


def write_kubelet(kubelet_config, node, node_ip, server, cert, key, runtime):
    write(KUBELET_CONFIG, yaml.safe_dump(kubelet_config, sort_keys=False))
    write(FLAGS_ENV, f'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint={runtime} --hostname-override={node} --node-ip={node_ip}"\n')
    write("/etc/kubernetes/kubelet.conf", kubeconfig(server, read(f"{PKI}/ca.crt"), f"system:node:{node}", cert, key), 0o600)


def node_object(reg, address, control_plane, kube_version):
    labels = {"kubernetes.io/hostname": reg["name"], "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}
    taints = reg.get("taints")
    if control_plane:
        labels["node-role.kubernetes.io/control-plane"] = ""
        if taints is None:
            taints = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    for pair in filter(None, (arg_value(reg.get("kubeletExtraArgs"), "node-labels") or "").split(",")):
        k, _, v = pair.partition("=")
        labels[k] = v
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": reg["name"], "labels": labels},
            "spec": {"taints": taints or []},
            "status": {"addresses": [{"type": "InternalIP", "address": address}, {"type": "Hostname", "address": reg["name"]}],
                       "conditions": [{"type": "Ready", "status": "Unknown", "reason": "NodeStatusNeverUpdated",
                                       "message": "Kubelet never posted node status."}],
                       "nodeInfo": {"kubeletVersion": f"v{kube_version}", "architecture": "amd64", "operatingSystem": "linux"}}}


def cert_bundle():
    return {name: read(f"{PKI}/{name}") for name in SHARED}


def key_hash(key):
    return hashlib.sha256(key.encode()).hexdigest()

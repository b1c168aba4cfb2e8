# kubeadm STAND-IN (ferry tests only): the checks kubeadm makes before changing anything (input validation,
# preflight) and token discovery, which decides whether a joining node may trust the cluster.
import json
import os
import re
import stat

from stand_in import Client, StandInError, jws, spki_hash

MANIFESTS = "/etc/kubernetes/manifests"


def preflight(errors):
    if errors:
        lines = "".join(f"\t[ERROR {name}]: {msg}\n" for name, msg in errors)
        raise StandInError("[preflight] Some fatal errors occurred:\n" + lines +
                           "[preflight] If you know what you are doing, you can make a check non-fatal with `--ignore-preflight-errors=...`", 1)


def host_port(endpoint, field):
    m = re.fullmatch(r"(.+):(\d{1,5})", endpoint or "")
    if not m:
        raise StandInError(f"{field}: Invalid value: {endpoint!r}: must be HOST:PORT", 1)
    return m.group(1), int(m.group(2))


def socket_path(uri, field):
    if not (uri or "").startswith("unix://"):
        raise StandInError(f"{field}: Invalid value: {uri!r}: must be unix:///path", 1)
    path = uri[len("unix://"):]
    if not (os.path.exists(path) and stat.S_ISSOCK(os.stat(path).st_mode)):
        raise StandInError(f"{field}: the container runtime socket {path} does not exist (is containerd running?)", 1)
    return path


def arg_value(args, name):
    for a in args or []:
        if a["name"] == name:
            return a["value"]
    return None


def check_registration(reg):
    if not reg.get("name"):
        raise StandInError("nodeRegistration.name: Required value (the stand-in wants ferry to name every node)", 1)
    socket_path(reg.get("criSocket"), "nodeRegistration.criSocket")
    for a in reg.get("kubeletExtraArgs") or []:
        if a["name"] not in ("node-ip", "node-labels"):
            raise StandInError(f"nodeRegistration.kubeletExtraArgs: the kubelet stand-in does not know --{a['name']}", 2)


def check_kubelet(kc):
    if kc.get("cgroupDriver") != "systemd":
        raise StandInError(f"KubeletConfiguration.cgroupDriver must be systemd, got {kc.get('cgroupDriver')!r}", 1)
    socket_path(kc.get("containerRuntimeEndpoint"), "KubeletConfiguration.containerRuntimeEndpoint")


def dir_busy():
    return os.path.isdir(MANIFESTS) and bool(os.listdir(MANIFESTS))


def discover(bt, own_address):
    """Token discovery as kubeadm does it: fetch cluster-info without trusting the server, check the token's JWS
    signature and pin the CA by its public key hash; then the cluster's own endpoint must be the one given."""
    token = bt.get("token") or ""
    if not re.fullmatch(r"[a-z0-9]{6}\.[a-z0-9]{16}", token):
        raise StandInError('discovery.bootstrapToken.token: Invalid value: the bootstrap token must be of form "[a-z0-9]{6}.[a-z0-9]{16}"', 1)
    if bt.get("unsafeSkipCAVerification"):
        raise StandInError("discovery.bootstrapToken.unsafeSkipCAVerification: ferry must pin the CA; the stand-in refuses", 2)
    hashes = bt.get("caCertHashes") or []
    if not hashes:
        raise StandInError("discovery.bootstrapToken.caCertHashes: Invalid value: using token-based discovery without caCertHashes can be unsafe", 1)
    endpoint = bt.get("apiServerEndpoint")
    host, _ = host_port(endpoint, "discovery.bootstrapToken.apiServerEndpoint")
    if host == own_address:
        raise StandInError(f"discovery.bootstrapToken.apiServerEndpoint {endpoint} is this node's own address, not the cluster's endpoint", 1)
    tid, secret = token.split(".")
    status, cm = Client(f"https://{endpoint}").request("GET", "/api/v1/namespaces/kube-public/configmaps/cluster-info")
    if status != 200:
        raise StandInError(f"couldn't validate the identity of the API Server: cluster-info: {status} {cm}", 1)
    data = cm["data"]
    sig = data.get(f"jws-kubeconfig-{tid}")
    if sig is None:
        raise StandInError(f'couldn\'t validate the identity of the API Server: could not find a JWS signature in the cluster-info ConfigMap for token ID "{tid}"', 1)
    if sig != jws(secret, data["kubeconfig"]):
        raise StandInError("couldn't validate the identity of the API Server: failed to verify JWS signature of received cluster info object, can't trust this API Server", 1)
    info = json.loads(data["kubeconfig"])
    ca = info["certificate-authority-data"]
    actual = spki_hash(ca)
    if actual not in hashes:
        raise StandInError(f'cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "{actual}" are pinned', 1)
    if info["server"] != f"https://{endpoint}":
        raise StandInError(f"apiServerEndpoint {endpoint} is not the cluster's controlPlaneEndpoint ({info['server']})", 1)
    return ca, Client(f"https://{endpoint}", ca, token=token)

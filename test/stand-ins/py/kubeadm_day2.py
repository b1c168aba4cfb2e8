# kubeadm STAND-IN (ferry tests only): the day-two commands, `kubeadm certs check-expiration|renew` and
# `kubeadm upgrade plan|apply|node`, strict about their arguments (anything else: exit 2).
import os
import subprocess
import time

import yaml

from kubeadm_certs import DONE, check_expiration, renew
from kubeadm_checks import MANIFESTS, preflight
from kubeadm_files import KUBELET_CONFIG
from kubeadm_upgrade import enforce_version_policies, newer, parse_version, version_error
from stand_in import PKI, Client, StandInError, now, read, unknown, version, write

KUBE_DIR = "/etc/kubernetes"
ADMIN = f"{KUBE_DIR}/admin.conf"
UPGRADED = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
NO_ADMIN = (f'couldn\'t create a Kubernetes client from file "{ADMIN}": failed to load admin kubeconfig: '
            f"open {ADMIN}: no such file or directory")


def certs(argv):
    if argv == ["check-expiration"]:
        print(check_expiration(PKI, KUBE_DIR, now()), end="")
        return 0
    if argv[:1] == ["renew"] and len(argv) >= 2 and not any(a.startswith("-") for a in argv[1:]):
        names = argv[1:]
        if "all" in names and len(names) > 1:
            unknown(f"kubeadm certs renew arguments {names}")
        print("[renew] Reading configuration from the cluster...")
        print(renew(names, PKI, KUBE_DIR), end="")
        if names == ["all"]:
            print(DONE, end="")
        return 0
    unknown(f"kubeadm certs arguments {argv}")


def admin_client():
    if not os.path.exists(ADMIN):
        raise StandInError(NO_ADMIN, 1)
    return Client.from_kubeconfig(ADMIN)


def kubelet_versions(client):
    nodes = client.request("GET", "/api/v1/nodes")[1]["items"]
    return sorted({n["status"].get("nodeInfo", {}).get("kubeletVersion", "") for n in nodes} - {""})


def images_for(cluster, target):
    repo = cluster["configuration"]["imageRepository"]
    return [f"{repo}/{c}:{target}" for c in UPGRADED]


def ensure_images(refs):
    """kubeadm's image pre-pull: every control-plane image of the target is in containerd or pullable."""
    r = subprocess.run(["ctr", "-n", "k8s.io", "images", "ls", "-q"], capture_output=True, text=True)
    present = set(r.stdout.split()) if r.returncode == 0 else set()
    errors = []
    for ref in refs:
        if ref in present:
            continue
        p = subprocess.run(["ctr", "-n", "k8s.io", "images", "pull", "--hosts-dir", "/etc/containerd/certs.d", ref],
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            last = (p.stderr.strip().splitlines() or ["pull failed"])[-1]
            errors.append(("ImagePull", f"failed to pull image {ref}: {last}"))
    preflight(errors)


def rewrite_manifests(target):
    """Point the control-plane static pods at the target's images (the kubelet stand-in restarts the API server)."""
    for name in UPGRADED:
        path = f"{MANIFESTS}/{name}.yaml"
        m = yaml.safe_load(read(path))
        c = m["spec"]["containers"][0]
        c["image"] = c["image"].rsplit(":", 1)[0] + f":{target}"
        if name == "kube-apiserver":
            c["command"] = [a for a in c["command"] if not a.startswith("--stand-in-version=")] + [f"--stand-in-version={target}"]
        write(path, yaml.safe_dump(m, sort_keys=False), 0o600)


def local_apiserver():
    m = yaml.safe_load(read(f"{MANIFESTS}/kube-apiserver.yaml"))
    args = dict(a[2:].split("=", 1) for a in m["spec"]["containers"][0]["command"][1:] if a.startswith("--") and "=" in a)
    return f"https://{args['advertise-address']}:{args['secure-port']}"


def wait_version(server, ca, target, seconds=300):
    """kubeadm waits up to 5 minutes (its default upgrade timeout) for each static pod to come back."""
    try:
        Client(server, ca, timeout=3).wait_ready(seconds, "/version", lambda status, data: status == 200 and data.get("gitVersion") == target,
                                                 f"come back at {target}")
    except StandInError as e:
        raise StandInError(f"[upgrade/apply] FATAL: {e}", 1)


def upgrade_control_plane(target, renew_certs):
    if not os.path.exists(f"{MANIFESTS}/kube-apiserver.yaml"):
        raise StandInError(f"{MANIFESTS}/kube-apiserver.yaml: this node is not a control plane", 1)
    if renew_certs:
        renew(["all"], PKI, KUBE_DIR)
    rewrite_manifests(target)
    wait_version(local_apiserver(), read(f"{PKI}/ca.crt"), target)


def parse_flags(args, allowed):
    """Positional arguments and the allowed flags (--name or --name=value) among args; anything else exits 2."""
    positional, flags = [], {}
    for a in args:
        if a.startswith("-"):
            name, _, value = a.partition("=")
            if name not in allowed or (value and allowed[name] is None) or (allowed[name] and value not in allowed[name]):
                unknown(f"flag {a!r}")
            flags[name] = value or "true"
        else:
            positional.append(a)
    return positional, flags


def record_version(client, target, seconds=30):
    """The cluster's new kubernetesVersion, through the endpoint; retried while the restarted API servers settle
    (kubeadm uploads its ClusterConfiguration with retries too: apiclient's CreateOrMutateConfigMap)."""
    deadline = time.time() + seconds
    while True:
        try:
            return client.call("upgrade-cluster", {"kubernetesVersion": target})
        except StandInError:
            if time.time() > deadline:
                raise
            time.sleep(1)


def apply(args):
    positional, flags = parse_flags(args, {"--yes": None, "-y": None, "--certificate-renewal": ("true", "false")})
    if len(positional) != 1:
        raise StandInError("kubeadm upgrade apply takes exactly one version argument", 2)
    if "--yes" not in flags and "-y" not in flags:
        raise StandInError("[upgrade/confirm] the stand-in cannot ask \"Are you sure you want to proceed?\": pass --yes", 2)
    target = positional[0]
    parse_version(target)
    client = admin_client()
    cluster = client.call("cluster")
    current = cluster["kubernetesVersion"]
    print(f'[upgrade/version] You have chosen to change the cluster version to "{target}"')
    print(f"[upgrade/versions] Cluster version: {current}")
    print(f"[upgrade/versions] kubeadm version: v{version()}")
    refusal = version_error(*enforce_version_policies(current, f"v{version()}", target, kubelet_versions(client)))
    if refusal:
        raise StandInError(refusal, 1)
    print("[upgrade/preflight] Pulling images required for setting up a Kubernetes cluster")
    ensure_images(images_for(cluster, target))
    upgrade_control_plane(target, flags.get("--certificate-renewal", "true") == "true")
    record_version(client, target)
    print(f'\n[upgrade] SUCCESS! A control plane node of your cluster was upgraded to "{target}".')
    print("\n[upgrade] Now please proceed with upgrading the rest of the nodes by following the right order.")
    return 0


def node(args):
    _, flags = parse_flags(args, {"--certificate-renewal": ("true", "false")})
    if _:
        raise StandInError(f"kubeadm upgrade node takes no arguments, got {_}", 2)
    control_plane = os.path.exists(f"{MANIFESTS}/kube-apiserver.yaml")
    conf = ADMIN if control_plane else f"{KUBE_DIR}/kubelet.conf"
    if not os.path.exists(conf):
        raise StandInError(f"open {conf}: no such file or directory (this node has not joined a cluster)", 1)
    cluster = Client.from_kubeconfig(conf).call("cluster")
    target, mine = cluster["kubernetesVersion"], f"v{version()}"
    if newer(target, mine):
        raise StandInError(f"kubeadm {mine} is older than the cluster version {target}: upgrade the kubeadm package first", 1)
    if parse_version(mine)[:2] != parse_version(target)[:2]:
        raise StandInError(f'the cluster is still at {target} and this kubeadm is {mine}: run "kubeadm upgrade apply {mine}" on the first '
                           "control plane before \"kubeadm upgrade node\" (STAND-IN: real kubeadm would quietly keep this node at the cluster's version)", 1)
    if control_plane:
        ensure_images(images_for(cluster, target))
        upgrade_control_plane(target, flags.get("--certificate-renewal", "true") == "true")
    write(KUBELET_CONFIG, yaml.safe_dump(cluster["kubeletConfiguration"], sort_keys=False))
    print("[upgrade] The configuration for this node was successfully upgraded!")
    print("[upgrade] Now you should go ahead and upgrade the kubelet package using your package manager.")
    return 0


def plan(args):
    positional, _ = parse_flags(args, {})
    if len(positional) > 1:
        raise StandInError("kubeadm upgrade plan takes at most one version argument", 2)
    client = admin_client()
    cluster = client.call("cluster")
    current, mine = cluster["kubernetesVersion"], f"v{version()}"
    target = positional[0] if positional else mine
    print(f"[upgrade/versions] Cluster version: {current}")
    print(f"[upgrade/versions] kubeadm version: {mine}")
    if not positional:
        print("[upgrade/versions] WARNING: Couldn't fetch latest stable version from the internet (STAND-IN: air-gapped); "
              "falling back to the kubeadm version as the target")
    refusal = version_error(*enforce_version_policies(current, mine, target, kubelet_versions(client)))
    if refusal:
        raise StandInError(refusal, 1)
    nodes = client.request("GET", "/api/v1/nodes")[1]["items"]
    rows = [("COMPONENT", "NODE", "CURRENT", "TARGET")]
    rows += [("kubelet", n["metadata"]["name"], n["status"]["nodeInfo"]["kubeletVersion"], target) for n in nodes]
    rows += [(c, "", current, target) for c in UPGRADED]
    width = [max(len(r[i]) for r in rows) + 3 for i in range(3)]
    print("\nUpgrade to the latest version in the v%d.%d series:\n" % parse_version(target)[:2])
    for r in rows:
        print("".join(c.ljust(width[i]) for i, c in enumerate(r[:3])) + r[3])
    print(f"\nYou can now apply the upgrade by executing the following command:\n\n\tkubeadm upgrade apply {target}\n")
    return 0


def upgrade(argv):
    if argv[:1] == ["plan"]:
        return plan(argv[1:])
    if argv[:1] == ["apply"]:
        return apply(argv[1:])
    if argv[:1] == ["node"]:
        return node(argv[1:])
    unknown(f"kubeadm upgrade arguments {argv}")

# kubeadm STAND-IN (ferry tests only): `kubeadm upgrade plan|apply <v>|node` with kubeadm's version-skew rules.
#
# The rules are kubeadm's EnforceVersionPolicies (cmd/kubeadm/app/phases/upgrade/policy.go,
# https://github.com/kubernetes/kubernetes/blob/master/cmd/kubeadm/app/phases/upgrade/policy.go): at most one minor
# up or down from the cluster version; not above kubeadm's own minor; above kubeadm's patch only with --force; a
# kubeadm newer by a minor cannot target an older minor; kubelets more than one minor behind the target refuse the
# upgrade. The error wording is cmd/kubeadm/app/cmd/upgrade/common.go's. The order (apply on the first control plane,
# then `upgrade node` on the others, then workers; kubelet never newer than the API server) is kubeadm's upgrade page,
# https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/, and the version skew policy,
# https://kubernetes.io/releases/version-skew-policy/#kubelet. The stand-in accepts no --force: ferry never forces.
import re

from stand_in import StandInError

MAX_MINOR_SKEW = 1


def parse_version(text):
    """(major, minor, patch, pre-release) of v1.33.1 or 1.33.1-rc.0."""
    m = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?", text or "")
    if not m:
        raise StandInError(f'could not parse "{text}" as version', 1)
    return int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4) or ""


def newer(a, b):
    """a > b for released versions (pre-releases sort before their release)."""
    pa, pb = parse_version(a), parse_version(b)
    if pa[:3] != pb[:3]:
        return pa[:3] > pb[:3]
    return pa[3] != pb[3] and (pa[3] == "" or (pb[3] != "" and pa[3] > pb[3]))


def enforce_version_policies(cluster, kubeadm, new, kubelets):
    """(mandatory, skippable) errors for upgrading a cluster at `cluster` to `new` with this kubeadm."""
    c, k, n = parse_version(cluster), parse_version(kubeadm), parse_version(new)
    mandatory, skippable = [], []
    release = n[3] == ""
    bucket = lambda: mandatory if release else skippable
    if n[1] > c[1] + MAX_MINOR_SKEW:
        bucket().append(f'Specified version to upgrade to "{new}" is too high; kubeadm can upgrade only {MAX_MINOR_SKEW} minor version at a time')
    if n[1] < c[1] - MAX_MINOR_SKEW:
        bucket().append(f'Specified version to downgrade to "{new}" is too low; kubeadm can downgrade only {MAX_MINOR_SKEW} minor version at a time')
    if newer(new, kubeadm):
        if n[1] > k[1]:
            bucket().append(f'Specified version to upgrade to "{new}" is at least one minor release higher than the kubeadm minor release ({n[1]} > {k[1]}). Such an upgrade is not supported')
        else:
            skippable.append(f'Specified version to upgrade to "{new}" is higher than the kubeadm version "{kubeadm}". Upgrade kubeadm first using the tool you used to install kubeadm')
    if k[0] > n[0] or k[1] > n[1]:
        skippable.append(f"Kubeadm version {kubeadm} can only be used to upgrade to Kubernetes version {k[0]}.{k[1]}")
    if not release:
        skippable.append(f'Specified version to upgrade to "{new}" is an unstable version and such upgrades weren\'t allowed via setting the --allow-*-upgrades flags')
    old = sorted({v for v in kubelets if n[1] > parse_version(v)[1] + MAX_MINOR_SKEW})
    if old:
        skippable.append(f"There are kubelets in this cluster that are too old that have these versions [{' '.join(old)}]")
    return mandatory, skippable


def version_error(mandatory, skippable):
    """kubeadm's refusal text for the errors, or None."""
    fmt = lambda errs: "".join(f"\t- {e}\n" for e in errs)
    if mandatory:
        return ("[upgrade/version] FATAL: the version argument is invalid due to these fatal errors:\n\n" + fmt(mandatory) +
                "\nPlease fix the misalignments highlighted above and try upgrading again")
    if skippable:
        return ("[upgrade/version] FATAL: the version argument is invalid due to these errors:\n\n" + fmt(skippable) +
                "\nCan be bypassed if you pass the --force flag (the stand-in takes no --force: ferry never forces)")
    return None


def kubelet_skew(kubelet, apiserver):
    """The version skew policy's kubelet rule: never newer than kube-apiserver, at most three minors older."""
    k, a = parse_version(kubelet), parse_version(apiserver)
    if newer(kubelet, apiserver):
        return f"kubelet {kubelet} is newer than kube-apiserver {apiserver}: the version skew policy does not allow it"
    if a[1] - k[1] > 3:
        return f"kubelet {kubelet} is more than three minor versions older than kube-apiserver {apiserver}"
    return None

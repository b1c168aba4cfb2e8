# kube-apiserver STAND-IN (ferry tests only): the eviction subresource's PodDisruptionBudget decision, as the real
# one makes it (pkg/registry/core/pod/storage/eviction.go and pkg/controller/disruption/disruption.go,
# https://github.com/kubernetes/kubernetes/tree/master/pkg/registry/core/pod/storage/eviction.go): more than one
# budget for a pod → 500; a budget with no disruption left → 429 "Cannot evict pod as it would violate the pod's
# disruption budget."; minAvailable / maxUnavailable as integers or percentages (rounded up). Only
# `selector.matchLabels` is understood (anything else: exit 2 at apply time, see check_pdb).
import math

from stand_in import StandInError

VIOLATES = "Cannot evict pod as it would violate the pod's disruption budget."
MULTIPLE = "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."


def check_pdb(o):
    """Refuse (exit 2) a PodDisruptionBudget the stand-in would misjudge."""
    if o.get("apiVersion") != "policy/v1":
        raise StandInError(f"PodDisruptionBudget {o['metadata']['name']}: the stand-in knows policy/v1 only", 2)
    spec = o.get("spec") or {}
    unknown = set(spec) - {"minAvailable", "maxUnavailable", "selector"}
    selector = spec.get("selector") or {}
    if unknown or set(selector) - {"matchLabels"} or not selector.get("matchLabels"):
        raise StandInError(f"PodDisruptionBudget {o['metadata']['name']}: the stand-in understands minAvailable|maxUnavailable and selector.matchLabels only", 2)
    if ("minAvailable" in spec) == ("maxUnavailable" in spec):
        raise StandInError(f"PodDisruptionBudget {o['metadata']['name']}: exactly one of minAvailable and maxUnavailable", 2)


def matches(pdb, pod):
    if (pdb["metadata"].get("namespace") or "default") != pod["metadata"]["namespace"]:
        return False
    labels = pod["metadata"].get("labels") or {}
    return all(labels.get(k) == v for k, v in pdb["spec"]["selector"]["matchLabels"].items())


def healthy(pod):
    return pod["status"].get("phase") == "Running" and any(
        c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))


def scaled(value, total):
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(int(value[:-1]) * total / 100)
    return int(value)


def eviction_refusal(pod, pdbs, pods):
    """None when the pod may be evicted, else (HTTP status, message) as the eviction subresource answers."""
    mine = [p for p in pdbs if matches(p, pod)]
    if len(mine) > 1:
        return 500, MULTIPLE
    if not mine:
        return None
    spec = mine[0]["spec"]
    selected = [p for p in pods if matches(mine[0], p)]
    current = sum(1 for p in selected if healthy(p))
    if "minAvailable" in spec:
        desired = scaled(spec["minAvailable"], len(selected))
    else:
        desired = len(selected) - scaled(spec["maxUnavailable"], len(selected))
    if current - desired <= 0:
        return 429, VIOLATES
    return None

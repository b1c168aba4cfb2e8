# kubectl STAND-IN (ferry tests only): `kubectl cordon|uncordon NODE` and `kubectl drain NODE` with kubectl's flags,
# filters and messages (staging/src/k8s.io/kubectl/pkg/drain/{drain,filters,cordon}.go and pkg/cmd/drain/drain.go,
# https://github.com/kubernetes/kubernetes/tree/master/staging/src/k8s.io/kubectl/pkg/drain): DaemonSet pods need
# --ignore-daemonsets, emptyDir pods --delete-emptydir-data, pods without a controller --force; mirror pods are
# skipped; an eviction a PodDisruptionBudget refuses (429) is retried every 5 s until --timeout. The stand-in wants
# --timeout on every drain (kubectl's default, 0, waits forever; ferry always bounds it).
import re
import sys
import time

from stand_in import StandInError, unknown

DAEMONSET_FATAL = "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
DAEMONSET_WARNING = "ignoring DaemonSet-managed Pods"
LOCAL_STORAGE_FATAL = "Pods with local storage (use --delete-emptydir-data to override)"
UNMANAGED_FATAL = "cannot delete Pods that declare no controller (use --force to override)"
RETRY_S = 5


def parse_duration(text):
    """Seconds of a Go duration (1h2m3s, 90s, 1.5m); exit 2 like kubectl's flag parsing otherwise."""
    m = re.fullmatch(r"((?:\d+(?:\.\d+)?(?:h|m|s|ms))+)|0", text or "")
    if not m:
        raise StandInError(f'invalid argument "{text}" for "--timeout" flag: time: invalid duration "{text}"', 2)
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text))


def go_duration(seconds):
    """Go's time.Duration.String for whole seconds: 30s, 2m0s, 1h0m5s."""
    s = int(seconds)
    h, m, s = s // 3600, s % 3600 // 60, s % 60
    if h:
        return f"{h}h{m}m{s}s"
    if m:
        return f"{m}m{s}s"
    return f"{s}s"


def cordon(client, node, on):
    changed = client.call("node-cordon", {"name": node, "unschedulable": on})["changed"]
    word = "cordoned" if on else "uncordoned"
    print(f"node/{node} {word}" if changed else f"node/{node} already {word}")


def classify(pod, flags):
    """kubectl's filters in their order: (delete?, warning or None, error or None)."""
    meta, status = pod["metadata"], pod["status"]
    finished = status.get("phase") in ("Succeeded", "Failed")
    owner = next(iter(meta.get("ownerReferences") or []), None)
    if owner and owner["kind"] == "DaemonSet" and not finished:
        if not flags["ignore-daemonsets"]:
            return False, None, DAEMONSET_FATAL
        return False, DAEMONSET_WARNING, None
    if "kubernetes.io/config.mirror" in (meta.get("annotations") or {}):
        return False, None, None
    if any("emptyDir" in v for v in pod["spec"].get("volumes") or []) and not finished and not flags["delete-emptydir-data"]:
        return False, None, LOCAL_STORAGE_FATAL
    if owner is None and not finished and not flags["force"]:
        return False, None, UNMANAGED_FATAL
    return True, None, None


def parse_drain(args):
    flags = {"ignore-daemonsets": False, "delete-emptydir-data": False, "force": False, "timeout": None}
    nodes, i = [], 0
    while i < len(args):
        a = args[i]
        name, eq, value = a.partition("=")
        if name in ("--ignore-daemonsets", "--delete-emptydir-data", "--force"):
            if eq and value not in ("true", "false"):
                raise StandInError(f'invalid argument "{value}" for "{name}" flag: strconv.ParseBool: parsing "{value}": invalid syntax', 2)
            flags[name[2:]] = value != "false"
        elif name == "--timeout":
            if not eq:
                if i + 1 >= len(args):
                    raise StandInError("flag needs an argument: --timeout", 2)
                value, i = args[i + 1], i + 1
            flags["timeout"] = parse_duration(value)
        elif a.startswith("-"):
            unknown(f"flag {a!r}")
        else:
            nodes.append(a)
        i += 1
    if len(nodes) != 1:
        raise StandInError("error: USAGE: drain NODE [flags] (the stand-in drains one node per call)", 2)
    if flags["timeout"] is None:
        raise StandInError("the stand-in wants --timeout on every drain (kubectl's default 0 waits forever)", 2)
    return nodes[0], flags


def evict(client, pod, deadline, timeout):
    """Evict one pod, retrying a PodDisruptionBudget refusal every 5 s; an error text or None."""
    ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    while True:
        print(f"evicting pod {ns}/{name}")
        if time.time() >= deadline:
            return f'error when evicting pods/"{name}" -n "{ns}": global timeout reached: {go_duration(timeout)}'
        status, data = client.request("POST", "/stand-in/evict", {"namespace": ns, "name": name})
        message = data.get("message", data) if isinstance(data, dict) else data
        if status < 300 or status == 404:
            print(f"pod/{name} evicted")
            return None
        if status != 429:
            return f'error when evicting pods/"{name}" -n "{ns}": {message}'
        print(f'error when evicting pods/"{name}" -n "{ns}" (will retry after {RETRY_S}s): {message}', file=sys.stderr, flush=True)
        time.sleep(max(0, min(RETRY_S, deadline - time.time())))


def drain(client, args):
    node, flags = parse_drain(args)
    deadline = time.time() + flags["timeout"] if flags["timeout"] else float("inf")
    cordon(client, node, True)
    pods = [p for p in client.request("GET", "/api/v1/pods")[1]["items"] if p["spec"].get("nodeName") == node]
    doomed, warnings, errors = [], {}, {}
    for p in pods:
        delete, warning, error = classify(p, flags)
        ref = f'{p["metadata"]["namespace"]}/{p["metadata"]["name"]}'
        if warning:
            warnings.setdefault(warning, []).append(ref)
        if error:
            errors.setdefault(error, []).append(ref)
        if delete:
            doomed.append(p)
    failure = None
    if errors:
        failure = ", ".join(f"{m}: {', '.join(r)}" if m.lower().startswith("cannot delete") else f"cannot delete {m}: {', '.join(r)}"
                            for m, r in errors.items())
    else:
        if warnings:
            print("Warning: " + "; ".join(f"{m}: {', '.join(r)}" for m, r in warnings.items()), file=sys.stderr)
        failures = [e for e in (evict(client, p, deadline, flags["timeout"]) for p in doomed) if e]
        failure = ", ".join(failures) if failures else None
    if failure:
        print(f'error: unable to drain node "{node}" due to error: {failure}, continuing command...', file=sys.stderr)
        print(f"There are pending nodes to be drained:\n {node}", file=sys.stderr)
        raise StandInError(failure, 1)
    print(f"node/{node} drained")
    return 0

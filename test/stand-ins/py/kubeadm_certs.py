# kubeadm STAND-IN (ferry tests only): `kubeadm certs check-expiration` printed in kubeadm's text format, computed
# from the real certificate files' notAfter, and `kubeadm certs renew all|<name>` re-issuing them with openssl
# (same subject, SANs and CA; one year from now, as kubeadm does).
#
# Format: kubeadm's cmd/kubeadm/app/cmd/certs.go, certTextPrinter.PrintObj
# (https://github.com/kubernetes/kubernetes/blob/master/cmd/kubeadm/app/cmd/certs.go): a tabwriter with minwidth 10,
# tabwidth 4, padding 3; rows "%s\t%s\t%s\t%s\t%-8v"; dates "Jan 02, 2006 15:04 MST"; residual time by
# apimachinery's duration.ShortHumanDuration (https://github.com/kubernetes/apimachinery/blob/master/pkg/util/duration/duration.go);
# a missing file is "!MISSING! <name>". Names, files and CAs: the table kubeadm prints (kubernetes.io,
# https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-certs/#check-certificate-expiration).
import base64
import calendar
import os
import subprocess
import tempfile
import time

import yaml

from stand_in import StandInError, b64, read, write

# (name as kubeadm prints it, file under KUBE_DIR or PKI, CA name, kubeadm's long name for `renew`)
CERTS = [
    ("admin.conf", "conf", "admin.conf", "ca", "certificate embedded in the kubeconfig file for the admin to use and for kubeadm itself"),
    ("apiserver", "pki", "apiserver", "ca", "certificate for serving the Kubernetes API"),
    ("apiserver-etcd-client", "pki", "apiserver-etcd-client", "etcd-ca", "certificate the apiserver uses to access etcd"),
    ("apiserver-kubelet-client", "pki", "apiserver-kubelet-client", "ca", "certificate for the API server to connect to kubelet"),
    ("controller-manager.conf", "conf", "controller-manager.conf", "ca", "certificate embedded in the kubeconfig file for the controller manager to use"),
    ("etcd-healthcheck-client", "pki", "etcd/healthcheck-client", "etcd-ca", "certificate for liveness probes to healthcheck etcd"),
    ("etcd-peer", "pki", "etcd/peer", "etcd-ca", "certificate for etcd nodes to communicate with each other"),
    ("etcd-server", "pki", "etcd/server", "etcd-ca", "certificate for serving etcd"),
    ("front-proxy-client", "pki", "front-proxy-client", "front-proxy-ca", "certificate for the front proxy client"),
    ("scheduler.conf", "conf", "scheduler.conf", "ca", "certificate embedded in the kubeconfig file for the scheduler manager to use"),
    ("super-admin.conf", "conf", "super-admin.conf", "ca", "certificate embedded in the kubeconfig file for the super-admin"),
]
CAS = [("ca", "ca"), ("etcd-ca", "etcd/ca"), ("front-proxy-ca", "front-proxy-ca")]
LEAF_DAYS = 365
HEADER = ('[check-expiration] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...\n'
          "[check-expiration] Use 'kubeadm init phase upload-config --config your-config-file' to re-upload it.\n\n")


def short_human_duration(seconds):
    """apimachinery's duration.ShortHumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 60:
        return f"{s}s"
    if s // 60 < 60:
        return f"{s // 60}m"
    hours = s // 3600
    if hours < 24:
        return f"{hours}h"
    if hours < 24 * 365:
        return f"{hours // 24}d"
    return f"{int(s / 3600 / 24 / 365)}y"


def tabwrite(rows, minwidth=10, padding=3):
    """Go's text/tabwriter for one block: every cell but the last of a row is padded to its column's width."""
    widths = {}
    for cells in rows:
        for i, c in enumerate(cells[:-1]):
            widths[i] = max(widths.get(i, minwidth), len(c) + padding)
    return "".join("".join(c.ljust(widths[i]) for i, c in enumerate(cells[:-1])) + cells[-1] + "\n" for cells in rows)


def not_after(pem):
    """Seconds since the epoch of a PEM certificate's notAfter, read by openssl."""
    r = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-dateopt", "iso_8601"], input=pem.encode(), capture_output=True)
    if r.returncode != 0:
        raise StandInError(f"failed to parse certificate: {r.stderr.decode().strip()}", 1)
    text = r.stdout.decode().strip().split("=", 1)[1]  # 2027-12-07 04:40:00Z
    return calendar.timegm(time.strptime(text, "%Y-%m-%d %H:%M:%SZ"))


def cert_pem(kind, rel, pki, kube_dir):
    """The certificate of one entry: a PKI file or a kubeconfig's embedded client certificate; None when missing."""
    if kind == "pki":
        path = f"{pki}/{rel}.crt"
        return read(path) if os.path.exists(path) else None
    path = f"{kube_dir}/{rel}"
    if not os.path.exists(path):
        return None
    user = yaml.safe_load(read(path))["users"][0]["user"]
    return base64.b64decode(user["client-certificate-data"]).decode()


def date(t):
    return time.strftime("%b %d, %Y %H:%M UTC", time.gmtime(t))


def check_expiration(pki, kube_dir, now):
    """The full text of `kubeadm certs check-expiration` for the files under pki and kube_dir."""
    rows = [["CERTIFICATE", "EXPIRES", "RESIDUAL TIME", "CERTIFICATE AUTHORITY", "EXTERNALLY MANAGED"]]
    for name, kind, rel, ca, _ in CERTS:
        pem = cert_pem(kind, rel, pki, kube_dir)
        if pem is None:
            rows.append([f"!MISSING! {name}", "", "", "", ""])
            continue
        end = not_after(pem)
        rows.append([name, date(end), short_human_duration(end - now), ca, "no".ljust(8)])
    ca_rows = [["CERTIFICATE AUTHORITY", "EXPIRES", "RESIDUAL TIME", "EXTERNALLY MANAGED"]]
    for name, rel in CAS:
        path = f"{pki}/{rel}.crt"
        if not os.path.exists(path):
            ca_rows.append([f"!MISSING! {name}", "", "", ""])
            continue
        end = not_after(read(path))
        ca_rows.append([name, date(end), short_human_duration(end - now), "no".ljust(8)])
    return HEADER + tabwrite(rows) + "\n" + tabwrite(ca_rows)


def reissue(cert, key, ca_cert, ca_key, days=LEAF_DAYS):
    """A new certificate for the same key, subject and extensions, signed by the CA, valid `days` from now."""
    with tempfile.TemporaryDirectory() as d:
        write(f"{d}/old.crt", cert)
        write(f"{d}/key", key, 0o600)
        run = lambda *a: subprocess.run(["openssl", *a], capture_output=True, text=True)
        r = run("x509", "-x509toreq", "-in", f"{d}/old.crt", "-key", f"{d}/key", "-copy_extensions", "copyall", "-out", f"{d}/req")
        if r.returncode == 0:
            r = run("x509", "-req", "-in", f"{d}/req", "-CA", ca_cert, "-CAkey", ca_key, "-days", str(days), "-set_serial",
                    "0x" + os.urandom(16).hex(), "-copy_extensions", "copyall", "-out", f"{d}/new.crt")
        if r.returncode != 0:
            raise StandInError(f"renewing the certificate failed: {r.stderr.strip()}", 1)
        return read(f"{d}/new.crt")


def renew(names, pki, kube_dir):
    """`kubeadm certs renew`: each named entry (all = every one present) re-issued by its CA; kubeadm's lines."""
    known = {c[0]: c for c in CERTS}
    if names == ["all"]:
        chosen = [c for c in CERTS if cert_pem(c[1], c[2], pki, kube_dir) is not None]
    else:
        for n in names:
            if n not in known:
                raise StandInError(f'unknown command "{n}" for "kubeadm certs renew"', 2)
        chosen = [known[n] for n in names]
    out = []
    cas = dict(CAS)
    for name, kind, rel, ca, long_name in chosen:
        ca_cert, ca_key = f"{pki}/{cas[ca]}.crt", f"{pki}/{cas[ca]}.key"
        if not os.path.exists(ca_key):
            raise StandInError(f"{long_name}: the CA key {ca_key} is missing (an external CA is not renewed by kubeadm)", 1)
        pem = cert_pem(kind, rel, pki, kube_dir)
        if pem is None:
            raise StandInError(f"{long_name}: {rel} does not exist", 1)
        if kind == "pki":
            write(f"{pki}/{rel}.crt", reissue(pem, read(f"{pki}/{rel}.key"), ca_cert, ca_key))
        else:
            path = f"{kube_dir}/{rel}"
            doc = yaml.safe_load(read(path))
            user = doc["users"][0]["user"]
            key = base64.b64decode(user["client-key-data"]).decode()
            user["client-certificate-data"] = b64(reissue(pem, key, ca_cert, ca_key))
            write(path, yaml.safe_dump(doc, sort_keys=False), 0o600)
        out.append(f"{long_name} renewed")
    return "\n".join(out) + "\n"


DONE = ("\nDone renewing certificates. You must restart the kube-apiserver, kube-controller-manager, kube-scheduler and etcd, "
        "so that they can use the new certificates.\n")

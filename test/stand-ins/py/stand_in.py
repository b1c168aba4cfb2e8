# STAND-IN support shared by the kubeadm, kubelet, kubectl and kube-apiserver stand-ins (ferry tests only; never
# part of the product): the call log, strict YAML decoding, X.509 with openssl, kubeconfigs and the client of
# the stand-in API server.
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import time

import yaml

from fields import KINDS

CALLS_LOG = "/var/log/ferry-stand-in/calls.jsonl"
LIB = os.path.dirname(os.path.realpath(__file__))
PKI = "/etc/kubernetes/pki"
CLOCK_OFFSET_FILE = "/var/lib/ferry-stand-in/clock-offset"
# The transient systemd unit the kubelet stand-in runs the kube-apiserver stand-in in (systemd-run --collect): its
# own cgroup, outside kubelet.service, as a real static pod's container lives under its containerd shim.
APISERVER_UNIT = "ferry-stand-in-kube-apiserver.service"


class StandInError(Exception):
    """A refusal: message for stderr and the exit code (2 = not understood, 1 = understood but failed)."""

    def __init__(self, message, code=1):
        super().__init__(message)
        self.code = code


def version():
    with open(os.path.join(LIB, "VERSION")) as f:
        return f.read().strip()


def now():
    """The stand-ins' clock: real time plus an offset (env FERRY_STAND_IN_CLOCK_OFFSET or CLOCK_OFFSET_FILE, seconds),
    so a test can make uploaded certificates 2 h old without waiting."""
    offset = os.environ.get("FERRY_STAND_IN_CLOCK_OFFSET")
    if offset is None and os.path.exists(CLOCK_OFFSET_FILE):
        with open(CLOCK_OFFSET_FILE) as f:
            offset = f.read().strip()
    return time.time() + float(offset or 0)


def log_call(tool, argv, code, started):
    os.makedirs(os.path.dirname(CALLS_LOG), exist_ok=True)
    # A bootstrap token's secret half never reaches the log (kubeadm token create/delete may carry one).
    logged = [re.sub(r"\b([a-z0-9]{6})\.[a-z0-9]{16}\b", r"\1.<redacted>", a) for a in argv]
    line = json.dumps({"tool": tool, "argv": logged, "time": started, "exit": code, "pid": os.getpid()})
    with open(CALLS_LOG, "a") as f:
        f.write(line + "\n")


def run_main(tool, main):
    """Run a stand-in's main(argv): refusals go to stderr with their exit code; every call is logged."""
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    argv = sys.argv[1:]
    try:
        code = main(argv) or 0
    except StandInError as e:
        print(f"{tool} (STAND-IN): {e}", file=sys.stderr)
        code = e.code
    except KeyboardInterrupt:
        code = 130
    log_call(tool, argv, code, started)
    sys.exit(code)


def unknown(what):
    raise StandInError(f"unknown {what}", 2)


def strict_check(obj, schema, path=""):
    """Refuse (exit 2) any field the schema does not list, the way kubeadm's strict decoding does."""
    if schema is None:
        return
    if isinstance(schema, list):
        if obj is None:
            return
        if not isinstance(obj, list):
            raise StandInError(f'strict decoding error: field "{path}" must be a list', 2)
        for i, item in enumerate(obj):
            strict_check(item, schema[0], f"{path}[{i}]")
        return
    if obj is None:
        return
    if not isinstance(obj, dict):
        raise StandInError(f'strict decoding error: field "{path}" must be an object', 2)
    for key, value in obj.items():
        where = f"{path}.{key}" if path else key
        if key not in schema:
            raise StandInError(f'strict decoding error: unknown field "{where}"', 2)
        strict_check(value, schema[key], where)


def load_config(path):
    """Read a multi-document kubeadm config; every document must be a known apiVersion/kind with known fields."""
    try:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
    except OSError as e:
        raise StandInError(f"unable to read config from {path!r}: {e.strerror}", 1)
    except yaml.YAMLError as e:
        raise StandInError(f"error converting YAML to JSON: {e}", 2)
    out = {}
    for doc in docs:
        key = (doc.get("apiVersion"), doc.get("kind")) if isinstance(doc, dict) else None
        if key not in KINDS:
            raise StandInError(f"unknown configuration apiVersion/kind {key!r} in {path}", 2)
        if key[1] in out:
            raise StandInError(f"{key[1]} appears twice in {path}", 2)
        strict_check(doc, KINDS[key])
        out[key[1]] = doc
    return out


def openssl(*args, stdin=None):
    r = subprocess.run(["openssl", *args], input=stdin, capture_output=True)
    if r.returncode != 0:
        raise StandInError(f"openssl {args[0]} failed: {r.stderr.decode().strip()}", 1)
    return r.stdout


def make_ca(cert, key, cn):
    """A self-signed CA, RSA 2048 as kubeadm's default encryptionAlgorithm."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "3650",
            "-subj", f"/CN={cn}", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature,keyEncipherment")
    os.chmod(key, 0o600)


def make_leaf(cert, key, ca_cert, ca_key, cn, org=None, sans=()):
    """A certificate signed by the CA (ECDSA P-256 for speed: the stand-ins create many)."""
    subj = (f"/O={org}" if org else "") + f"/CN={cn}"
    args = ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
            "-x509", "-CA", ca_cert, "-CAkey", ca_key, "-days", "365", "-subj", subj,
            "-addext", "basicConstraints=critical,CA:FALSE"]
    if sans:
        args += ["-addext", "subjectAltName=" + ",".join(("IP:" if is_ip(s) else "DNS:") + s for s in sans)]
    openssl(*args)
    os.chmod(key, 0o600)


def is_ip(text):
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in text else socket.AF_INET, text)
        return True
    except OSError:
        return False


def spki_hash(ca_pem):
    """sha256:<hex> of the DER SubjectPublicKeyInfo: what kubeadm pins with caCertHashes."""
    pub = openssl("x509", "-pubkey", "-noout", stdin=ca_pem.encode())
    der = openssl("pkey", "-pubin", "-outform", "DER", stdin=pub)
    return "sha256:" + hashlib.sha256(der).hexdigest()


def jws(secret, payload):
    """Stand-in for the cluster-info JWS signature: HMAC-SHA256 of the kubeconfig with the token secret."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def b64(text):
    return base64.b64encode(text.encode()).decode()


def read(path):
    with open(path) as f:
        return f.read()


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def kubeconfig(server, ca_pem, user, cert_pem, key_pem, cluster="kubernetes"):
    doc = {
        "apiVersion": "v1", "kind": "Config", "current-context": f"{user}@{cluster}", "preferences": {},
        "clusters": [{"name": cluster, "cluster": {"server": server, "certificate-authority-data": b64(ca_pem)}}],
        "contexts": [{"name": f"{user}@{cluster}", "context": {"cluster": cluster, "user": user}}],
        "users": [{"name": user, "user": {"client-certificate-data": b64(cert_pem), "client-key-data": b64(key_pem)}}],
    }
    return yaml.safe_dump(doc, sort_keys=False)


class Client:
    """HTTPS client of the stand-in API server: CA-verified, with a client certificate or a bearer token."""

    def __init__(self, server, ca_pem=None, cert_pem=None, key_pem=None, token=None, timeout=10):
        if not server.startswith("https://"):
            raise StandInError(f"server {server!r} must be https://HOST:PORT", 2)
        self.hostport = server[len("https://"):].rstrip("/")
        self.token = token
        self.timeout = timeout
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        if ca_pem is None:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        else:
            ctx.load_verify_locations(cadata=ca_pem)
        if cert_pem:
            with tempfile.TemporaryDirectory() as d:
                write(f"{d}/c", cert_pem)
                write(f"{d}/k", key_pem, 0o600)
                ctx.load_cert_chain(f"{d}/c", f"{d}/k")
        self.ctx = ctx

    @staticmethod
    def from_kubeconfig(path, server=None):
        try:
            doc = yaml.safe_load(read(path))
        except OSError as e:
            raise StandInError(f"stat {path}: {e.strerror}", 1)
        cluster = doc["clusters"][0]["cluster"]
        user = doc["users"][0]["user"]
        dec = lambda s: base64.b64decode(s).decode()
        return Client(server or cluster["server"], dec(cluster["certificate-authority-data"]),
                      dec(user["client-certificate-data"]), dec(user["client-key-data"]))

    def request(self, method, path, body=None):
        """(status, parsed JSON or text); raises StandInError when the server cannot be reached."""
        host, port = self.hostport.rsplit(":", 1)
        conn = http.client.HTTPSConnection(host.strip("[]"), int(port), context=self.ctx, timeout=self.timeout)
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
            resp = conn.getresponse()
            data = resp.read().decode()
        except (OSError, ssl.SSLError, http.client.HTTPException) as e:
            raise StandInError(f"Get \"https://{self.hostport}{path}\": {e}", 1)
        finally:
            conn.close()
        try:
            return resp.status, json.loads(data)
        except ValueError:
            return resp.status, data

    def call(self, op, body=None):
        """POST /stand-in/<op>; a non-2xx answer becomes a StandInError with the server's message."""
        status, data = self.request("POST", f"/stand-in/{op}", body or {})
        if status >= 300:
            message = data.get("message", data) if isinstance(data, dict) else data
            raise StandInError(str(message), 1)
        return data

    def wait_ready(self, seconds, path="/readyz", accept=lambda status, data: status == 200, what="become ready"):
        """Poll GET path until accept(status, data) holds; StandInError naming the last answer after `seconds`."""
        deadline = time.time() + seconds
        last = "no answer"
        while time.time() < deadline:
            try:
                status, data = self.request("GET", path)
                if accept(status, data):
                    return
                last = f"{status} {data}"
            except StandInError as e:
                last = str(e)
            time.sleep(0.5)
        raise StandInError(f"the API server at {self.hostport} did not {what} within {seconds}s: {last}", 1)


def node_ready_condition(runtime_ok, cni_ok, at):
    """The node's Ready condition as the kubelet reports it (NetworkReady needs a CNI config)."""
    if runtime_ok and cni_ok:
        return {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status", "lastHeartbeatTime": at}
    if not runtime_ok:
        return {"type": "Ready", "status": "False", "reason": "ContainerRuntimeNotReady", "message": "container runtime is down", "lastHeartbeatTime": at}
    return {"type": "Ready", "status": "False", "reason": "NetworkPluginNotReady",
            "message": "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized",
            "lastHeartbeatTime": at}


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))

# ferry doctor probe agent: runs on every node at once for a bounded time, then prints one JSON line.
# It listens (raw IP protocol 4, one UDP port, TCP ports that are free) and sends to every peer, so each
# direction of each pair is tested from both ends in one round trip. Everything it opens is closed on exit;
# it exits by its own deadline whatever happens. CONFIG (base64 JSON) is prepended by ferry.
import base64, errno, json, os, selectors, socket, struct, sys, time

cfg = json.loads(base64.b64decode(CONFIG))
run = cfg["run"].encode()
me = cfg["me"]
deadline = time.monotonic() + cfg["durationMs"] / 1000.0
MARK = b"ferry-probe "
result = {"host": me, "ipipFrom": [], "udpFrom": [], "listen": {}, "tcp": {}, "sendErrors": {}, "errors": []}
sel = selectors.DefaultSelector()
opened = []


def note(kind, key, value):
    result[kind][key] = value


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def inner_packet(src_index, dst_index, payload):
    # An inner IPv4/UDP packet between test addresses in 198.18.0.0/15, which never clash with real networks.
    src = socket.inet_aton("198.18.%d.%d" % (src_index // 250, src_index % 250 + 1))
    dst = socket.inet_aton("198.19.%d.%d" % (dst_index // 250, dst_index % 250 + 1))
    udp = struct.pack("!HHHH", 40000, 40000, 8 + len(payload), 0) + payload
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0, src, dst)
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    return hdr + udp


def message():
    return MARK + run + b" " + me.encode()


def sender_of(payload):
    # "ferry-probe RUN NAME" -> NAME when RUN is ours.
    if not payload.startswith(MARK):
        return None
    parts = payload[len(MARK):].split(b" ")
    if len(parts) != 2 or parts[0] != run:
        return None
    return parts[1].decode(errors="replace")


def open_socket(factory, what):
    try:
        s = factory()
        opened.append(s)
        return s
    except OSError as e:
        result["errors"].append("%s: %s" % (what, e.strerror or e))
        return None


raw = None
if cfg.get("ipip"):
    raw = open_socket(lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, 4), "raw socket for protocol 4")
    if raw:
        raw.setblocking(False)
        sel.register(raw, selectors.EVENT_READ, ("raw", None))

udp = None
if cfg.get("udpPort"):
    def make_udp():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", cfg["udpPort"]))
        return s
    udp = open_socket(make_udp, "UDP port %d" % cfg["udpPort"])
    if udp:
        udp.setblocking(False)
        sel.register(udp, selectors.EVENT_READ, ("udp", None))

for port in cfg.get("listen", []):
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        opened.append(s)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        s.listen(128)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, ("listen", port))
        note("listen", str(port), "bound")
    except OSError as e:
        note("listen", str(port), "in-use" if e.errno == errno.EADDRINUSE else "error: %s" % e.strerror)

pending = {}
for c in cfg.get("connect", []):
    pending["%s:%d" % (c["to"], c["port"])] = {"to": c["to"], "address": c["address"], "port": c["port"], "sock": None, "started": 0.0, "buf": b"", "connected": False, "last": "timeout"}


def start_connect(key, st):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    opened.append(s)
    s.setblocking(False)
    st["sock"], st["started"], st["buf"], st["connected"] = s, time.monotonic(), b"", False
    rc = s.connect_ex((st["address"], st["port"]))
    if rc not in (0, errno.EINPROGRESS):
        finish_attempt(key, st, "refused" if rc == errno.ECONNREFUSED else "error: %s" % os.strerror(rc))
        return
    sel.register(s, selectors.EVENT_WRITE, ("connect", key))


def finish_attempt(key, st, outcome, final=False):
    s = st["sock"]
    if s is not None:
        try:
            sel.unregister(s)
        except (KeyError, ValueError):
            pass
        s.close()
    st["sock"] = None
    st["last"] = outcome
    if final:
        note("tcp", key, outcome)
        del pending[key]


next_burst = 0.0
while True:
    now = time.monotonic()
    if now >= deadline:
        break
    if now >= next_burst:
        next_burst = now + 0.25
        for i, peer in enumerate(cfg["peers"]):
            if raw:
                try:
                    raw.sendto(inner_packet(cfg["index"], peer["index"], message()), (peer["address"], 0))
                except OSError as e:
                    result["sendErrors"]["ipip:" + peer["name"]] = e.strerror
            if udp and cfg.get("udpPort"):
                try:
                    udp.sendto(message(), (peer["address"], cfg["udpPort"]))
                except OSError as e:
                    result["sendErrors"]["udp:" + peer["name"]] = e.strerror
        for key, st in list(pending.items()):
            if st["sock"] is None:
                start_connect(key, st)
    for key, st in list(pending.items()):
        if st["sock"] is not None and now - st["started"] > 1.0:
            # Connected but no banner: some other program holds the port on the peer.
            finish_attempt(key, st, "other-service" if st["connected"] else "timeout", final=st["connected"])
    for skey, _ in sel.select(timeout=max(0.0, min(0.05, deadline - now))):
        kind, data = skey.data
        s = skey.fileobj
        try:
            if kind == "raw":
                pkt = s.recv(65535)
                ihl = (pkt[0] & 0x0F) * 4
                inner = pkt[ihl:]
                if len(inner) > 28 and inner[9] == 17:
                    name = sender_of(inner[(inner[0] & 0x0F) * 4 + 8:])
                    if name and name not in result["ipipFrom"]:
                        result["ipipFrom"].append(name)
            elif kind == "udp":
                name = sender_of(s.recv(2048))
                if name and name not in result["udpFrom"]:
                    result["udpFrom"].append(name)
            elif kind == "listen":
                conn, _ = s.accept()
                try:
                    conn.setblocking(True)
                    conn.settimeout(0.2)
                    conn.sendall(message() + b"\n")
                except OSError:
                    pass
                conn.close()
            elif kind == "connect":
                st = pending.get(data)
                if st is None:
                    continue
                if not st["connected"]:
                    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        finish_attempt(data, st, "refused" if err == errno.ECONNREFUSED else "error: %s" % os.strerror(err))
                        continue
                    sel.modify(s, selectors.EVENT_READ, ("connect", data))
                    st["connected"] = True
                    continue
                chunk = s.recv(256)
                st["buf"] += chunk
                if b"\n" in st["buf"] or not chunk:
                    name = sender_of(st["buf"].strip())
                    finish_attempt(data, st, "ok" if name == st["to"] else "other-service", final=True)
        except OSError:
            if kind == "connect" and data in pending:
                finish_attempt(data, pending[data], "refused")

for key, st in list(pending.items()):
    note("tcp", key, st["last"])
for s in opened:
    try:
        s.close()
    except OSError:
        pass
sys.stdout.write(json.dumps(result) + "\n")

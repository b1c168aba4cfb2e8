# ferry doctor probe agent: runs on every node at once for a bounded time, then prints one JSON line.
# It listens (raw IP protocol 4, one UDP port, TCP ports that are free) and sends to every peer, so each
# direction of each pair is tested from both ends in one round trip. Every packet also says which peers this
# node has heard and finished connecting to, so all agents stop as soon as every direction is settled; where a
# path is blocked they stop at their deadline. Sends are bounded by packetsPerSecond (a round over all peers
# stretches instead of the rate growing) and connects in flight by maxConnects. Everything opened is closed on exit.
# CONFIG (a Python literal) is prepended by ferry. Only modules of Debian's python3-minimal and EL's
# platform-python are used (no json).
import collections, errno, os, selectors, socket, struct, sys, time

cfg = CONFIG
run = cfg["run"].encode()
me = cfg["me"]
started = time.monotonic()
deadline = started + cfg["durationMs"] / 1000.0
MARK = b"ferry-probe "
result = {"host": me, "ipipFrom": [], "udpFrom": [], "listen": {}, "tcp": {}, "sendErrors": {}, "errors": [], "sent": 0, "startedAtMs": int(time.time() * 1000)}
sel = selectors.DefaultSelector()
opened = []


def to_json(v):
    if isinstance(v, bool) or v is None:
        return {True: "true", False: "false", None: "null"}[v]
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        out = []
        for ch in v:
            if ch in '"\\':
                out.append("\\" + ch)
            elif ord(ch) < 0x20:
                out.append("\\u%04x" % ord(ch))
            else:
                out.append(ch)
        return '"' + "".join(out) + '"'
    if isinstance(v, dict):
        return "{" + ", ".join(to_json(str(k)) + ": " + to_json(x) for k, x in v.items()) + "}"
    return "[" + ", ".join(to_json(x) for x in v) + "]"


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


index_of = dict((p["name"], p["index"]) for p in cfg["peers"])
# What peers told us about themselves: bitmaps (by node index) of whom they heard and finished connecting to.
told = {}


def bitmap(names):
    bits = 0
    for n in names:
        if n in index_of:
            bits |= 1 << index_of[n]
    return b"%x" % bits


def tcp_done_to():
    busy = set(st["to"] for st in pending.values())
    return [p["name"] for p in cfg["peers"] if p["name"] not in busy]


def message():
    return b" ".join([MARK.strip(), run, me.encode(), bitmap(result["ipipFrom"]), bitmap(result["udpFrom"]), bitmap(tcp_done_to())])


def sender_of(payload):
    # "ferry-probe RUN NAME [IPIP UDP TCP]" -> NAME when RUN is ours; remembers the peer's bitmaps.
    if not payload.startswith(MARK):
        return None
    parts = payload[len(MARK):].split(b" ")
    if len(parts) not in (2, 5) or parts[0] != run:
        return None
    name = parts[1].decode(errors="replace")
    if len(parts) == 5 and name in index_of:
        try:
            told[name] = tuple(int(x, 16) for x in parts[2:5])
        except ValueError:
            pass
    return name


def settled():
    # Every peer heard us both ways and finished connecting to us; we heard every peer and finished our connects.
    bit = 1 << cfg["index"]
    if pending:
        return False
    for p in cfg["peers"]:
        name = p["name"]
        t = told.get(name)
        if name not in result["ipipFrom"] or name not in result["udpFrom"] or t is None:
            return False
        if not (t[0] & bit and t[1] & bit and t[2] & bit):
            return False
    return True


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
        s.listen(max(128, len(cfg["peers"])))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, ("listen", port))
        note("listen", str(port), "bound")
    except OSError as e:
        note("listen", str(port), "in-use" if e.errno == errno.EADDRINUSE else "error: %s" % e.strerror)

pending = {}
# Connects wait here for a free slot (at most maxConnects in flight); a retried one goes to the back.
queue = collections.deque()
for c in cfg.get("connect", []):
    key = "%s:%d" % (c["to"], c["port"])
    pending[key] = {"to": c["to"], "address": c["address"], "port": c["port"], "sock": None, "started": 0.0, "buf": b"", "connected": False, "last": "not attempted before the deadline", "retry": 0.0}
    queue.append(key)
max_connects = max(1, cfg.get("maxConnects", 64))
# Keys of the connects in flight (their socket is open), so the timeout scan costs maxConnects, not every connect.
active = set()


def start_connect(key, st):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    opened.append(s)
    s.setblocking(False)
    st["sock"], st["started"], st["buf"], st["connected"] = s, time.monotonic(), b"", False
    active.add(key)
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
        active.discard(key)
    st["sock"] = None
    st["last"] = outcome
    if final:
        note("tcp", key, outcome)
        del pending[key]
    else:
        st["retry"] = time.monotonic() + 0.1
        queue.append(key)


def start_connects(now):
    # Oldest first, skipping the ones that failed less than 100 ms ago; stop when every slot is taken.
    for _ in range(len(queue)):
        if len(active) >= max_connects:
            return
        key = queue.popleft()
        st = pending.get(key)
        if st is None or st["sock"] is not None:
            continue
        if st["retry"] > now:
            queue.append(key)
            continue
        try:
            start_connect(key, st)
        except OSError as e:
            finish_attempt(key, st, "error: %s" % (e.strerror or e))


def drain(s, size):
    # Everything already queued on a datagram socket, so a busy node never falls behind its peers' packets.
    out = []
    for _ in range(256):
        try:
            out.append(s.recv(size))
        except (BlockingIOError, InterruptedError):
            break
    return out


def send_to(peer, msg):
    if raw:
        try:
            raw.sendto(inner_packet(cfg["index"], peer["index"], msg), (peer["address"], 0))
        except OSError as e:
            result["sendErrors"]["ipip:" + peer["name"]] = e.strerror
    if udp:
        try:
            udp.sendto(msg, (peer["address"], cfg["udpPort"]))
        except OSError as e:
            result["sendErrors"]["udp:" + peer["name"]] = e.strerror


# Rounds: one message to every peer at most every 100 ms, paced by a token bucket of packetsPerSecond.
peers = cfg["peers"]
per_peer = (1 if raw else 0) + (1 if udp else 0)
rate = float(max(1, cfg.get("packetsPerSecond", 2000)))
bucket_cap = max(per_peer, rate / 10.0)
tokens, last_fill = bucket_cap, time.monotonic()
cursor, round_msg, next_round = 0, None, 0.0
final_round = False
linger_until = None
# The longest this agent went without running its loop (a starved CPU shows here), for the report.
max_gap, last_loop = 0.0, time.monotonic()
while True:
    now = time.monotonic()
    max_gap, last_loop = max(max_gap, now - last_loop), now
    if now >= deadline or (linger_until is not None and now >= linger_until and round_msg is None):
        break
    if linger_until is None and settled():
        # One last round carries our final bitmaps to peers still waiting for them, then a short linger.
        linger_until = now + 0.15
        final_round, next_round, round_msg = True, 0.0, None
    tokens, last_fill = min(bucket_cap, tokens + (now - last_fill) * rate), now
    if round_msg is None and now >= next_round and per_peer and (linger_until is None or final_round):
        round_msg, cursor, round_started = message(), 0, now
    while round_msg is not None and tokens >= per_peer:
        if cursor >= len(peers):
            round_msg = None
            next_round = round_started + 0.1
            if final_round:
                final_round, next_round = False, deadline
            break
        send_to(peers[cursor], round_msg)
        tokens -= per_peer
        result["sent"] += per_peer
        cursor += 1
    start_connects(now)
    for key in list(active):
        st = pending[key]
        if now - st["started"] > 1.0:
            # Connected but no banner: some other program holds the port on the peer.
            finish_attempt(key, st, "other-service" if st["connected"] else "timeout", final=st["connected"])
    wait = 0.0 if round_msg is not None and tokens >= per_peer else min(0.05, per_peer / rate) if round_msg is not None else 0.05
    for skey, _ in sel.select(timeout=max(0.0, min(wait, deadline - now))):
        kind, data = skey.data
        s = skey.fileobj
        try:
            if kind == "raw":
                for pkt in drain(s, 65535):
                    inner = pkt[(pkt[0] & 0x0F) * 4:]
                    if len(inner) > 28 and inner[9] == 17:
                        name = sender_of(inner[(inner[0] & 0x0F) * 4 + 8:])
                        if name and name not in result["ipipFrom"]:
                            result["ipipFrom"].append(name)
            elif kind == "udp":
                for payload in drain(s, 4096):
                    name = sender_of(payload)
                    if name and name not in result["udpFrom"]:
                        result["udpFrom"].append(name)
            elif kind == "listen":
                conn, _ = s.accept()
                try:
                    conn.setblocking(True)
                    conn.settimeout(0.2)
                    conn.sendall(b" ".join([MARK.strip(), run, me.encode()]) + b"\n")
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
result["elapsedMs"] = int((time.monotonic() - started) * 1000)
result["maxGapMs"] = int(max_gap * 1000)
result["cpuMs"] = int(time.process_time() * 1000)
sys.stdout.write(to_json(result) + "\n")

# ferry seed fetcher, run on a node with `python3 -` (CONFIG prepended): fetch each listed bundle file from the
# seed server (seed-serve.py) into a .partial file while hashing it, check size and sha256, then rename it into
# place. Plain sockets and hashlib only (python3-minimal, platform-python 3.6). Prints one line:
# `ferry-seed-fetch ok FILES BYTES`, or `ferry-seed-fetch bad PATH: why` and exits 3.
import hashlib, os, socket, sys, time


def connect():
    # The server starts just before the fetchers: retry for up to 10 s while it comes up.
    for attempt in range(40):
        try:
            return socket.create_connection((CONFIG['address'], CONFIG['port']), timeout=60)
        except OSError:
            if attempt == 39:
                raise
            time.sleep(0.25)


def header(conn):
    line = b''
    while not line.endswith(b'\n'):
        chunk = conn.recv(1)
        if not chunk:
            raise OSError('the seed closed the connection')
        line += chunk
    return line.decode().strip()


def fetch(f):
    dest = os.path.join(CONFIG['root'], f['path'])
    part = dest + '.partial'
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with connect() as conn, open(part, 'wb') as out:
        conn.sendall(('GET %s\n' % f['path']).encode())
        answer = header(conn)
        if not answer.startswith('OK '):
            raise OSError('the seed said: ' + answer)
        while True:
            chunk = conn.recv(1 << 20)
            if not chunk:
                break
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    if size != f['size'] or digest.hexdigest() != f['sha256']:
        os.unlink(part)
        raise OSError('got %d bytes with sha256 %s, the manifest says %d bytes' % (size, digest.hexdigest(), f['size']))
    os.rename(part, dest)
    return size


def main():
    files, total = 0, 0
    for f in CONFIG['files']:
        try:
            total += fetch(f)
        except OSError as e:
            print('ferry-seed-fetch bad %s: %s' % (f['path'], e))
            sys.exit(3)
        files += 1
    print('ferry-seed-fetch ok %d %d' % (files, total))


main()

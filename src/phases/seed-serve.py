# ferry seed server: serves the listed bundle files, read-only, to the other nodes during copy-bundle.
# Run by ferry as `python3 -c` with CONFIG prepended, in the background under `timeout`, stopped by its PID.
# Plain sockets and threads only, so python3-minimal (Debian) and platform-python (EL8, 3.6) both run it.
# Protocol: the client sends `GET <path>\n`; the server answers `OK <size>\n` and the bytes, or `NO <why>\n`.
import os, socket, threading

ALLOWED = set(CONFIG['files'])


def serve(conn):
    with conn:
        line = b''
        while not line.endswith(b'\n') and len(line) < 4096:
            chunk = conn.recv(4096 - len(line))
            if not chunk:
                return
            line += chunk
        path = line.decode('utf-8', 'replace').strip()[4:]
        if path not in ALLOWED:
            conn.sendall(b'NO not a file of this copy\n')
            return
        full = os.path.join(CONFIG['root'], path)
        with open(full, 'rb') as f:
            conn.sendall(('OK %d\n' % os.fstat(f.fileno()).st_size).encode())
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                conn.sendall(chunk)


def main():
    family = socket.AF_INET6 if ':' in CONFIG['address'] else socket.AF_INET
    server = socket.socket(family, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((CONFIG['address'], CONFIG['port']))
    server.listen(64)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()

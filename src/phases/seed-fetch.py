# ferry's seed-copy fetcher, run on a node with `python3 -` (CONFIG is prepended by ferry): fetch each listed
# bundle file from the seed node's temporary HTTP server into a .partial file while hashing it, check size and
# sha256, then rename it into place. Python 3.6+ standard library only (EL8 platform-python). Prints one line:
# `ferry-seed-fetch ok FILES BYTES` or `ferry-seed-fetch bad PATH: why` (exit 3).
import hashlib, os, sys, time, urllib.parse, urllib.request


def fetch(url):
    # The server starts alongside this fetch: retry connecting for a few seconds before giving up.
    for attempt in range(40):
        try:
            return urllib.request.urlopen(url, timeout=60)
        except OSError as e:
            if attempt == 39 or (hasattr(e, 'code') and e.code):
                raise
            time.sleep(0.25)


def main():
    files, total = 0, 0
    for f in CONFIG['files']:
        dest = os.path.join(CONFIG['root'], f['path'])
        part = dest + '.partial'
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        digest, size = hashlib.sha256(), 0
        try:
            with fetch(CONFIG["base"] + "/" + urllib.parse.quote(f["path"])) as r, open(part, 'wb') as out:
                while True:
                    chunk = r.read(1 << 20)
                    if not chunk:
                        break
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
        except OSError as e:
            print('ferry-seed-fetch bad %s: %s' % (f['path'], e))
            sys.exit(3)
        if size != f['size'] or digest.hexdigest() != f['sha256']:
            os.unlink(part)
            print('ferry-seed-fetch bad %s: got %d bytes, sha256 %s' % (f['path'], size, digest.hexdigest()))
            sys.exit(3)
        os.rename(part, dest)
        files, total = files + 1, total + size
    print('ferry-seed-fetch ok %d %d' % (files, total))


main()

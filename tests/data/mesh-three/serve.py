"""One program for the three services of the test mesh (tests/integration/kubernetes_test.sh);
the role comes from the command line of each service manifest.

checksum: serve the MD5 of DB_PASSWORD on port 8080.
compare:  serve "same" or "different": whether UPSTREAM's checksum is that of our DB_PASSWORD.
ask:      print UPSTREAM's answer once it has one, then keep running.
"""

import hashlib
import http.server
import os
import signal
import sys
import time
import urllib.request


def checksum() -> str:
    return hashlib.md5(os.environ.get("DB_PASSWORD", "").encode()).hexdigest()


def fetch(url: str) -> str:
    for _ in range(120):
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return answer.read().decode()
        except OSError as error:
            last = error
            time.sleep(1)
    return f"unreachable: {last}"


def serve(answer) -> None:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = answer().encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    http.server.ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()


def main() -> int:
    # PID 1 in its container: without a handler, SIGTERM would be ignored until the kill timeout.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    role = sys.argv[1]
    if role == "checksum":
        print(f"db: serving the checksum {checksum()}")
        serve(checksum)
    elif role == "compare":
        print(f"backend: imported a password with checksum {checksum()}")
        serve(lambda: "same" if fetch(os.environ["UPSTREAM"]) == checksum() else "different")
    else:
        print(f"frontend: the backend says the database password is the {fetch(os.environ['UPSTREAM'])} one")
        while True:
            time.sleep(3600)
    return 0


if __name__ == "__main__":
    sys.exit(main())

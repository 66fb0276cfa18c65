"""A loopback HTTP server for download tests: static files, Range requests, Hugging Face's LFS redirects.

It serves a directory as the Hugging Face hub and a mirror do: `GET`/`HEAD`
of `/PATH` reads `ROOT/PATH`; `bytes=N-` ranges get 206; a Hugging Face
`resolve/` URL of a weight file answers 302 to `/cdn/...` with the sha256 in
`X-Linked-Etag`, as the hub does. Tests can cut a file's first transfer
half-way, slow transfers down, state a wrong sha256, and read the request log.
"""

import hashlib
import http.server
import os
import threading
import time
import urllib.parse

LFS_SUFFIXES = (".safetensors", ".bin")


class LoopbackServer:
    """`with LoopbackServer(root) as server:` serves `root` at `server.url` until the block ends."""

    def __init__(self, root):
        self.root = os.fspath(root)
        self.requests = []  # (method, path, Range header or None); method "REDIRECT" for a 302 answered
        self.cut_once = set()  # paths whose next GET stops half-way
        self.wrong_sha256 = set()  # paths whose X-Linked-Etag is wrong
        self.seconds_per_chunk = 0.0
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *unused):
        self.stop()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def gets(self, suffix):
        """The GET requests answered with data, of paths ending with `suffix`: `[(path, range)]`."""
        return [(path, byte_range) for method, path, byte_range in self.requests
                if method == "GET" and path.endswith(suffix)]

    def _handler(self):
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *unused):
                pass

            def do_HEAD(self):
                self._answer(body=False)

            def do_GET(self):
                self._answer(body=True)

            def _answer(self, body):
                path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
                server.requests.append((self.command, path, self.headers.get("Range")))
                file = os.path.join(server.root, path.removeprefix("/cdn").lstrip("/"))
                if not os.path.isfile(file):
                    self.send_error(404)
                    return
                data = open(file, "rb").read()
                if "/resolve/" in path and path.endswith(LFS_SUFFIXES) and not path.startswith("/cdn/"):
                    sha256 = hashlib.sha256(data).hexdigest()
                    if path in server.wrong_sha256:
                        sha256 = hashlib.sha256(b"something else").hexdigest()
                    server.requests[-1] = ("REDIRECT",) + server.requests[-1][1:]
                    self.send_response(302)
                    self.send_header("Location", "/cdn" + path)
                    self.send_header("X-Linked-Etag", f'"{sha256}"')
                    self.send_header("X-Linked-Size", str(len(data)))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                start = 0
                byte_range = self.headers.get("Range")
                if byte_range and byte_range.startswith("bytes=") and byte_range.endswith("-"):
                    start = int(byte_range[len("bytes="):-1])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                if not body:
                    return
                payload = data[start:]
                if path in server.cut_once:  # Half the promised bytes, then the connection drops.
                    server.cut_once.discard(path)
                    payload = payload[: len(payload) // 2]
                    self.close_connection = True
                for offset in range(0, len(payload), 16384):
                    time.sleep(server.seconds_per_chunk)
                    self.wfile.write(payload[offset:offset + 16384])

        return Handler

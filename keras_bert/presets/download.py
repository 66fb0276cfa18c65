"""HTTP downloads that survive cut connections: resumed with Range requests, shown with a progress line.

Standard library only (urllib), so every `http(s)://` source, the Hugging Face
hub and a loopback test server take the same code path.
"""

import hashlib
import http.client
import os
import socket
import sys
import time
import urllib.error
import urllib.request

USER_AGENT = "keras_bert"
# Attempts per file; each one resumes where the last stopped.
ATTEMPTS = 5
CHUNK_BYTES = 1 << 20
TIMEOUT_SECONDS = 60


class RemoteFileMissing(FileNotFoundError):
    """The server answered 404 for a file (optional files are allowed to be missing)."""


def mirrored(url):
    """`url` as fetched: `KERAS_BERT_MIRROR=M` turns `https://HOST/PATH` into `M/HOST/PATH`.

    Example:
    >>> os.environ["KERAS_BERT_MIRROR"] = "http://mirror.local/bert/"
    >>> mirrored("https://storage.googleapis.com/bert_models/x.zip")
    'http://mirror.local/bert/storage.googleapis.com/bert_models/x.zip'
    >>> del os.environ["KERAS_BERT_MIRROR"]
    >>> mirrored("https://storage.googleapis.com/bert_models/x.zip")
    'https://storage.googleapis.com/bert_models/x.zip'
    """
    mirror = os.environ.get("KERAS_BERT_MIRROR")
    if mirror and url.startswith("https://"):
        return mirror.rstrip("/") + "/" + url[len("https://"):]
    return url


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def publisher_sha256(url):
    """The sha256 the publisher states for `url`, or None; raises `RemoteFileMissing` on 404.

    Hugging Face answers a HEAD on `resolve/` with the LFS object's sha256 in
    `X-Linked-Etag` (before redirecting to its CDN, so redirects are not
    followed here), as `huggingface_hub` reads it. Other servers state none.
    """
    request = urllib.request.Request(mirrored(url), method="HEAD", headers={"User-Agent": USER_AGENT})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        response = opener.open(request, timeout=TIMEOUT_SECONDS)
        headers = response.headers
        response.close()
    except urllib.error.HTTPError as e:
        if e.code == 404:
            raise RemoteFileMissing(f"{url} does not exist (HTTP 404).") from None
        if 300 <= e.code < 400:
            headers = e.headers
        else:
            raise
    etag = (headers.get("X-Linked-Etag") or "").strip().removeprefix("W/").strip('"')
    return etag.lower() if len(etag) == 64 and all(c in "0123456789abcdefABCDEF" for c in etag) else None


def download(url, destination, description=None):
    """Streams `url` to `destination`, resuming a cut transfer with an HTTP Range request.

    Bytes go to `destination + ".incomplete"` first; a later call (or the next
    attempt) continues from its size. The finished file is renamed into place.

    Args:
        url: str. `http://` or `https://` (after `mirrored`).
        destination: str. The file to write.
        description: str. Shown on the progress line; default: the file name.

    Raises:
        RemoteFileMissing: HTTP 404.
        urllib.error.URLError, OSError: the server stays unreachable after
            `ATTEMPTS` tries, or answers with another HTTP error.
    """
    source = mirrored(url)
    partial = destination + ".incomplete"
    description = description or os.path.basename(destination)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            _download_once(source, partial, description)
            os.replace(partial, destination)
            return destination
        except urllib.error.HTTPError as e:
            if e.code == 404:
                raise RemoteFileMissing(f"{source} does not exist (HTTP 404).") from None
            if e.code == 416:  # The partial file is no prefix of this one: start again.
                os.remove(partial)
                continue
            raise
        except (http.client.HTTPException, ConnectionError, socket.timeout, urllib.error.URLError) as e:
            if attempt == ATTEMPTS:
                raise
            have = os.path.getsize(partial) if os.path.exists(partial) else 0
            _log(f"{description}: connection lost after {have:,} bytes ({e!r}); resuming "
                 f"(attempt {attempt + 1} of {ATTEMPTS})")
            time.sleep(min(2 ** attempt, 10) / 10)
    raise OSError(f"could not download {source}")


def _download_once(source, partial, description):
    have = os.path.getsize(partial) if os.path.exists(partial) else 0
    headers = {"User-Agent": USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"
    with urllib.request.urlopen(urllib.request.Request(source, headers=headers), timeout=TIMEOUT_SECONDS) as response:
        if have and response.status != 206:  # The server ignored the range: the whole file comes.
            have = 0
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        progress = _Progress(description, total, have)
        with open(partial, "ab" if have else "wb") as f:
            while True:
                chunk = response.read(CHUNK_BYTES)
                if not chunk:
                    break
                f.write(chunk)
                have += len(chunk)
                progress.update(have)
        progress.finish(have)
        if total is not None and have < total:
            raise http.client.IncompleteRead(b"", total - have)


def sha256_of(path):
    """The hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def _log(message):
    print(message, file=sys.stderr, flush=True)


class _Progress:
    """One line per file: a redrawn bar on a terminal, a line every 10% in logs."""

    def __init__(self, description, total, done):
        self.description, self.total = description, total
        self.start, self.start_bytes = time.monotonic(), done
        self.terminal = sys.stderr.isatty()
        self.shown_tenths = -1
        self.last_draw = 0.0

    def update(self, done):
        now = time.monotonic()
        if self.terminal:
            if now - self.last_draw >= 0.2:
                self.last_draw = now
                sys.stderr.write("\r" + self._line(done, now))
                sys.stderr.flush()
        elif self.total:
            tenths = 10 * done // self.total
            if tenths > self.shown_tenths and self.total > 10 * CHUNK_BYTES:
                self.shown_tenths = tenths
                _log(self._line(done, now))

    def finish(self, done):
        line = self._line(done, time.monotonic())
        sys.stderr.write(("\r" + line + "\n") if self.terminal else "")
        if not self.terminal and (self.total or 0) <= 10 * CHUNK_BYTES:
            _log(line)
        sys.stderr.flush()

    def _line(self, done, now):
        rate = (done - self.start_bytes) / max(now - self.start, 1e-6) / 1e6
        if self.total:
            filled = int(30 * done / self.total)
            return (f"{self.description}: [{'=' * filled}{' ' * (30 - filled)}] {100 * done / self.total:3.0f}% "
                    f"{done / 1e6:,.1f}/{self.total / 1e6:,.1f} MB {rate:.1f} MB/s")
        return f"{self.description}: {done / 1e6:,.1f} MB {rate:.1f} MB/s"

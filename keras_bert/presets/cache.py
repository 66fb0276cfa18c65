"""The download cache: one directory per source, filled once under a file lock, checked at every load.

`$KERAS_BERT_HOME` (default `~/.cache/keras_bert`) holds an entry directory
per source (`hf/OWNER/NAME/REVISION`, `https/HOST/PATH`, ...). An entry is
complete when its `keras_bert_manifest.json` exists: the sha256 of every file,
from the publisher (Hugging Face's LFS hash) or recorded at the first download
(trust on first use). Entries are filled in `ENTRY.partial` and renamed into
place, so a half-written entry is never read.
"""

import contextlib
import json
import os
import re
import shutil
import urllib.error

from keras_bert.presets.download import sha256_of

MANIFEST = "keras_bert_manifest.json"


class CacheError(OSError):
    """A cached file no longer matches its checksum, or a file is not cached while offline."""


def cache_home():
    """`$KERAS_BERT_HOME`, default `~/.cache/keras_bert`.

    Example:
    >>> os.environ["KERAS_BERT_HOME"] = "/tmp/bert-cache"
    >>> cache_home()
    '/tmp/bert-cache'
    >>> del os.environ["KERAS_BERT_HOME"]
    >>> cache_home().endswith(os.path.join(".cache", "keras_bert"))
    True
    """
    return os.path.abspath(os.path.expanduser(os.environ.get("KERAS_BERT_HOME", "~/.cache/keras_bert")))


def offline():
    """True when `KERAS_BERT_OFFLINE` is set to 1/true/yes: no network call at all."""
    return os.environ.get("KERAS_BERT_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def entry_directory(key):
    """The cache directory of a source key such as `hf/owner/name/main` (unsafe characters replaced).

    Example:
    >>> os.path.relpath(entry_directory("https/host/a b/../x.zip"), cache_home())
    'https/host/a_b/_/x.zip'
    """
    parts = [re.sub(r"[^A-Za-z0-9._@=+-]", "_", part) for part in key.split("/") if part]
    parts = ["_" if part in (".", "..") else part for part in parts]
    return os.path.join(cache_home(), *parts)


def cached_entry(key, fill, describe):
    """The checked entry directory of `key`, filling it with `fill(directory)` if it is not cached.

    Args:
        key: str. The source's cache key.
        fill: function(directory) -> `({relative path: publisher sha256 or
            None}, root)`: downloads the source's files into `directory`
            (which may hold a previous attempt's partial files); `root` is
            the path, inside it, of the checkpoint ("" for the directory).
        describe: str. The source, for messages.

    Returns:
        `(directory, manifest)`.

    Raises:
        CacheError: a cached file's sha256 differs from the recorded one
            (naming the file and both hashes), or the entry is not cached and
            the cache is offline or the network unreachable (naming the cache
            directory and how to fill it).
    """
    directory = entry_directory(key)
    manifest = _read_manifest(directory)
    if manifest is not None:
        return directory, _checked(directory, manifest)
    if offline():
        raise CacheError(_not_cached(describe, directory, "KERAS_BERT_OFFLINE is set"))
    os.makedirs(os.path.dirname(directory), exist_ok=True)
    with _file_lock(directory + ".lock"):
        # Another process may have filled it while this one waited for the lock.
        manifest = _read_manifest(directory)
        if manifest is not None:
            return directory, _checked(directory, manifest)
        partial = directory + ".partial"
        os.makedirs(partial, exist_ok=True)
        try:
            published, root = fill(partial)
        except OSError as e:
            if _unreachable(e):
                raise CacheError(_not_cached(describe, directory, f"the network is unreachable ({e})")) from None
            raise
        files = {}
        for name, expected in sorted(published.items()):
            found = sha256_of(os.path.join(partial, name))
            if expected is not None and found != expected:
                os.remove(os.path.join(partial, name))
                raise CacheError(
                    f"{describe}: downloaded {name} has sha256 {found}, but the publisher states {expected}; "
                    "the file was corrupted on the way or changed at the source. It was deleted: try again, "
                    "and report it if it repeats."
                )
            files[name] = {"sha256": found, "checked_by": "publisher" if expected else "first download"}
        manifest = {"source": describe, "root": root, "files": files}
        with open(os.path.join(partial, MANIFEST), "w") as f:
            json.dump(manifest, f, indent=2)
        if os.path.exists(directory):  # An entry left without a manifest by an older crash.
            shutil.rmtree(directory)
        os.replace(partial, directory)
    return directory, manifest


# Entries checked in this process, with their files' (size, mtime) then: a later load re-hashes only what changed.
_CHECKED = {}


def _checked(directory, manifest):
    stats = tuple(_stat(os.path.join(directory, name)) for name in manifest["files"])
    if _CHECKED.get(directory) == stats:
        return manifest
    for name, record in manifest["files"].items():
        path = os.path.join(directory, name)
        if not os.path.isfile(path):
            raise CacheError(f"cached file {path} is missing; delete {directory} to download it again.")
        found = sha256_of(path)
        if found != record["sha256"]:
            raise CacheError(
                f"cached file {path} is corrupted: its sha256 is {found}, but {record['sha256']} was "
                f"recorded ({record['checked_by']}). Delete {directory} to download it again."
            )
    _CHECKED[directory] = stats
    return manifest


def _stat(path):
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    return status.st_size, status.st_mtime_ns


def _read_manifest(directory):
    path = os.path.join(directory, MANIFEST)
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def _not_cached(describe, directory, reason):
    return (
        f"{describe} is not in the cache ({directory}) and cannot be downloaded: {reason}. To fill the cache, "
        "run once with network access (unset KERAS_BERT_OFFLINE), or set KERAS_BERT_MIRROR to a mirror that "
        "serves https://HOST/PATH as MIRROR/HOST/PATH, or pass the checkpoint's local directory instead."
    )


def _unreachable(error):
    if isinstance(error, urllib.error.HTTPError):
        return False
    return isinstance(error, (urllib.error.URLError, ConnectionError, TimeoutError))


@contextlib.contextmanager
def _file_lock(path):
    """An exclusive lock across processes (the workers of one job fetching the same preset)."""
    import fcntl  # POSIX only: imported here so the rest of the package still imports elsewhere

    with open(path, "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)

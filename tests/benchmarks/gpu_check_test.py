import os
import subprocess
import sys

import pytest
import tensorflow as tf

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks", "gpu_check.py")


@pytest.mark.skipif(bool(tf.config.list_physical_devices("GPU")), reason="a GPU is visible: the check would run")
def test_without_a_gpu_it_says_so_and_exits_2():
    result = subprocess.run([sys.executable, SCRIPT], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert "sees no GPU" in result.stderr and "Nothing was run" in result.stderr

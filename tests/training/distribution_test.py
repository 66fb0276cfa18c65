"""tf.distribute on CPU: Mirrored over 2 logical devices and two real worker processes."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO_ROOT, free_ports
from keras_bert.training import distribution

RUNNER = REPO_ROOT / "tests/training/distributed_run.py"


def _launch(strategy, output, env=None):
    return subprocess.Popen(
        [sys.executable, str(RUNNER), strategy, str(output)],
        cwd=REPO_ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _finish(process):
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-3000:]


def _weights(result):
    return [result[f"w{i}"] for i in range(len([k for k in result.files if k.startswith("w")]))]


@pytest.fixture(scope="module")
def one_device(tmp_path_factory):
    output = tmp_path_factory.mktemp("one_device") / "one_device.npz"
    _finish(_launch("one_device", output))
    return np.load(output)


def _assert_as_one_device(result, single):
    # Each step's batch, loss normalisation and clipped update are one device's: only the order of sums differs.
    np.testing.assert_allclose(result["losses"], single["losses"], rtol=1e-6)
    for a, b in zip(_weights(single), _weights(result)):
        np.testing.assert_allclose(b, a, atol=1e-6)


def test_mirrored_over_two_cpus_matches_one_device(tmp_path, one_device):
    _finish(_launch("mirrored", tmp_path / "mirrored.npz"))
    mirrored = np.load(tmp_path / "mirrored.npz")
    assert int(one_device["replicas"]) == 1 and int(mirrored["replicas"]) == 2
    _assert_as_one_device(mirrored, one_device)


def test_two_worker_processes_agree_with_each_other_and_one_device(tmp_path, one_device):
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    processes = [
        _launch("multi_worker_mirrored", tmp_path / f"worker{i}.npz", {
            "TF_CONFIG": json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": i}})
        })
        for i in range(2)
    ]
    for process in processes:
        _finish(process)
    first, second = (np.load(tmp_path / f"worker{i}.npz") for i in range(2))
    assert int(first["replicas"]) == 2
    np.testing.assert_array_equal(first["losses"], second["losses"])
    for a, b in zip(_weights(first), _weights(second)):
        np.testing.assert_array_equal(a, b)
    _assert_as_one_device(first, one_device)


def test_strategy_choice_errors_name_the_fix(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        distribution.get_strategy("multi_worker_mirrored")
    with pytest.raises(ValueError, match="needs `tpu`"):
        distribution.get_strategy("tpu")
    with pytest.raises(ValueError, match="use one of"):
        distribution.get_strategy("parameter_server")
    with pytest.raises(ValueError, match="use float32, bfloat16 or float16"):
        distribution.set_precision("float8")


def test_only_the_chief_keeps_files(monkeypatch, tmp_path):
    class Resolver:
        task_type, task_id = "worker", 1

    class Strategy:
        cluster_resolver = Resolver()

    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1", "b:2"]}}))
    assert not distribution.is_chief(Strategy())
    assert distribution.writable_dir(Strategy(), str(tmp_path)) != str(tmp_path)
    Resolver.task_id = 0
    assert distribution.is_chief(Strategy())

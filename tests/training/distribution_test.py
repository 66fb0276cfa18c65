"""tf.distribute on CPU: Mirrored over 2 logical devices and two real worker processes."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO_ROOT
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


def test_mirrored_over_two_cpus_matches_one_device(tmp_path):
    processes = {name: _launch(name, tmp_path / f"{name}.npz") for name in ("one_device", "mirrored")}
    for process in processes.values():
        _finish(process)
    single, mirrored = (np.load(tmp_path / f"{name}.npz") for name in ("one_device", "mirrored"))
    assert int(single["replicas"]) == 1 and int(mirrored["replicas"]) == 2
    # Two replicas sum their gradients in another order than one device;
    # Adam turns the rounding into differences of this size after 3 updates.
    np.testing.assert_allclose(mirrored["losses"], single["losses"], rtol=2e-5)
    assert np.all(np.diff(single["losses"][1:]) < 0), single["losses"]  # the same batch each step; lr 0 at step 1
    for a, b in zip(_weights(single), _weights(mirrored)):
        np.testing.assert_allclose(b, a, atol=2e-4)  # a fifth of the largest move of one step (lr 1e-3)


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_two_worker_processes_agree(tmp_path):
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
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

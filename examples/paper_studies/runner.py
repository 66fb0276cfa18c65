"""Runs one example script as a subprocess, once: a finished identical run is reused from its `result.json`."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

# The example scripts' folder (this package's parent).
EXAMPLES = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class RunFailed(RuntimeError):
    pass


class NotRun(Exception):
    """A run that has no finished result and may not be started (report-only mode)."""


def _signature(script, flag_list, upstream=()):
    """The run's identity: the script's name (not where this checkout is), its flags and the runs under it."""
    text = json.dumps([script, list(flag_list), list(upstream)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_script(script, flag_list, run_dir, label, upstream=(), report_only=False, results_file="eval_results.json",
               announce=None):
    """Runs an example script once into `run_dir` unless an identical run finished there.

    With `report_only`, a run without a finished result raises `NotRun`
    instead of starting. `announce()`, if given, is called just before the
    script starts (not for a finished run).

    Returns:
        The run's `result.json` dict: `command`, `signature`, `wall_seconds`,
        `eval_results` (the script's own `results_file` in `run_dir`; `{}`
        for `results_file=None`) and `cached`.

    Raises:
        RunFailed: with the end of the run's log.
    """
    command = [os.path.join(EXAMPLES, script)] + list(flag_list)
    signature = _signature(script, flag_list, upstream)
    result_file = os.path.join(run_dir, "result.json")
    if os.path.isfile(result_file):
        with open(result_file) as f:
            result = json.load(f)
        if result.get("signature") == signature:
            return {**result, "cached": True}
        if report_only:
            raise NotRun(label)
        shutil.rmtree(run_dir)  # another configuration's run: start over
    if report_only:
        raise NotRun(label)
    if os.path.isdir(run_dir) and os.path.isfile(os.path.join(run_dir, "signature")):
        with open(os.path.join(run_dir, "signature")) as f:
            if f.read().strip() != signature:
                shutil.rmtree(run_dir)  # an interrupted run of other flags
    os.makedirs(run_dir, exist_ok=True)
    with open(os.path.join(run_dir, "signature"), "w") as f:
        f.write(signature)
    log_path = os.path.join(run_dir, "log.txt")
    if announce:
        announce()
    start = time.time()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    with open(log_path, "a") as log:
        code = subprocess.call([sys.executable] + command, stdout=log, stderr=subprocess.STDOUT, env=env)
    wall = time.time() - start
    if code != 0:
        with open(log_path, errors="replace") as f:
            tail = "".join(f.readlines()[-15:])
        raise RunFailed(f"{label} failed (exit {code}); the end of {log_path}:\n{tail}")
    eval_results = {}
    if results_file:
        with open(os.path.join(run_dir, results_file)) as f:
            eval_results = json.load(f)
    result = {"label": label, "command": command, "signature": signature, "wall_seconds": wall,
              "eval_results": eval_results}
    with open(result_file, "w") as f:
        json.dump(result, f, indent=2)
    return {**result, "cached": False}

"""The memory case: peak resident memory of training steps, each configuration in a fresh process.

The parent runs `run_performance.py --memory_child=CONFIG` per configuration;
the child calls `memory_child` and prints its peak as JSON.
"""

import json
import os
import subprocess
import sys

from performance.harness import random_batch
from performance.peers import hf_config, hf_mlm_labels, hub_masked_lm, hub_mlm_inputs, ours_encoder, ours_mlm_batch

_SUITE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "run_performance.py")


def memory_child(config, size, batch, seq, steps=2):
    """Trains `steps` steps of one configuration; returns this process's peak RSS in GiB (Linux).

    Every library trains as in the train step case: AdamW with weight decay and global-norm clipping at 1.0.
    """
    library, _, mode = config.partition(":")
    checkpointing = mode == "checkpointing"
    data = random_batch(batch, seq, predictions=max(1, seq * 15 // 100))
    if library == "keras_bert":
        from keras_bert import BertPretrainer
        from keras_bert.training import create_optimizer

        model = BertPretrainer(ours_encoder(size, gradient_checkpointing=checkpointing))
        model.compile(optimizer=create_optimizer(1e-4, total_steps=100))
        x, y = ours_mlm_batch(data)
        for _ in range(steps):
            model.train_on_batch(x, y)
    elif library == "keras-hub":
        model = hub_masked_lm(size)
        for _ in range(steps):
            model.train_on_batch(hub_mlm_inputs(data), data["labels"])
    else:
        import torch
        import transformers

        model = transformers.BertForMaskedLM(hf_config(size)).train()
        if checkpointing:
            model.gradient_checkpointing_enable()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
        labels = hf_mlm_labels(data)
        for _ in range(steps):
            model(input_ids=torch.tensor(data["ids"], dtype=torch.long), labels=torch.tensor(labels),
                  attention_mask=torch.tensor(data["mask"]), token_type_ids=torch.tensor(data["segments"])).loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad()
    # VmHWM, not ru_maxrss: after fork + exec, ru_maxrss still counts the parent's pages.
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 2**20  # KiB -> GiB


def memory_case(size, batch, seq, quick):
    """Peak RSS (GiB) of each configuration, each in a fresh process."""
    peaks = {}
    for config in ("keras_bert", "keras_bert:checkpointing", "keras-hub", "transformers",
                   "transformers:checkpointing"):
        command = [sys.executable, _SUITE, f"--memory_child={config}",
                   f"--memory_batch={batch}", f"--quick={quick}"]
        completed = subprocess.run(command, capture_output=True, text=True)
        name = config.replace(":checkpointing", " + gradient checkpointing")
        if completed.returncode != 0:
            # Out of memory (killed) is a result here, not a crash of the suite.
            print(f"{name}: exit code {completed.returncode}\n{completed.stderr[-2000:]}", file=sys.stderr)
            peaks[name] = None
        else:
            peaks[name] = json.loads(completed.stdout.strip().splitlines()[-1])["peak_gib"]
        print(f"  {name}: peak {peaks[name]} GiB", flush=True)
    return {f"peak memory (GiB, lower is better), train step, {size}, seq {seq}, batch {batch}": peaks}

"""Our forward and train step at two source trees, A/B, one fresh process per round.

    git worktree add /tmp/before <commit>
    python benchmarks/ab_speed.py --trees=/tmp/before,. --rounds=2

A refactor must not slow the model down; peers measured in other runs only
add noise to that question, so this times our code alone: each round runs
every tree once, in alternating order, each in its own process (its own
import of keras_bert), and reports each configuration's median over all
rounds. Configurations: the encoder forward (BERT-Small, seq 128, batch 32)
in float32, mixed bfloat16 and frozen bfloat16 (as exported), and one
masked-LM + next-sentence training step (BERT-Base, seq 128, batch 8) in
float32 and mixed bfloat16. The `run_performance.py` cases time the same
shapes against the peers.
"""

import json
import os
import statistics
import subprocess
import sys

from absl import app, flags

flags.DEFINE_list("trees", None, "Source trees (repository roots) to compare, e.g. a worktree and '.'.")
flags.DEFINE_integer("rounds", 2, "Rounds; each runs every tree once, in alternating order.")
flags.DEFINE_list("cases", ["forward", "train_step"], "Which of the two to time.")
flags.DEFINE_integer("repeats", 5, "Timed calls per configuration in each process (after 2 warm-up calls).")
flags.DEFINE_bool("child", False, "Internal: time this process's keras_bert and print JSON.")
FLAGS = flags.FLAGS


def _time(run, repeats):
    import time

    for _ in range(2):
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def child(repeats, cases):
    """`{configuration: median seconds per call}` for the keras_bert on sys.path."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__))))
    import keras
    import numpy as np
    import tensorflow as tf
    from performance.harness import SIZES, VOCAB_SIZE, Policy, random_batch
    from performance.peers import frozen_forward

    import keras_bert
    from keras_bert.training import create_optimizer

    def encoder(size, **kwargs):
        layers, hidden, heads, intermediate = SIZES[size]
        return keras_bert.BertEncoder(vocab_size=VOCAB_SIZE, hidden_size=hidden, num_layers=layers,
                                      num_attention_heads=heads, intermediate_size=intermediate, **kwargs)

    print(f"keras_bert from {os.path.dirname(keras_bert.__file__)}", file=sys.stderr)
    data = random_batch(32, 128)
    inputs = {"input_word_ids": data["ids"], "input_mask": data["mask"], "input_type_ids": data["segments"]}
    results = {}
    if "forward" in cases:
        for policy in ("float32", "mixed_bfloat16"):
            with Policy(policy):
                model = encoder("BERT-Small")
                run = tf.function(lambda x, model=model: model(x, training=False)["sequence_output"])
                results[f"forward BERT-Small {policy}"] = _time(lambda: run(inputs).numpy(), repeats)
        with Policy("mixed_bfloat16"):
            # The frozen form as the exporter builds it (matmul kernels where the keyword exists).
            try:
                model = encoder("BERT-Small", dense_inference_kernel="matmul")
            except TypeError:
                model = encoder("BERT-Small")
            results["forward BERT-Small bf16 frozen"] = _time(frozen_forward(model, inputs), repeats)
    data = random_batch(8, 128, predictions=20)
    x = {"input_word_ids": data["ids"], "input_mask": data["mask"], "input_type_ids": data["segments"],
         "masked_lm_positions": data["positions"]}
    y = {"mlm": data["labels"], "nsp": np.zeros(8, "int32")}
    w = {"mlm": np.ones((8, 20), "float32"), "nsp": np.ones(8, "float32")}
    for policy in ("float32", "mixed_bfloat16") if "train_step" in cases else ():
        with Policy(policy):
            pretrainer = keras_bert.BertPretrainer(encoder("BERT-Base"))
            pretrainer.compile(optimizer=create_optimizer(1e-4, total_steps=100))
            keras.utils.set_random_seed(0)
            results[f"train step BERT-Base {policy}"] = _time(
                lambda pretrainer=pretrainer: pretrainer.train_on_batch(x, y, w), repeats)
    return results


def main(argv):
    del argv
    if FLAGS.child:
        print("AB_RESULT " + json.dumps(child(FLAGS.repeats, FLAGS.cases)))
        return
    trees = [os.path.abspath(tree) for tree in FLAGS.trees]
    seconds = {tree: {} for tree in trees}
    for round_index in range(FLAGS.rounds):
        order = trees if round_index % 2 == 0 else trees[::-1]
        for tree in order:
            env = dict(os.environ, PYTHONPATH=tree)
            output = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", f"--repeats={FLAGS.repeats}",
                                     f"--cases={','.join(FLAGS.cases)}"],
                                    cwd=tree, env=env, capture_output=True, text=True, check=True)
            result = json.loads(output.stdout.split("AB_RESULT ", 1)[1])
            source = [line for line in output.stderr.splitlines() if line.startswith("keras_bert from")]
            assert source and source[0].endswith(os.path.join(tree, "keras_bert")), (tree, source)
            print(f"round {round_index + 1}, {tree}: " + ", ".join(f"{k} {v:.3f} s" for k, v in result.items()),
                  flush=True)
            for name, value in result.items():
                seconds[tree].setdefault(name, []).append(value)
    first = trees[0]
    print(f"\n{'configuration':<34}" + "".join(f"{os.path.basename(t) or t:>14}" for t in trees) + "   ratio")
    for name in seconds[first]:
        medians = [statistics.median(seconds[tree][name]) for tree in trees]
        ratio = medians[0] / medians[-1]
        print(f"{name:<34}" + "".join(f"{m:>12.3f} s" for m in medians) + f"   {ratio:.3f}x")


if __name__ == "__main__":
    app.run(main)

"""Performance suite: keras_bert against keras-hub, HF transformers (torch) and HF tokenizers.

    pip install -e ".[bench]"
    python benchmarks/run_performance.py --output_dir=reports/performance --update_readme

Every case builds ours and the peers in one process and times them interleaved
(round r of every configuration before round r+1 of any), after warm-up; each
figure is the median of --repeats rounds. Absolute speeds swing between runs on
a shared machine, so the tables give each configuration's ratio to the best
peer measured in the same run. Writes `results.md`, `results.json` and
`performance.png` to --output_dir; --update_readme replaces the README's
section between the `performance:start` / `performance:end` markers.

Cases (--cases):
  forward     encoder forward, random weights, seq 128, batch 32 (BERT-Base, BERT-Small); in bfloat16
              also the inference forms: ours frozen (as exported SavedModels serve), keras-hub
              with bfloat16 variables, transformers with bfloat16 weights
  train_step  one masked-LM training step (ours: MLM + NSP), BERT-Base, seq 128, batch 8, AdamW
  finetune    fine-tuning steps on real SST-2 sentences (all-MiniLM-L6-v2, batch 32),
              padded to 128 vs cut to each batch's longest row
  tokenize    raw Wikipedia lines -> packed ids, seq 128
  memory      peak resident memory of BERT-Base training steps at seq 512, each configuration
              in its own process, with and without gradient checkpointing

tf-models-official is not among the peers: its releases pin another TensorFlow
(2.20) than ours (2.21), so it cannot share this environment.
"""

import json
import os
import platform
import statistics
import subprocess
import sys
import time

from absl import app, flags

flags.DEFINE_list("cases", ["forward", "train_step", "finetune", "tokenize", "memory"], "Cases to run.")
flags.DEFINE_integer("repeats", 5, "Timed rounds per configuration (the median is reported).")
flags.DEFINE_integer("warmup", 2, "Untimed rounds first (tracing, caches).")
flags.DEFINE_bool("quick", False, "Tiny models and little data: a smoke run of every code path in about a minute.")
flags.DEFINE_string("sst2_file", "../shared/data/glue/sst2/train.tsv", "SST-2 train.tsv for the finetune case.")
flags.DEFINE_integer("finetune_sentences", 1024, "SST-2 sentences per finetune round.")
flags.DEFINE_string("wiki_files", "../shared/data/wiki/wiki_*", "Wikipedia text for the tokenize case.")
flags.DEFINE_integer("tokenize_lines", 100_000, "Lines per tokenize round.")
flags.DEFINE_integer("memory_batch", 8, "Batch of the memory case (seq 512).")
flags.DEFINE_string("output_dir", "reports/performance", "Where results.md, results.json, performance.png go.")
flags.DEFINE_bool("update_readme", False, "Replace the README's performance section with the results.")
flags.DEFINE_string("readme", "README.md", "The README --update_readme rewrites.")
flags.DEFINE_string("memory_child", None, "Internal: run one memory configuration and print its peak.")
FLAGS = flags.FLAGS

# name -> (layers, hidden, heads, intermediate)
SIZES = {"BERT-Base": (12, 768, 12, 3072), "BERT-Small": (4, 512, 8, 2048), "BERT-Tiny": (2, 128, 2, 512)}
VOCAB_SIZE = 30522
README_START, README_END = "<!-- performance:start -->", "<!-- performance:end -->"


def timed_rounds(configs, warmup, repeats):
    """Seconds per round for each config, interleaved: `{name: median seconds}`.

    Each pass starts one config later than the last, so no config always
    runs right after the same other one.

    Args:
        configs: `{name: zero-argument callable doing one round}`.
    """
    for run in configs.values():
        for _ in range(warmup):
            run()
    names = list(configs)
    times = {name: [] for name in configs}
    for round_index in range(repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            configs[name]()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def _random_batch(batch, seq, predictions=0, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    batch_data = {
        "ids": rng.integers(1000, VOCAB_SIZE, (batch, seq)).astype("int32"),
        "segments": np.concatenate([np.zeros((batch, seq // 2)), np.ones((batch, seq - seq // 2))], 1).astype("int32"),
        "mask": np.ones((batch, seq), "int32"),
    }
    if predictions:
        batch_data["positions"] = np.sort(rng.permuted(np.tile(np.arange(1, seq), (batch, 1)), axis=1)[:, :predictions])
        batch_data["labels"] = rng.integers(1000, VOCAB_SIZE, (batch, predictions)).astype("int32")
        batch_data["positions"] = batch_data["positions"].astype("int32")
    return batch_data


class _Policy:
    """Builds Keras models under a dtype policy (`mixed_bfloat16`), then restores float32."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        import keras

        keras.mixed_precision.set_global_policy(self.name)

    def __exit__(self, *exc):
        import keras

        keras.mixed_precision.set_global_policy("float32")


def _ours_encoder(size, **kwargs):
    import keras_bert

    layers, hidden, heads, intermediate = SIZES[size]
    return keras_bert.BertEncoder(vocab_size=VOCAB_SIZE, hidden_size=hidden, num_layers=layers,
                                  num_attention_heads=heads, intermediate_size=intermediate, **kwargs)


def _hub_backbone(size):
    import keras_hub

    layers, hidden, heads, intermediate = SIZES[size]
    return keras_hub.models.BertBackbone(vocabulary_size=VOCAB_SIZE, num_layers=layers, num_heads=heads,
                                         hidden_dim=hidden, intermediate_dim=intermediate)


def _hf_config(size):
    import transformers

    layers, hidden, heads, intermediate = SIZES[size]
    return transformers.BertConfig(vocab_size=VOCAB_SIZE, hidden_size=hidden, num_hidden_layers=layers,
                                   num_attention_heads=heads, intermediate_size=intermediate)


def _ours_mlm_batch(data):
    """`(x, y)` for `BertPretrainer.train_on_batch` from a `_random_batch` with predictions."""
    import numpy as np

    x = {"input_word_ids": data["ids"], "input_mask": data["mask"], "input_type_ids": data["segments"],
         "masked_lm_positions": data["positions"]}
    return x, {"mlm": data["labels"], "nsp": np.zeros((len(data["ids"]),), "int32")}


def _hub_mlm_inputs(data):
    """`BertMaskedLM` inputs from a `_random_batch` with predictions (its labels are `data["labels"]`)."""
    return {"token_ids": data["ids"], "padding_mask": data["mask"], "segment_ids": data["segments"],
            "mask_positions": data["positions"]}


def _hf_mlm_labels(data):
    """`BertForMaskedLM` labels: the masked ids at their positions, -100 (ignored) elsewhere."""
    import numpy as np

    labels = np.full(data["ids"].shape, -100, "int64")
    np.put_along_axis(labels, data["positions"], data["labels"], axis=1)
    return labels


def _hub_masked_lm(size, jit_compile=False):
    """keras-hub's `BertMaskedLM`, compiled as the train step case trains it (AdamW, clipping)."""
    import keras
    import keras_hub

    model = keras_hub.models.BertMaskedLM(_hub_backbone(size), preprocessor=None)
    model.compile(optimizer=keras.optimizers.AdamW(1e-4, weight_decay=0.01, global_clipnorm=1.0),
                  jit_compile=jit_compile, weighted_metrics=[],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _torch_autocast(bfloat16):
    import contextlib

    import torch

    return torch.autocast("cpu", dtype=torch.bfloat16) if bfloat16 else contextlib.nullcontext()


def _frozen_forward(encoder, inputs):
    """The encoder's forward as an exported SavedModel serves it: any batch and length, weights folded
    into constants (`keras_bert.export.freezing.freeze`), so oneDNN keeps them cast and laid out.

    Fresh layers have all-zero biases and layer-norm betas, which the folding would drop with their
    adds (and the fusions that include them); trained weights have none, so these get small values."""
    import tensorflow as tf

    from keras_bert.export.freezing import freeze

    for variable in encoder.weights:
        if variable.path.rsplit("/", 1)[-1] in ("bias", "beta", "gamma"):
            variable.assign(variable + tf.random.normal(variable.shape, stddev=0.02, seed=0))

    def forward(input_word_ids, input_mask, input_type_ids):
        inputs = {"input_word_ids": input_word_ids, "input_mask": input_mask, "input_type_ids": input_type_ids}
        return {"sequence_output": encoder(inputs, training=False)["sequence_output"]}

    serve = freeze(tf.function(forward, input_signature=[tf.TensorSpec([None, None], tf.int32)] * 3))
    ids, mask, segments = inputs["input_word_ids"], inputs["input_mask"], inputs["input_type_ids"]
    return lambda: serve(ids, mask, segments)["sequence_output"].numpy()


def forward_case(sizes, batch=32, seq=128):
    """Encoder forward: sequences/s per configuration, per model size."""
    import tensorflow as tf
    import torch

    data = _random_batch(batch, seq)
    ours_inputs = {"input_word_ids": data["ids"], "input_mask": data["mask"], "input_type_ids": data["segments"]}
    hub_inputs = {"token_ids": data["ids"], "padding_mask": data["mask"], "segment_ids": data["segments"]}
    torch_inputs = {"input_ids": torch.tensor(data["ids"], dtype=torch.long),
                    "attention_mask": torch.tensor(data["mask"]), "token_type_ids": torch.tensor(data["segments"])}
    results = {}
    for size in sizes:
        configs = {}

        def keras_forward(model, inputs, jit_compile=False):
            run = tf.function(lambda x: model(x, training=False)["sequence_output"], jit_compile=jit_compile)
            return lambda: run(inputs).numpy()

        for policy in ("float32", "mixed_bfloat16"):
            suffix = "" if policy == "float32" else " bf16"
            with _Policy(policy):
                configs["keras_bert" + suffix] = keras_forward(_ours_encoder(size), ours_inputs)
                configs["keras-hub" + suffix] = keras_forward(_hub_backbone(size), hub_inputs)
        with _Policy("mixed_bfloat16"):
            configs["keras_bert bf16 frozen"] = _frozen_forward(_ours_encoder(size), ours_inputs)
        with _Policy("bfloat16"):
            configs["keras-hub bf16 variables"] = keras_forward(_hub_backbone(size), hub_inputs)
        configs["keras_bert XLA"] = keras_forward(_ours_encoder(size), ours_inputs, jit_compile=True)
        configs["keras-hub XLA"] = keras_forward(_hub_backbone(size), hub_inputs, jit_compile=True)
        import transformers

        hf_model = transformers.BertModel(_hf_config(size)).eval()
        hf_bfloat16_model = transformers.BertModel(_hf_config(size)).eval().to(torch.bfloat16)
        for name, model, bfloat16 in (("transformers", hf_model, False), ("transformers bf16", hf_model, True),
                                      ("transformers bf16 weights", hf_bfloat16_model, False)):
            def hf_forward(model=model, bfloat16=bfloat16):
                with torch.inference_mode(), _torch_autocast(bfloat16):
                    model(**torch_inputs).last_hidden_state.float().numpy()

            configs[name] = hf_forward
        seconds = timed_rounds(configs, FLAGS.warmup, FLAGS.repeats)
        results[f"forward, {size}, seq {seq}, batch {batch}"] = {name: batch / s for name, s in seconds.items()}
    return results


def train_step_case(size, batch=8, seq=128, predictions=20):
    """One masked-LM training step with AdamW: sequences/s per configuration."""
    import numpy as np
    import torch
    import transformers

    from keras_bert import BertPretrainer
    from keras_bert.training import create_optimizer

    data = _random_batch(batch, seq, predictions)
    weights = np.ones((batch, predictions), "float32")
    ours_x, ours_y = _ours_mlm_batch(data)
    ours_w = {"mlm": weights, "nsp": np.ones((batch,), "float32")}
    hub_x = _hub_mlm_inputs(data)

    def ours(jit_compile=False):
        model = BertPretrainer(_ours_encoder(size))
        model.compile(optimizer=create_optimizer(1e-4, total_steps=10_000, warmup_steps=100), jit_compile=jit_compile)
        return lambda: model.train_on_batch(ours_x, ours_y, ours_w)

    def hub(jit_compile=False):
        model = _hub_masked_lm(size, jit_compile)
        return lambda: model.train_on_batch(hub_x, data["labels"], weights)

    configs = {}
    for policy in ("float32", "mixed_bfloat16"):
        suffix = "" if policy == "float32" else " bf16"
        with _Policy(policy):
            configs["keras_bert" + suffix] = ours()
            configs["keras-hub" + suffix] = hub()
    configs["keras_bert XLA"] = ours(jit_compile=True)
    configs["keras-hub XLA"] = hub(jit_compile=True)

    hf_model = transformers.BertForMaskedLM(_hf_config(size)).train()
    hf_optimizer = torch.optim.AdamW(hf_model.parameters(), lr=1e-4, weight_decay=0.01)
    hf_inputs = {"input_ids": torch.tensor(data["ids"], dtype=torch.long), "attention_mask": torch.tensor(data["mask"]),
                 "token_type_ids": torch.tensor(data["segments"]), "labels": torch.tensor(_hf_mlm_labels(data))}
    for bfloat16 in (False, True):
        def hf_step(bfloat16=bfloat16):
            with _torch_autocast(bfloat16):
                loss = hf_model(**hf_inputs).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(hf_model.parameters(), 1.0)
            hf_optimizer.step()
            hf_optimizer.zero_grad()

        configs["transformers" + (" bf16" if bfloat16 else "")] = hf_step
    seconds = timed_rounds(configs, FLAGS.warmup, FLAGS.repeats)
    return {f"train step (MLM), {size}, seq {seq}, batch {batch}": {name: batch / s for name, s in seconds.items()}}


def _sst2_sentences(count):
    """`count` SST-2 training sentences drawn at random (seed 0): the real length distribution."""
    import numpy as np

    from keras_bert.data import read_glue_tsv

    examples = read_glue_tsv("sst2", FLAGS.sst2_file)
    rows = np.random.default_rng(0).choice(len(examples.labels), min(count, len(examples.labels)), replace=False)
    return [examples.text_a[i] for i in rows], [examples.labels[i] for i in rows]


def finetune_case(batch=32, seq=128):
    """Fine-tuning steps on SST-2 sentences (all-MiniLM-L6-v2): sentences/s, fixed vs per-batch length."""
    import keras
    import numpy as np
    import tensorflow as tf
    import torch
    import transformers

    from keras_bert import BertClassifier
    from keras_bert.checkpoints import default_checkpoint_path, load_encoder_and_vocab
    from keras_bert.data.classification_dataset import trim_to_longest
    from keras_bert.text import BertPreprocessor
    from keras_bert.training import create_optimizer

    texts, labels = _sst2_sentences(FLAGS.finetune_sentences)
    encoder, vocab_file = load_encoder_and_vocab()
    classifier = BertClassifier(encoder, num_classes=2)
    classifier.compile(optimizer=create_optimizer(2e-5, total_steps=10_000),
                       loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    preprocessor = BertPreprocessor(vocab_file, seq)
    padded = [(preprocessor(tf.constant(texts[i:i + batch])), np.array(labels[i:i + batch], "int32"))
              for i in range(0, len(texts), batch)]
    trimmed = [(trim_to_longest(x), y) for x, y in padded]

    def ours(batches):
        def run():
            for x, y in batches:
                classifier.train_on_batch(x, y)
        return run

    checkpoint = default_checkpoint_path()
    hf_model = transformers.BertForSequenceClassification.from_pretrained(checkpoint, num_labels=2).train()
    hf_optimizer = torch.optim.AdamW(hf_model.parameters(), lr=2e-5, weight_decay=0.01)
    hf_tokenizer = transformers.BertTokenizerFast.from_pretrained(checkpoint)

    def hf_batches(padding):
        return [(hf_tokenizer(texts[i:i + batch], padding=padding, truncation=True, max_length=seq,
                              return_tensors="pt"), torch.tensor(labels[i:i + batch]))
                for i in range(0, len(texts), batch)]

    def hf(batches):
        def run():
            for x, y in batches:
                hf_model(**x, labels=y).loss.backward()
                torch.nn.utils.clip_grad_norm_(hf_model.parameters(), 1.0)
                hf_optimizer.step()
                hf_optimizer.zero_grad()
        return run

    configs = {
        "keras_bert, padded to 128": ours(padded),
        "keras_bert, per-batch length": ours(trimmed),
        "transformers, padded to 128": hf(hf_batches("max_length")),
        "transformers, per-batch length": hf(hf_batches("longest")),
    }
    seconds = timed_rounds(configs, min(FLAGS.warmup, 1), FLAGS.repeats)
    return {f"fine-tuning, all-MiniLM-L6-v2, {len(texts):,} SST-2 sentences, batch {batch}":
            {name: len(texts) / s for name, s in seconds.items()}}


def tokenize_case(seq=128, batch=256):
    """Raw lines -> packed ids: lines/s, ours (tf.data, in-graph) vs HF tokenizers (Rust)."""
    import tensorflow as tf
    import tokenizers

    from keras_bert.checkpoints import default_checkpoint_path
    from keras_bert.data import expand_file_patterns, text_lines_dataset
    from keras_bert.text import BertPreprocessor

    vocab_file = os.path.join(default_checkpoint_path(), "vocab.txt")
    lines = [line.decode("utf-8") for line in
             text_lines_dataset(expand_file_patterns(FLAGS.wiki_files)).take(FLAGS.tokenize_lines).as_numpy_iterator()]
    preprocessor = BertPreprocessor(vocab_file, seq)
    dataset = (tf.data.Dataset.from_tensor_slices(lines).batch(batch)
               .map(preprocessor, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))
    reference = tokenizers.BertWordPieceTokenizer(vocab_file, lowercase=True)
    reference.enable_truncation(seq)
    reference.enable_padding(length=seq)

    def ours():
        for _ in dataset:
            pass

    def hf():
        for start in range(0, len(lines), batch):
            reference.encode_batch(lines[start:start + batch])

    seconds = timed_rounds({"keras_bert (tf.data)": ours, "HF tokenizers": hf}, 1, FLAGS.repeats)
    return {f"tokenize + pack, {len(lines):,} Wikipedia lines, seq {seq}": {
        name: len(lines) / s for name, s in seconds.items()}}


def memory_child(config, size, batch, seq, steps=2):
    """Trains `steps` steps of one configuration; returns this process's peak RSS in GiB (Linux).

    Every library trains as in the train step case: AdamW with weight decay and global-norm clipping at 1.0.
    """
    library, _, mode = config.partition(":")
    checkpointing = mode == "checkpointing"
    data = _random_batch(batch, seq, predictions=max(1, seq * 15 // 100))
    if library == "keras_bert":
        from keras_bert import BertPretrainer
        from keras_bert.training import create_optimizer

        model = BertPretrainer(_ours_encoder(size, gradient_checkpointing=checkpointing))
        model.compile(optimizer=create_optimizer(1e-4, total_steps=100))
        x, y = _ours_mlm_batch(data)
        for _ in range(steps):
            model.train_on_batch(x, y)
    elif library == "keras-hub":
        model = _hub_masked_lm(size)
        for _ in range(steps):
            model.train_on_batch(_hub_mlm_inputs(data), data["labels"])
    else:
        import torch
        import transformers

        model = transformers.BertForMaskedLM(_hf_config(size)).train()
        if checkpointing:
            model.gradient_checkpointing_enable()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
        labels = _hf_mlm_labels(data)
        for _ in range(steps):
            model(input_ids=torch.tensor(data["ids"], dtype=torch.long), labels=torch.tensor(labels),
                  attention_mask=torch.tensor(data["mask"]), token_type_ids=torch.tensor(data["segments"])).loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad()
    # VmHWM, not ru_maxrss: after fork + exec, ru_maxrss still counts the parent's pages.
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 2**20  # KiB -> GiB


def memory_case(size, batch, seq):
    """Peak RSS (GiB) of each configuration, each in a fresh process."""
    peaks = {}
    for config in ("keras_bert", "keras_bert:checkpointing", "keras-hub", "transformers",
                   "transformers:checkpointing"):
        command = [sys.executable, os.path.abspath(__file__), f"--memory_child={config}",
                   f"--memory_batch={batch}", f"--quick={FLAGS.quick}"]
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


def precision(configuration):
    """`"bf16"` for the bfloat16 configurations (named "... bf16" or "... bf16 <variant>"), else `"fp32"`."""
    return "bf16" if " bf16" in configuration else "fp32"


def ratio_table(results):
    """Markdown: each case's figures and their ratio to the best peer (not keras_bert) of the same
    case and precision (bf16 against bf16, fp32 against fp32 with or without XLA)."""
    lines = []
    for case, figures in results.items():
        lower_is_better = "lower is better" in case
        best_peer = {}
        for name, value in figures.items():
            if not name.startswith("keras_bert") and value:
                group = precision(name)
                better = min if lower_is_better else max
                best_peer[group] = better(best_peer.get(group, value), value)
        unit = "GiB" if lower_is_better else ("lines/s" if "tokenize" in case else "sequences/s")
        lines += [f"**{case}**", "", f"| configuration | {unit} | vs best peer, same precision |", "|---|---|---|"]
        for name, value in figures.items():
            if value is None:
                lines.append(f"| {name} | failed (out of memory?) | |")
                continue
            peer = best_peer.get(precision(name))
            ratio = f"{(peer / value if lower_is_better else value / peer):.2f}x" if peer else ""
            lines.append(f"| {name} | {value:,.2f} | {ratio} |")
        lines.append("")
    return "\n".join(lines)


def plot(results, path):
    """One horizontal bar chart per case, ours highlighted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(results), 1, figsize=(9, 2.2 + 0.45 * sum(len(f) for f in results.values())),
                             squeeze=False)
    for axis, (case, figures) in zip(axes[:, 0], results.items()):
        names = [n for n, v in figures.items() if v is not None]
        values = [figures[n] for n in names]
        colors = ["tab:orange" if n.startswith("keras_bert") else "tab:gray" for n in names]
        axis.barh(names, values, color=colors)
        axis.invert_yaxis()
        axis.set_title(case, fontsize=9)
        axis.tick_params(labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def machine_line():
    import tensorflow as tf

    flags_line = ""
    if os.path.exists("/proc/cpuinfo"):
        cpu_flags = next((line for line in open("/proc/cpuinfo") if line.startswith("flags")), "")
        flags_line = ", ".join(f for f in ("avx512f", "avx512_bf16", "amx_bf16") if f" {f}" in cpu_flags)
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                 platform.processor()) if os.path.exists("/proc/cpuinfo") else platform.processor()
    return (f"{model}, {os.cpu_count()} cores ({flags_line}), {platform.system()}; TensorFlow {tf.__version__}, "
            f"{time.strftime('%Y-%m-%d')}")


def update_readme(markdown, readme="README.md"):
    text = open(readme, encoding="utf-8").read()
    if README_START not in text or README_END not in text:
        raise ValueError(f"{readme} has no {README_START} ... {README_END} section to replace.")
    head, rest = text.split(README_START, 1)
    tail = rest.split(README_END, 1)[1]
    with open(readme, "w", encoding="utf-8") as f:
        f.write(f"{head}{README_START}\n{markdown}\n{README_END}{tail}")


def main(argv):
    del argv
    if FLAGS.memory_child:
        size, seq = ("BERT-Tiny", 128) if FLAGS.quick else ("BERT-Base", 512)
        print(json.dumps({"peak_gib": round(memory_child(FLAGS.memory_child, size, FLAGS.memory_batch, seq), 2)}))
        return
    if FLAGS.quick:
        FLAGS.repeats, FLAGS.warmup = min(FLAGS.repeats, 2), 1
        FLAGS.finetune_sentences, FLAGS.tokenize_lines = min(FLAGS.finetune_sentences, 64), min(FLAGS.tokenize_lines, 2000)
        FLAGS.memory_batch = min(FLAGS.memory_batch, 2)
    sizes = ["BERT-Tiny"] if FLAGS.quick else ["BERT-Base", "BERT-Small"]
    train_size = "BERT-Tiny" if FLAGS.quick else "BERT-Base"
    unknown = set(FLAGS.cases) - {"forward", "train_step", "finetune", "tokenize", "memory"}
    if unknown:
        raise app.UsageError(f"Unknown --cases {sorted(unknown)}; choose from forward, train_step, finetune, "
                             "tokenize, memory.")
    os.makedirs(FLAGS.output_dir, exist_ok=True)
    by_case = {}
    started = time.time()
    # The memory case first: its children train BERT-Base at seq 512 beside
    # this process, which must not yet hold the other cases' models (the
    # kernel's OOM killer picks the largest process).
    for case in sorted(FLAGS.cases, key=lambda case: case != "memory"):
        print(f"[{time.time() - started:6.0f} s] {case} ...", flush=True)
        if case == "forward":
            by_case[case] = forward_case(sizes, batch=8 if FLAGS.quick else 32)
        elif case == "train_step":
            by_case[case] = train_step_case(train_size)
        elif case == "finetune":
            by_case[case] = finetune_case()
        elif case == "tokenize":
            by_case[case] = tokenize_case()
        else:
            by_case[case] = memory_case(train_size, FLAGS.memory_batch, 128 if FLAGS.quick else 512)
    results = {name: speeds for case in FLAGS.cases for name, speeds in by_case[case].items()}
    all_cases = FLAGS["cases"].default
    cases_flag = "" if list(FLAGS.cases) == list(all_cases) else f" --cases={','.join(FLAGS.cases)}"
    markdown = (f"Measured on {machine_line()}; `python benchmarks/run_performance.py{cases_flag} "
                f"--repeats={FLAGS.repeats}{' --quick' if FLAGS.quick else ''}` "
                f"({time.time() - started:.0f} s). Speeds are medians of {FLAGS.repeats} interleaved rounds after "
                f"warm-up, each pass starting one configuration later; \"vs best peer\" divides by the fastest "
                f"non-keras_bert configuration of the same case "
                f"and precision (bf16: Keras' mixed_bfloat16 policy, torch.autocast for transformers; in the forward "
                f"case also each library's bfloat16 inference form: ours frozen as an exported SavedModel serves "
                f"it, keras-hub with bfloat16 variables, transformers with bfloat16 weights; for memory: "
                f"the best peer's peak divided by ours).\n\n"
                f"![performance](reports/performance/performance.png)\n\n{ratio_table(results)}")
    with open(os.path.join(FLAGS.output_dir, "results.md"), "w") as f:
        f.write(markdown)
    with open(os.path.join(FLAGS.output_dir, "results.json"), "w") as f:
        json.dump({"machine": machine_line(), "repeats": FLAGS.repeats, "results": results}, f, indent=2)
    plot(results, os.path.join(FLAGS.output_dir, "performance.png"))
    print(markdown)
    if FLAGS.update_readme:
        update_readme(markdown, FLAGS.readme)


if __name__ == "__main__":
    app.run(main)

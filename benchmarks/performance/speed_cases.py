"""The speed cases: encoder forward, a masked-LM train step, fine-tuning on SST-2, tokenizing Wikipedia.

Each returns `{case title: {configuration: items per second}}`.
"""

import os

from performance.harness import Policy, random_batch, timed_rounds
from performance.peers import (
    frozen_forward,
    hf_config,
    hf_mlm_labels,
    hub_backbone,
    hub_masked_lm,
    hub_mlm_inputs,
    ours_encoder,
    ours_mlm_batch,
    torch_autocast,
)


def forward_case(sizes, warmup, repeats, batch=32, seq=128):
    """Encoder forward: sequences/s per configuration, per model size."""
    import tensorflow as tf
    import torch

    data = random_batch(batch, seq)
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
            with Policy(policy):
                configs["keras_bert" + suffix] = keras_forward(ours_encoder(size), ours_inputs)
                configs["keras-hub" + suffix] = keras_forward(hub_backbone(size), hub_inputs)
        with Policy("mixed_bfloat16"):
            # As exported: frozen weights take the matmul kernels (export.freezing.model_to_freeze).
            configs["keras_bert bf16 frozen"] = frozen_forward(ours_encoder(size, dense_inference_kernel="matmul"),
                                                               ours_inputs)
        with Policy("bfloat16"):
            configs["keras-hub bf16 variables"] = keras_forward(hub_backbone(size), hub_inputs)
        configs["keras_bert XLA"] = keras_forward(ours_encoder(size), ours_inputs, jit_compile=True)
        configs["keras-hub XLA"] = keras_forward(hub_backbone(size), hub_inputs, jit_compile=True)
        import transformers

        hf_model = transformers.BertModel(hf_config(size)).eval()
        hf_bfloat16_model = transformers.BertModel(hf_config(size)).eval().to(torch.bfloat16)
        for name, model, bfloat16 in (("transformers", hf_model, False), ("transformers bf16", hf_model, True),
                                      ("transformers bf16 weights", hf_bfloat16_model, False)):
            def hf_forward(model=model, bfloat16=bfloat16):
                with torch.inference_mode(), torch_autocast(bfloat16):
                    model(**torch_inputs).last_hidden_state.float().numpy()

            configs[name] = hf_forward
        seconds = timed_rounds(configs, warmup, repeats)
        results[f"forward, {size}, seq {seq}, batch {batch}"] = {name: batch / s for name, s in seconds.items()}
    return results


def train_step_case(size, warmup, repeats, batch=8, seq=128, predictions=20):
    """One masked-LM training step with AdamW: sequences/s per configuration."""
    import numpy as np
    import torch
    import transformers

    from keras_bert import BertPretrainer
    from keras_bert.training import create_optimizer

    data = random_batch(batch, seq, predictions)
    weights = np.ones((batch, predictions), "float32")
    ours_x, ours_y = ours_mlm_batch(data)
    ours_w = {"mlm": weights, "nsp": np.ones((batch,), "float32")}
    hub_x = hub_mlm_inputs(data)

    def ours(jit_compile=False):
        model = BertPretrainer(ours_encoder(size))
        model.compile(optimizer=create_optimizer(1e-4, total_steps=10_000, warmup_steps=100), jit_compile=jit_compile)
        return lambda: model.train_on_batch(ours_x, ours_y, ours_w)

    def hub(jit_compile=False):
        model = hub_masked_lm(size, jit_compile)
        return lambda: model.train_on_batch(hub_x, data["labels"], weights)

    configs = {}
    for policy in ("float32", "mixed_bfloat16"):
        suffix = "" if policy == "float32" else " bf16"
        with Policy(policy):
            configs["keras_bert" + suffix] = ours()
            configs["keras-hub" + suffix] = hub()
    configs["keras_bert XLA"] = ours(jit_compile=True)
    configs["keras-hub XLA"] = hub(jit_compile=True)

    hf_model = transformers.BertForMaskedLM(hf_config(size)).train()
    hf_optimizer = torch.optim.AdamW(hf_model.parameters(), lr=1e-4, weight_decay=0.01)
    hf_inputs = {"input_ids": torch.tensor(data["ids"], dtype=torch.long), "attention_mask": torch.tensor(data["mask"]),
                 "token_type_ids": torch.tensor(data["segments"]), "labels": torch.tensor(hf_mlm_labels(data))}
    for bfloat16 in (False, True):
        def hf_step(bfloat16=bfloat16):
            with torch_autocast(bfloat16):
                loss = hf_model(**hf_inputs).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(hf_model.parameters(), 1.0)
            hf_optimizer.step()
            hf_optimizer.zero_grad()

        configs["transformers" + (" bf16" if bfloat16 else "")] = hf_step
    seconds = timed_rounds(configs, warmup, repeats)
    return {f"train step (MLM), {size}, seq {seq}, batch {batch}": {name: batch / s for name, s in seconds.items()}}


def _sst2_sentences(sst2_file, count):
    """`count` SST-2 training sentences drawn at random (seed 0): the real length distribution."""
    import numpy as np

    from keras_bert.data import read_glue_tsv

    examples = read_glue_tsv("sst2", sst2_file)
    rows = np.random.default_rng(0).choice(len(examples.labels), min(count, len(examples.labels)), replace=False)
    return [examples.text_a[i] for i in rows], [examples.labels[i] for i in rows]


def finetune_case(sst2_file, sentences, warmup, repeats, batch=32, seq=128):
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

    texts, labels = _sst2_sentences(sst2_file, sentences)
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
    seconds = timed_rounds(configs, min(warmup, 1), repeats)
    return {f"fine-tuning, all-MiniLM-L6-v2, {len(texts):,} SST-2 sentences, batch {batch}":
            {name: len(texts) / s for name, s in seconds.items()}}


def tokenize_case(wiki_files, line_count, repeats, seq=128, batch=256):
    """Raw lines -> packed ids: lines/s, ours (tf.data, in-graph) vs HF tokenizers (Rust)."""
    import tensorflow as tf
    import tokenizers

    from keras_bert.checkpoints import default_checkpoint_path
    from keras_bert.data import expand_file_patterns, text_lines_dataset
    from keras_bert.text import BertPreprocessor

    vocab_file = os.path.join(default_checkpoint_path(), "vocab.txt")
    lines = [line.decode("utf-8") for line in
             text_lines_dataset(expand_file_patterns(wiki_files)).take(line_count).as_numpy_iterator()]
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

    seconds = timed_rounds({"keras_bert (tf.data)": ours, "HF tokenizers": hf}, 1, repeats)
    return {f"tokenize + pack, {len(lines):,} Wikipedia lines, seq {seq}": {
        name: len(lines) / s for name, s in seconds.items()}}

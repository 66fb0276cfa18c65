"""Writes frozen BERT features of chosen layers for every token of every line.

    python examples/extract_features.py --input_file=sentences.txt \
        --layers=-1,-2,-3,-4 --output_file=/tmp/features.jsonl

Input: one example a line; `text_a ||| text_b` for a pair (the original's format).
Output: `.jsonl` as the original extract_features.py wrote it (one object a line:
`linex_index`, then per token its piece and each layer's values rounded to 6
decimals), or `.npz` with `features` (examples, seq, layers, hidden), `input_mask`
and `tokens`.
"""

import json
import sys

from absl import app, flags

import common_flags

common_flags.define_checkpoint_flags()
flags.DEFINE_string("input_file", None, "Text file, one example a line.")
flags.DEFINE_string("output_file", None, "Ends in .jsonl or .npz.")
flags.DEFINE_list("layers", ["-1", "-2", "-3", "-4"], "Layer indices, -1 the last.")
flags.DEFINE_integer("max_seq_length", 128, "Packed length.", lower_bound=3)
flags.DEFINE_integer("batch_size", 32, "", lower_bound=1)
flags.mark_flags_as_required(["input_file", "output_file"])
FLAGS = flags.FLAGS


def main(argv):
    del argv
    import numpy as np
    import tensorflow as tf

    import keras_bert
    from keras_bert.text import BertPreprocessor, load_vocab

    try:
        if not FLAGS.output_file.endswith((".jsonl", ".npz")):
            raise ValueError(f"--output_file={FLAGS.output_file} must end in .jsonl or .npz.")
        layers = [int(i) for i in FLAGS.layers]
        encoder, vocab_file, lower_case = common_flags.load_encoder(
            FLAGS.init_checkpoint, FLAGS.vocab_file, FLAGS.max_seq_length, do_lower_case=FLAGS.do_lower_case)
        preprocessor = BertPreprocessor(vocab_file, FLAGS.max_seq_length, lower_case=lower_case)
        with open(FLAGS.input_file, encoding="utf-8") as f:
            lines = [line.rstrip("\n") for line in f]
        if not any(lines):
            raise ValueError(f"{FLAGS.input_file} has no text.")
    except (ImportError, OSError, ValueError) as e:
        sys.exit(f"extract_features.py: {common_flags.with_flag_names(e, {'seq_length': 'max_seq_length'})}")

    examples = [line.split(" ||| ", 1) for line in lines]
    # Singles and pairs pack differently ([CLS] A [SEP] vs [CLS] A [SEP] B [SEP]).
    groups = [[i for i, e in enumerate(examples) if len(e) == n] for n in (1, 2)]
    vocab = load_vocab(vocab_file)
    features = np.zeros((len(lines), FLAGS.max_seq_length, len(layers), encoder.config.hidden_size), "float32")
    masks = np.zeros((len(lines), FLAGS.max_seq_length), "int32")
    tokens = [None] * len(lines)
    for group in groups:
        for start in range(0, len(group), FLAGS.batch_size):
            rows = group[start : start + FLAGS.batch_size]
            segments = tuple(tf.constant([examples[i][k] for i in rows]) for k in range(len(examples[rows[0]])))
            inputs = preprocessor(segments if len(segments) == 2 else segments[0])
            try:
                features[rows] = keras_bert.models.layer_features(encoder, inputs, layers)
            except ValueError as e:
                sys.exit(f"extract_features.py: {e}")
            masks[rows] = inputs["input_mask"].numpy()
            for i, ids, mask in zip(rows, inputs["input_word_ids"].numpy(), masks[rows]):
                tokens[i] = [vocab[t] for t in ids[mask == 1]]

    if FLAGS.output_file.endswith(".npz"):
        np.savez(FLAGS.output_file, features=features, input_mask=masks,
                 tokens=np.array([" ".join(t) for t in tokens]), layers=np.array(layers))
    else:
        with open(FLAGS.output_file, "w", encoding="utf-8") as f:
            for index, (row, pieces) in enumerate(zip(features, tokens)):
                record = {"linex_index": index, "features": [
                    {"token": piece, "layers": [
                        {"index": layer, "values": [round(float(v), 6) for v in row[position, k]]}
                        for k, layer in enumerate(layers)
                    ]} for position, piece in enumerate(pieces)
                ]}
                f.write(json.dumps(record) + "\n")
    print(f"Wrote features of {len(lines)} examples, layers {layers}, to {FLAGS.output_file}.")


if __name__ == "__main__":
    app.run(main)

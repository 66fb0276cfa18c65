"""Learns a BERT WordPiece vocabulary from text files.

    python examples/build_vocab.py --input_files='../shared/data/wiki/wiki_*' \
        --vocab_size=30000 --lower_case --output_file=/tmp/vocab.txt

Input: plain text or WikiExtractor `<doc>` files, one paragraph or sentence a
line. Output: one token a line, `[PAD] [UNK] [CLS] [SEP] [MASK]` first.
"""

import os
import sys
import time

from absl import app, flags

flags.DEFINE_string("input_files", None, "Comma-separated globs of text files.")
flags.DEFINE_integer("vocab_size", 30000, "Largest vocabulary size (the learner lands within 5% below).", lower_bound=6)
flags.DEFINE_bool("lower_case", True, "Learn an uncased vocabulary.")
flags.DEFINE_integer("num_unused", 0, "[unusedN] placeholders after the special tokens.", lower_bound=0)
flags.DEFINE_integer("max_lines", 0, "Read at most this many lines (0: all).", lower_bound=0)
flags.DEFINE_string("output_file", None, "Where to write vocab.txt.")
flags.mark_flags_as_required(["input_files", "output_file"])
FLAGS = flags.FLAGS


def main(argv):
    del argv
    from keras_bert.data import expand_file_patterns, text_lines_dataset
    from keras_bert.text import learn_vocab

    try:
        files = expand_file_patterns(FLAGS.input_files)
        output_dir = os.path.dirname(os.path.abspath(FLAGS.output_file))
        if not os.access(output_dir, os.W_OK):
            raise PermissionError(f"Cannot write to {output_dir}; choose another --output_file.")
    except OSError as e:
        sys.exit(f"build_vocab.py: {e}")
    print(f"Counting words in {len(files)} file(s)...")
    lines = text_lines_dataset(files)
    if FLAGS.max_lines:
        lines = lines.take(FLAGS.max_lines)
    start = time.time()
    try:
        vocab = learn_vocab(
            lines.batch(1024), FLAGS.vocab_size, lower_case=FLAGS.lower_case, num_unused=FLAGS.num_unused
        )
    except ValueError as e:
        sys.exit(f"build_vocab.py: {e}")
    with open(FLAGS.output_file, "w", encoding="utf-8") as f:
        f.write("\n".join(vocab) + "\n")
    print(f"Wrote {len(vocab)} tokens to {FLAGS.output_file} in {time.time() - start:.0f} s.")


if __name__ == "__main__":
    app.run(main)

"""Turns raw text into TFRecords of BERT pretraining instances (sentence pairs + NSP labels).

    python examples/create_pretraining_data.py \
        --input_file='../shared/data/wiki/wiki_*' --output_file=/tmp/wiki.tfrecord \
        --vocab_file=../shared/data/vocab/bert-base-uncased-vocab.txt --max_seq_length=128
    python examples/create_pretraining_data.py --tfds_name=wikipedia/20230601.en ...

Text: WikiExtractor `<doc>` files or the original format (one sentence per line, a blank
line between documents), or a tensorflow-datasets text dataset. For Chinese whole-word
masking, give the text word-segmented with spaces and --segmented_words. Masks are drawn later
in the input pipeline (dynamic masking) unless --static_masking draws them here, as
the original did; records are read by examples/run_pretraining.py.
"""

import sys

from absl import app, flags

import common_flags

flags.DEFINE_string("input_file", None, "Comma-separated globs of text files.")
flags.DEFINE_string("tfds_name", None, "A tensorflow-datasets text dataset, instead of --input_file.")
flags.DEFINE_string("tfds_split", "train", "")
flags.DEFINE_string("tfds_text_key", "text", "The feature holding each document's text.")
flags.DEFINE_string("tfds_data_dir", None, "tensorflow-datasets data directory.")
flags.DEFINE_string("output_file", None, "Comma-separated output TFRecord paths (one shard each).")
flags.DEFINE_string("vocab_file", None, "WordPiece vocabulary. Default: all-MiniLM-L6-v2's (BERT uncased).")
common_flags.define_lower_case_flag()
flags.DEFINE_bool("split_sentences", True, "Break lines into sentences (for a paragraph per line).")
flags.DEFINE_bool("segmented_words", False, "The text is word-segmented with spaces (e.g. Chinese through jieba): "
                  "whole-word masking then masks each such word whole.")
flags.DEFINE_integer("max_seq_length", 128, "", lower_bound=3)
flags.DEFINE_float("short_seq_prob", 0.1, "Probability of a shorter target length.", lower_bound=0.0, upper_bound=1.0)
flags.DEFINE_integer("dupe_factor", 10, "Passes over the text, each pairing it differently.", lower_bound=1)
flags.DEFINE_integer("random_seed", 12345, "", lower_bound=0)
flags.DEFINE_bool("packed_sequences", False, "Full single-segment windows of the concatenated documents instead "
                  "of sentence pairs: no padding, no next-sentence labels (for masked-LM-only pretraining).")
flags.DEFINE_bool("static_masking", False, "Draw the masks now (the original's way) instead of per read.")
flags.DEFINE_bool("do_whole_word_mask", False, "With --static_masking: mask whole words.")
flags.DEFINE_integer("max_predictions_per_seq", 20, "With --static_masking.", lower_bound=1)
flags.DEFINE_float("masked_lm_prob", 0.15, "With --static_masking.", lower_bound=0.0, upper_bound=1.0)
flags.mark_flags_as_mutual_exclusive(["input_file", "tfds_name"], required=True)
flags.mark_flag_as_required("output_file")
FLAGS = flags.FLAGS
# Library arguments -> this script's flags, for error messages.
_FLAG_NAMES = {"max_seq_length": "max_seq_length", "text_key": "tfds_text_key",
               "max_predictions_per_seq": "max_predictions_per_seq", "masked_lm_prob": "masked_lm_prob"}


def main(argv):
    del argv
    from keras_bert.data import MaskingOptions, make_pretraining_records, pretraining_data
    from keras_bert.data.text_files import expand_file_patterns
    from keras_bert.presets import default_vocab_file, resolve_lower_case
    from keras_bert.text import BertTokenizer

    try:
        vocab_file = FLAGS.vocab_file or default_vocab_file()
        tokenizer = BertTokenizer(vocab_file, lower_case=resolve_lower_case(None, FLAGS.do_lower_case, vocab_file))
        if FLAGS.tfds_name:
            documents = pretraining_data.read_tfds_documents(
                FLAGS.tfds_name, tokenizer, FLAGS.tfds_split, FLAGS.tfds_text_key, FLAGS.tfds_data_dir,
                FLAGS.split_sentences,
            )
        else:
            documents = pretraining_data.read_documents(
                expand_file_patterns(FLAGS.input_file), tokenizer, FLAGS.split_sentences, FLAGS.segmented_words
            )
        masking = None
        if FLAGS.static_masking:
            masking = MaskingOptions.from_vocab_file(
                vocab_file, max_predictions_per_seq=FLAGS.max_predictions_per_seq,
                masked_lm_prob=FLAGS.masked_lm_prob, whole_word_masking=FLAGS.do_whole_word_mask,
            )
        print(f"Read {len(documents):,} documents, {sum(len(d) for d in documents):,} segments.")
        outputs = FLAGS.output_file.split(",")
        instances = make_pretraining_records(
            documents, tokenizer, outputs, FLAGS.max_seq_length, FLAGS.short_seq_prob, FLAGS.dupe_factor,
            FLAGS.random_seed, masking, show_progress=True, packed=FLAGS.packed_sequences,
        )
    except (OSError, ValueError) as e:
        sys.exit(f"create_pretraining_data.py: {common_flags.with_flag_names(e, _FLAG_NAMES)}")
    filled = sum(len(i.input_ids) for i in instances) / max(len(instances) * FLAGS.max_seq_length, 1)
    random_next = sum(i.next_sentence_label for i in instances) / max(len(instances), 1)
    pairs = "" if FLAGS.packed_sequences else f", {random_next:.1%} random next"
    print(f"Wrote {len(instances):,} instances to {len(outputs)} file(s); {filled:.1%} of positions hold text{pairs}.")


if __name__ == "__main__":
    app.run(main)

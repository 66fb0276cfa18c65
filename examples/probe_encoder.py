"""Linear probes of a frozen encoder: what one layer's vectors make linearly readable.

    python examples/probe_encoder.py --init_checkpoint=/tmp/keras_bert_pretraining \
        --conll_train_file=../shared/data/conll2003/train.txt \
        --conll_eval_file=../shared/data/conll2003/valid.txt --output_dir=/tmp/probe
    python examples/probe_encoder.py ... --random_init    # the same architecture, fresh seeded weights
    python examples/probe_encoder.py --probes=token_identity --text_files=../shared/data/wiki/wiki_31

Probes (--probes):
  token_identity  the input token at each position of raw --text_files sentences (one sentence per
                  sequence, no masking; [CLS], [SEP] and padding left out). The first half of the
                  sentences trains the probe, the second half scores it. Its classes are the token ids
                  seen in the training half: a test token outside them counts as an error.
  pos, chunk      CoNLL-2003's second and third column, per word at its first WordPiece: trained on
                  --conll_train_file, scored on --conll_eval_file (no CoNLL sample is bundled: pass
                  both, or --probes=token_identity).

The encoder (--init_checkpoint: any layout load_encoder reads, run_pretraining.py's model
directory included) runs once over each text; each probe is a softmax layer
(`keras.layers.Dense(classes)`) trained with Adam on the frozen vectors of --layer. Writes
OUTPUT_DIR/eval_results.json: `layer`, `random_init` and per probe `<probe>_accuracy`,
`<probe>_majority_accuracy` (always the most frequent training class), `<probe>_train_positions`,
`<probe>_test_positions`, `<probe>_classes`, and `token_identity_ceiling` (the share of test
tokens seen in training).
"""

import json
import os
import sys

from absl import app, flags

import common_flags

_SAMPLE_TEXT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "wiki_sample", "heldout.txt")
PROBES = ("token_identity", "pos", "chunk")
CONLL_COLUMNS = {"pos": 1, "chunk": 2}  # CoNLL-2003: word POS chunk NER

common_flags.define_checkpoint_flags()
flags.DEFINE_bool("random_init", False, "The checkpoint's architecture and vocabulary with fresh random weights "
                  "(seeded by --seed): the random-encoder baseline.")
flags.DEFINE_list("probes", list(PROBES), "Probes to run, among " + ", ".join(PROBES) + ".")
flags.DEFINE_string("text_files", _SAMPLE_TEXT, "token_identity: comma-separated globs of raw text (plain, or "
                    "WikiExtractor's <doc> blocks), held out from pretraining. Default: the bundled Wikipedia sample.")
flags.DEFINE_string("conll_train_file", None, "pos, chunk: CoNLL-2003 file to train the probes on, e.g. "
                    "../shared/data/conll2003/train.txt.")
flags.DEFINE_string("conll_eval_file", None, "pos, chunk: CoNLL-2003 file to score them on, e.g. "
                    "../shared/data/conll2003/valid.txt.")
flags.DEFINE_integer("max_seq_length", 64, "Packed length, [CLS] and [SEP] included; longer text sentences are cut, "
                     "longer CoNLL sentences split into several windows.", lower_bound=3)
flags.DEFINE_integer("max_train_sentences", 3000, "Each probe trains on at most this many sentences (the first ones).",
                     lower_bound=1)
flags.DEFINE_integer("max_eval_sentences", None, "Each probe is scored on at most this many sentences (the first "
                     "ones of its test part). Default: all.", lower_bound=1)
flags.DEFINE_integer("layer", -1, "Which layer's vectors to probe: an index into the encoder's per-layer outputs, "
                     "-1 the last.")
flags.DEFINE_integer("epochs", 5, "Passes of the probe over its training positions.", lower_bound=1)
flags.DEFINE_float("learning_rate", 1e-2, "Adam learning rate of the probes.", lower_bound=0.0)
flags.DEFINE_integer("seed", 42, "Seeds the random-init weights and the probes' init and data order.", lower_bound=0)
flags.DEFINE_string("output_dir", "/tmp/keras_bert_probe", "Where eval_results.json goes.")
flags.register_validator("probes", lambda probes: bool(probes) and set(probes) <= set(PROBES),
                         message="--probes takes one or more of " + ", ".join(PROBES) + ".")
flags.register_validator("learning_rate", lambda value: value > 0, message="--learning_rate must be greater than 0.")
FLAGS = flags.FLAGS
# Library arguments -> this script's flags, for error messages.
_FLAG_NAMES = {"seq_length": "max_seq_length"}
_ENCODE_BATCH = 64  # sentences per encoder call
_PROBE_BATCH = 256  # positions per probe update


def read_conll_columns(path, columns, flag):
    """`(words, {column: tags})` of a CoNLL file: per sentence its words and, per 0-based column, its tags.

    Raises:
        FileNotFoundError, ValueError: naming `flag` and the file (and the
            line of a line without the column).
    """
    from keras_bert.data.conll import conll_sentences
    from keras_bert.data.text_files import open_utf8

    if not os.path.isfile(path):
        raise FileNotFoundError(f"{flag}={path} does not exist; pass a CoNLL-2003 file (word POS chunk NER lines).")
    words, tags = [], {column: [] for column in columns}
    with open_utf8(path) as f:
        for sentence in conll_sentences(f):
            for line_number, fields in sentence:
                if len(fields) <= max(columns):
                    raise ValueError(f"{flag}={path}, line {line_number}: {' '.join(fields)!r} has no column "
                                     f"{max(columns) + 1}; the pos and chunk probes need CoNLL-2003's "
                                     "'word POS chunk NER' lines.")
            words.append([fields[0] for _, fields in sentence])
            for column in columns:
                tags[column].append([fields[column] for _, fields in sentence])
    if not words:
        raise ValueError(f"{flag}={path} holds no sentences.")
    return words, tags


def text_probe_data(files, tokenizer, seq_length, max_train, max_eval):
    """token_identity's `{"train": (inputs, keep), "test": ...}` and `{"token_identity": {part: labels}}`.

    Each sentence of `files` is packed alone, `[CLS] sentence [SEP]`. The
    first half of the sentences (at most `max_train`) trains, the second
    half (its first `max_eval`) scores; `keep` marks each real token, its
    label the token's own id.
    """
    import tensorflow as tf

    from keras_bert.data import read_documents
    from keras_bert.text.packing import pack_segments

    sentences = [sentence for document in read_documents(files, tokenizer) for sentence in document]
    if len(sentences) < 2:
        raise ValueError(f"--text_files={','.join(files)} holds {len(sentences)} sentence(s); token_identity needs "
                         "at least two (half trains the probe, half scores it).")
    half = len(sentences) // 2
    parts = {"train": sentences[:half][:max_train], "test": sentences[half:][:max_eval]}
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    data, labels = {}, {}
    for part, part_sentences in parts.items():
        ragged = tf.ragged.constant([s.tolist() for s in part_sentences], tf.int32)
        inputs = {name: t.numpy() for name, t in pack_segments([ragged], seq_length, cls_id, sep_id).items()}
        ids = inputs["input_word_ids"]
        keep = (inputs["input_mask"] == 1) & (ids != cls_id) & (ids != sep_id)
        data[part], labels[part] = (inputs, keep), ids[keep]
    return data, {"token_identity": labels}


def conll_probe_data(probes, train_file, eval_file, tokenizer, seq_length, max_train, max_eval):
    """The CoNLL probes' `{"train": (inputs, keep), "test": ...}` and `{probe: {part: labels}}`, label names.

    `keep` marks each word's first piece, its label the index of the word's
    tag in the probe's label names (the third value, `{probe: names}`).
    """
    from keras_bert.data import IGNORED_LABEL, ConllSentences, token_classification_features
    from keras_bert.features import INPUT_NAMES

    columns = [CONLL_COLUMNS[probe] for probe in probes]
    parts = {}  # part: (path, words, {column: tags}), cut to the sentences used
    for part, path, flag, limit in (("train", train_file, "--conll_train_file", max_train),
                                    ("test", eval_file, "--conll_eval_file", max_eval)):
        words, tags = read_conll_columns(path, columns, flag)
        parts[part] = path, words[:limit], {column: column_tags[:limit] for column, column_tags in tags.items()}
    # Every tag of both parts, so a tag seen only in the test part is scored (as an error) instead of refused.
    label_names = {probe: sorted({tag for _, _, tags in parts.values() for sentence in tags[CONLL_COLUMNS[probe]]
                                  for tag in sentence}) for probe in probes}
    data, labels = {}, {probe: {} for probe in probes}
    for part, (path, words, tags) in parts.items():
        for probe in probes:
            sentences = ConllSentences(words, tags[CONLL_COLUMNS[probe]], path)
            # The windows and their first pieces depend on the words only: the same for every probe.
            features = token_classification_features(sentences, tokenizer, label_names[probe], seq_length)
            keep = features["labels"] != IGNORED_LABEL
            data[part] = ({name: features[name] for name in INPUT_NAMES}, keep)
            labels[probe][part] = features["labels"][keep]
    return data, labels, label_names


def layer_vectors(encoder, inputs, keep, layer):
    """The `layer`'s vectors at the positions where `keep` is true, row by row: float32 `(positions, hidden)`.

    Args:
        encoder: a `BertEncoder`, run frozen (`training=False`).
        inputs: the encoder's input dict of numpy arrays `(rows, seq_length)`.
        keep: bool array `(rows, seq_length)`.
        layer: index into the encoder's per-layer outputs.
    """
    import numpy as np

    from keras_bert.features import INPUT_NAMES
    from keras_bert.models import layer_features

    lengths = inputs["input_mask"].sum(1)
    counts = keep.sum(1)
    offsets = np.cumsum(counts) - counts  # where each row's vectors start in the result
    vectors = np.zeros((counts.sum(), encoder.config.hidden_size), np.float32)
    order = np.argsort(lengths, kind="stable")  # batches of similar lengths: little padding to compute
    for start in range(0, len(order), _ENCODE_BATCH):
        rows = order[start : start + _ENCODE_BATCH]
        length = int(lengths[rows].max())
        batch = {name: inputs[name][rows, :length] for name in INPUT_NAMES}
        hidden = layer_features(encoder, batch, [layer])[:, :, 0]
        for row, row_hidden in zip(rows, hidden):
            vectors[offsets[row] : offsets[row] + counts[row]] = row_hidden[keep[row, :length]]
    return vectors


def fit_probe(train_x, train_y, num_classes, epochs, learning_rate):
    """A linear softmax probe (`Dense(num_classes)` on the frozen vectors) trained with Adam."""
    import keras

    probe = keras.Sequential([keras.Input((train_x.shape[1],)), keras.layers.Dense(num_classes)])
    probe.compile(keras.optimizers.Adam(learning_rate),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    probe.fit(train_x, train_y, batch_size=_PROBE_BATCH, epochs=epochs, shuffle=True, verbose=0)
    return probe


def score_probe(probe_name, vectors, labels, num_classes, epochs, learning_rate):
    """Trains one probe on the train part's vectors and scores it on the test part's; its eval_results entries.

    `num_classes=None`: the labels are token ids, and the classes the ids
    seen in training (a test id outside them matches no prediction; the
    share of test ids inside them is reported as `<probe>_ceiling`).
    """
    import numpy as np

    train_y, test_y = labels["train"], labels["test"]
    extra = {}
    if num_classes is None:
        classes = np.unique(train_y)
        train_y = np.searchsorted(classes, train_y)
        found = np.minimum(np.searchsorted(classes, test_y), len(classes) - 1)
        test_y = np.where(classes[found] == test_y, found, -1)
        num_classes = len(classes)
        extra[f"{probe_name}_ceiling"] = float(np.mean(test_y >= 0))
    probe = fit_probe(vectors["train"], train_y, num_classes, epochs, learning_rate)
    predicted = probe.predict(vectors["test"], batch_size=4096, verbose=0).argmax(-1)
    majority = np.bincount(train_y, minlength=num_classes).argmax()
    return {f"{probe_name}_accuracy": float(np.mean(predicted == test_y)),
            f"{probe_name}_majority_accuracy": float(np.mean(test_y == majority)),
            **extra,
            f"{probe_name}_train_positions": int(len(train_y)),
            f"{probe_name}_test_positions": int(len(test_y)),
            f"{probe_name}_classes": int(num_classes)}


def check_conll_files(conll_probes, train_file, eval_file):
    """Refuses CoNLL probes without both files, or with a missing one, naming the flag (before TensorFlow loads).

    Raises:
        ValueError, FileNotFoundError.
    """
    if not conll_probes:
        return
    if not (train_file and eval_file):
        raise ValueError(f"--probes={','.join(conll_probes)} needs --conll_train_file and --conll_eval_file "
                         "(e.g. ../shared/data/conll2003/train.txt and valid.txt), or leave "
                         f"{' and '.join(conll_probes)} out of --probes.")
    for flag, path in (("--conll_train_file", train_file), ("--conll_eval_file", eval_file)):
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{flag}={path} does not exist; pass a CoNLL-2003 file (word POS chunk NER "
                                    "lines), e.g. ../shared/data/conll2003/train.txt.")


def main(argv):
    del argv
    probes = list(dict.fromkeys(FLAGS.probes))  # each once, in the order given
    conll_probes = [p for p in probes if p in CONLL_COLUMNS]
    try:
        check_conll_files(conll_probes, FLAGS.conll_train_file, FLAGS.conll_eval_file)
        import keras

        import keras_bert
        from keras_bert.data import expand_file_patterns
        from keras_bert.text import BertTokenizer

        keras.utils.set_random_seed(FLAGS.seed)  # before the encoder is built: --random_init's weights follow it
        try:
            text_files = expand_file_patterns(FLAGS.text_files) if "token_identity" in probes else []
        except FileNotFoundError as e:
            raise FileNotFoundError(f"--text_files={FLAGS.text_files}: {e}") from None
        try:
            encoder, vocab_file, lower_case = common_flags.load_encoder(
                FLAGS.init_checkpoint, FLAGS.vocab_file, FLAGS.max_seq_length, random_init=FLAGS.random_init,
                do_lower_case=FLAGS.do_lower_case)
        except (OSError, keras_bert.CheckpointError) as e:
            checkpoint = FLAGS.init_checkpoint or "(all-MiniLM-L6-v2, the default)"
            raise ValueError(f"cannot load --init_checkpoint={checkpoint}: {e}") from None
        num_layers = encoder.config.num_layers
        if not -num_layers <= FLAGS.layer < num_layers:
            raise ValueError(f"--layer={FLAGS.layer} does not exist: the encoder has {num_layers} layers; use "
                             f"0..{num_layers - 1} or -1..-{num_layers}.")
        tokenizer = BertTokenizer(vocab_file, lower_case=lower_case)
        sources = []  # (data {part: (inputs, keep)}, {probe: {part: labels}}, {probe: classes})
        if text_files:
            try:
                data, labels = text_probe_data(text_files, tokenizer, FLAGS.max_seq_length,
                                               FLAGS.max_train_sentences, FLAGS.max_eval_sentences)
            except ValueError as e:
                raise ValueError(f"--text_files: {e}") from None
            sources.append((data, labels, {"token_identity": None}))
        if conll_probes:
            data, labels, label_names = conll_probe_data(
                conll_probes, FLAGS.conll_train_file, FLAGS.conll_eval_file, tokenizer, FLAGS.max_seq_length,
                FLAGS.max_train_sentences, FLAGS.max_eval_sentences)
            sources.append((data, labels, {probe: len(names) for probe, names in label_names.items()}))
        common_flags.make_output_dir(FLAGS.output_dir)
    except (ImportError, OSError, ValueError) as e:
        sys.exit(f"probe_encoder.py: {common_flags.with_flag_names(e, _FLAG_NAMES)}")

    layer = FLAGS.layer % num_layers
    results = {"layer": layer, "random_init": FLAGS.random_init}
    for data, labels, num_classes in sources:
        # Encoded once, for all the probes on this text.
        vectors = {part: layer_vectors(encoder, inputs, keep, layer) for part, (inputs, keep) in data.items()}
        for probe in labels:
            scores = score_probe(probe, vectors, labels[probe], num_classes[probe], FLAGS.epochs,
                                 FLAGS.learning_rate)
            results.update(scores)
            print(f"{probe}: accuracy {scores[f'{probe}_accuracy']:.4f} (majority class "
                  f"{scores[f'{probe}_majority_accuracy']:.4f}), {scores[f'{probe}_classes']:,} classes, "
                  f"{scores[f'{probe}_train_positions']:,} train / {scores[f'{probe}_test_positions']:,} test "
                  f"positions, layer {layer} of {num_layers}{', random init' if FLAGS.random_init else ''}.")
    with open(os.path.join(FLAGS.output_dir, "eval_results.json"), "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    app.run(main)

"""Word-labelled sentences -> fixed-length WordPiece windows for token classification."""

import numpy as np
import tensorflow as tf

from keras_bert.data.classification_dataset import BATCH_LENGTH_MULTIPLE, trim_to_longest
from keras_bert.features import IGNORED_LABEL, INPUT_NAMES
from keras_bert.text.packing import pack_segments
from keras_bert.text.word_alignment import first_piece_positions, word_starts


def token_classification_features(sentences, tokenizer, label_names, seq_length):
    """Packs sentences into `[CLS] pieces [SEP]` windows, labels on first pieces.

    Each word's label sits on its first WordPiece; its other pieces and the
    special tokens get `IGNORED_LABEL`. A sentence too long for one window is
    split between words into several windows, never dropped.

    Args:
        sentences: `ConllSentences` (words and tags).
        tokenizer: a `BertTokenizer`.
        label_names: list of tag strings; a tag's id is its index.
        seq_length: int. Window length, [CLS] and [SEP] included.

    Returns:
        A dict of numpy arrays: `input_word_ids`, `input_mask`,
        `input_type_ids`, `labels` (`(windows, seq_length)`, int32), and
        `sentence_index` `(windows,)` / `word_index` `(windows, seq_length)`
        (-1 where no word starts) to map predictions back to words.

    Raises:
        ValueError: naming the sentence and tag not in `label_names`.

    Example:
    >>> import os, tempfile
    >>> from keras_bert.data.conll import ConllSentences
    >>> from keras_bert.text.bert_tokenizer import BertTokenizer
    >>> vocab = os.path.join(tempfile.mkdtemp(), "vocab.txt")
    >>> _ = open(vocab, "w").write("\\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "eu", "re", "##jects"]))
    >>> sentences = ConllSentences([["EU", "rejects"]], [["B-ORG", "O"]], "train.txt")
    >>> features = token_classification_features(sentences, BertTokenizer(vocab), ["O", "B-ORG"], seq_length=6)
    >>> features["input_word_ids"].tolist(), features["labels"].tolist(), features["word_index"].tolist()
    ([[2, 5, 6, 7, 3, 0]], [[-100, 1, 0, -100, -100, -100]], [[-1, 0, 1, -1, -1, -1]])
    """
    label_ids = {name: i for i, name in enumerate(label_names)}
    flat_words = [word for sentence in sentences.words for word in sentence]
    pieces = tokenizer(tf.constant(flat_words)).to_list()
    unk = tokenizer.token_to_id("[UNK]")
    budget = seq_length - 2

    windows = []  # (sentence index, [(word index, pieces, label id)])
    position = 0
    for s, (words, tags) in enumerate(zip(sentences.words, sentences.tags)):
        window, used = [], 0
        for w, tag in enumerate(tags):
            if tag not in label_ids:
                raise ValueError(
                    f"{sentences.source}: sentence {s + 1}, word {words[w]!r} has tag {tag!r}, "
                    f"not one of {list(label_names)}."
                )
            # A word that normalizes to nothing still needs a piece to carry its label.
            word_pieces = (pieces[position] or [unk])[:budget]
            position += 1
            if used + len(word_pieces) > budget:
                windows.append((s, window))
                window, used = [], 0
            window.append((w, word_pieces, label_ids[tag]))
            used += len(word_pieces)
        windows.append((s, window))

    # Pieces (windows, (words), (pieces)), packed and labelled at each word's first piece.
    words = [word for _, window in windows for word in window]
    window_pieces = tf.RaggedTensor.from_nested_row_lengths(
        tf.constant([piece for _, word_pieces, _ in words for piece in word_pieces], tf.int32),
        [[len(window) for _, window in windows], [len(word_pieces) for _, word_pieces, _ in words]],
    )
    inputs = pack_segments([window_pieces], seq_length, tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]"))
    positions = first_piece_positions(word_starts(window_pieces))
    at = (positions.value_rowids().numpy(), positions.flat_values.numpy())
    features = {name: value.numpy() for name, value in inputs.items()}
    features["labels"] = np.full((len(windows), seq_length), IGNORED_LABEL, np.int32)
    features["labels"][at] = [label for _, _, label in words]
    features["word_index"] = np.full((len(windows), seq_length), -1, np.int32)
    features["word_index"][at] = [w for w, _, _ in words]
    features["sentence_index"] = np.array([s for s, _ in windows], np.int32)
    return features


def token_classification_dataset(features, batch_size, shuffle=False, seed=None):
    """`(inputs, labels)` batches from `token_classification_features`, trimmed to the longest row (rounded up).

    Args:
        features: the dict `token_classification_features` returns.
        batch_size: int.
        shuffle: bool. Reshuffle the windows every epoch.
        seed: optional int, for a reproducible order.

    Returns:
        A `tf.data.Dataset` of `(inputs, labels)`: the encoder's input dict
        and the int32 labels, each `(batch, length)` with `length` the
        batch's longest row rounded up to a multiple of
        `BATCH_LENGTH_MULTIPLE`, at most the windows' length
        (`trim_to_longest`).

    Example:
    >>> mask = np.array([[1] * 3 + [0] * 17, [1] * 18 + [0] * 2], "int32")  # windows of 20 pieces
    >>> features = {"input_word_ids": mask * 5, "input_mask": mask, "input_type_ids": 0 * mask,
    ...             "labels": np.where(mask == 1, 1, -100).astype("int32")}
    >>> [(tuple(x["input_word_ids"].shape), tuple(y.shape)) for x, y in token_classification_dataset(features, 1)]
    [((1, 16), (1, 16)), ((1, 20), (1, 20))]
    """
    inputs = {k: features[k] for k in INPUT_NAMES}
    dataset = tf.data.Dataset.from_tensor_slices((inputs, features["labels"]))
    if shuffle:
        dataset = dataset.shuffle(len(features["labels"]), seed=seed, reshuffle_each_iteration=True)

    def trim(inputs, labels):
        inputs = trim_to_longest(inputs, BATCH_LENGTH_MULTIPLE)
        return inputs, labels[:, : tf.shape(inputs["input_mask"])[1]]

    return dataset.batch(batch_size).map(trim, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def word_predictions(features, logits, sentences):
    """Per-word predicted label ids from per-piece `logits`, one `(length, classes)` array per window.

    Each word takes the argmax at its first piece.

    Args:
        features: the dict `token_classification_features` returned
            (`sentence_index` and `word_index` are used).
        logits: per window, a float array `(length, classes)`, as
            `predict_logits` returns them; `length` may be shorter than the
            features' (pieces past it get no prediction).
        sentences: the `ConllSentences` the features were made from.

    Returns:
        A list per sentence of int label ids, one per word.

    Example:
    >>> from keras_bert.data.conll import ConllSentences
    >>> sentences = ConllSentences([["EU", "rejects"]], [["B-ORG", "O"]], "train.txt")
    >>> features = {"sentence_index": np.array([0]), "word_index": np.array([[-1, 0, 1, -1, -1]])}
    >>> logits = [np.array([[0, 1], [0, 1], [1, 0], [0, 1]], "float32")]  # 1 window: 4 real pieces, 2 labels
    >>> word_predictions(features, logits, sentences)
    [[1, 0]]
    """
    predictions = [[0] * len(words) for words in sentences.words]
    for row, sentence in enumerate(features["sentence_index"]):
        best = logits[row].argmax(-1)
        starts = np.nonzero(features["word_index"][row] >= 0)[0]
        for position in starts[starts < len(best)]:
            predictions[sentence][features["word_index"][row, position]] = int(best[position])
    return predictions

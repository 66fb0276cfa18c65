"""SWAG-format multiple choice: reading the CSV and packing (context, ending) pairs."""

import csv
import dataclasses
import os

import tensorflow as tf

from keras_bert.data.classification_dataset import BATCH_LENGTH_MULTIPLE, trim_to_longest
from keras_bert.data.text_files import open_utf8

SWAG_COLUMNS = ("sent1", "sent2", "ending0", "ending1", "ending2", "ending3", "label")


@dataclasses.dataclass
class MultipleChoiceExamples:
    """Questions with `choices` candidate endings each.

    Attributes:
        contexts: list of str (SWAG's `sent1`).
        endings: list of lists of str: the start of the second sentence
            (`sent2`) followed by each candidate ending.
        labels: list of int, the index of the right ending (-1: unknown, a test file).
        source: the file read.

    Example:
    >>> examples = MultipleChoiceExamples(["She opens the door."], [["She walks in.", "She flies."]], [0], "swag.csv")
    >>> len(examples), examples.endings[0][examples.labels[0]]
    (1, 'She walks in.')
    """

    contexts: list
    endings: list
    labels: list
    source: str

    def __len__(self):
        return len(self.labels)


def read_swag_csv(path, labelled=True):
    """Reads a SWAG-format CSV (`sent1`, `sent2`, `ending0..3`, `label`).

    Args:
        path: str.
        labelled: bool. False for a test file, whose `label` column may be
            missing or empty: such rows get the label -1.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: naming the file (and line) for missing columns, a label
            outside 0-3, or no rows.

    Example:
    >>> import tempfile
    >>> path = tempfile.mktemp()
    >>> _ = open(path, "w").write("sent1,sent2,ending0,ending1,ending2,ending3,label\\n"
    ...                           "She opens the door.,She,walks in.,flies.,melts.,sings.,0\\n")
    >>> read_swag_csv(path).endings[0][:2]
    ['She walks in.', 'She flies.']
    >>> _ = open(path, "w").write("sent1,sent2,ending0,ending1,ending2,ending3\\n"
    ...                           "She opens the door.,She,walks in.,flies.,melts.,sings.\\n")
    >>> read_swag_csv(path, labelled=False).labels
    [-1]
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No SWAG CSV file at {path!r}.")
    with open_utf8(path) as f:
        reader = csv.DictReader(f)
        needed = SWAG_COLUMNS if labelled else SWAG_COLUMNS[:-1]
        missing = [c for c in needed if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column(s) {missing}; SWAG files have {list(SWAG_COLUMNS)}.")
        contexts, endings, labels = [], [], []
        for line, row in enumerate(reader, start=2):
            label = row.get("label") or ""
            if label not in ("0", "1", "2", "3") and (labelled or label):
                raise ValueError(f"{path}, line {line}: label {label!r} is not 0, 1, 2 or 3.")
            contexts.append(row["sent1"])
            endings.append([f"{row['sent2']} {row[f'ending{i}']}".strip() for i in range(4)])
            labels.append(int(label) if label else -1)
    if not labels:
        raise ValueError(f"{path}: no examples; the file is empty.")
    return MultipleChoiceExamples(contexts, endings, labels, path)


def multiple_choice_dataset(examples, preprocessor, batch_size, shuffle=False, seed=None):
    """`(inputs, labels)` batches for `BertMultipleChoice`, packed in-graph.

    Each context is paired with each of its endings (`[CLS] context [SEP]
    ending [SEP]`).

    Args:
        examples: `MultipleChoiceExamples`.
        preprocessor: a `BertPreprocessor`.
        batch_size: int.
        shuffle: bool. Reshuffle the examples every epoch.
        seed: optional int, for a reproducible order.

    Returns:
        A `tf.data.Dataset` of `(inputs, labels)`: the encoder's input dict,
        each int32 `(batch, choices, length)` with `length` the batch's
        longest row rounded up to a multiple of `BATCH_LENGTH_MULTIPLE`
        (`trim_to_longest`), and int32 `(batch,)` labels.

    Example:
    >>> import os, tempfile
    >>> from keras_bert.text.bert_preprocessor import BertPreprocessor
    >>> vocab = os.path.join(tempfile.mkdtemp(), "vocab.txt")
    >>> _ = open(vocab, "w").write("\\n".join(
    ...     ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "she", "opens", "walks", "in", "flies"]))
    >>> examples = MultipleChoiceExamples(["she opens"], [["she walks in", "she flies"]], [0], "swag.csv")
    >>> inputs, labels = next(iter(multiple_choice_dataset(examples, BertPreprocessor(vocab, seq_length=10), 1)))
    >>> inputs["input_word_ids"].numpy().tolist(), labels.numpy().tolist()
    ([[[2, 5, 6, 3, 5, 7, 8, 3, 0, 0], [2, 5, 6, 3, 5, 9, 3, 0, 0, 0]]], [0])
    """
    choices = len(examples.endings[0])
    dataset = tf.data.Dataset.from_tensor_slices(
        ((examples.contexts, examples.endings), tf.constant(examples.labels, tf.int32))
    )
    if shuffle:
        dataset = dataset.shuffle(len(examples), seed=seed, reshuffle_each_iteration=True)

    def pack(texts, labels):
        contexts, endings = texts
        repeated = tf.reshape(tf.repeat(contexts[:, None], choices, axis=1), [-1])
        packed = preprocessor((repeated, tf.reshape(endings, [-1])))
        shape = [-1, choices, preprocessor.seq_length]
        return trim_to_longest({k: tf.reshape(v, shape) for k, v in packed.items()}, BATCH_LENGTH_MULTIPLE), labels

    return dataset.batch(batch_size).map(pack, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)

"""tf.data pipelines for sentence(-pair) classification."""

import tensorflow as tf


# The data pipelines round each batch's length up to a multiple of this. Training compiles its GELU, layer norm
# and dropout kernels with XLA once per input shape (layers/training_kernels.py), about a second for each new
# length; a batch of any length 1..128 would compile up to 128 times, a multiple of 16 at most 8 times.
BATCH_LENGTH_MULTIPLE = 16


def trim_to_longest(inputs, multiple=1):
    """Cuts padding columns that no row of the batch uses.

    Packing pads every row to `seq_length`; a batch of short sentences then
    pays for positions nobody reads. Padding is masked, so the encoder's
    outputs at real tokens do not change.

    Args:
        inputs: the encoder's input dict, each `(batch, seq_length)` (or
            `(batch, choices, seq_length)`).
        multiple: int. Keep the longest row's length rounded up to a
            multiple of this (at most `seq_length`), so batches come in few
            distinct shapes. Defaults to `1`.

    Returns:
        The same dict, each cut to the longest row in the batch.

    Example:
    >>> inputs = {"input_word_ids": tf.constant([[101, 7, 102, 0, 0]]),
    ...           "input_mask": tf.constant([[1, 1, 1, 0, 0]]),
    ...           "input_type_ids": tf.constant([[0, 0, 0, 0, 0]])}
    >>> trim_to_longest(inputs)["input_word_ids"].numpy().tolist()
    [[101, 7, 102]]
    >>> trim_to_longest(inputs, multiple=4)["input_word_ids"].numpy().tolist()
    [[101, 7, 102, 0]]
    """
    if not isinstance(multiple, int) or multiple < 1:
        raise ValueError(f"multiple={multiple!r}; use a whole number of 1 or more.")
    # At least one column: an empty batch keeps its shape valid for the pooler's first-token slice.
    longest = tf.maximum(tf.reduce_max(tf.reduce_sum(inputs["input_mask"], axis=-1)), 1)
    longest = tf.minimum((longest + multiple - 1) // multiple * multiple, tf.shape(inputs["input_mask"])[-1])
    return {name: value[..., :longest] for name, value in inputs.items()}


def classification_dataset(examples, preprocessor, batch_size, shuffle=False, seed=None):
    """`(inputs, labels)` batches for `BertClassifier`, packed in-graph.

    Args:
        examples: `GlueExamples` (or anything with `text_a`, `text_b`,
            `labels`); `labels` may be None (a test file).
        preprocessor: a `BertPreprocessor`.
        batch_size: int.
        shuffle: bool. Reshuffle the examples every epoch.
        seed: optional int, for a reproducible order.

    Returns:
        A `tf.data.Dataset` of `(input dict, labels)`, or of input dicts
        alone when `examples.labels` is None; each batch is only as long as
        its longest row, rounded up to a multiple of `BATCH_LENGTH_MULTIPLE`
        (`trim_to_longest`). Labels are int32 ids, or float32
        scores for regression.

    Example:
    >>> import os, tempfile
    >>> from keras_bert.data.glue import GlueExamples
    >>> from keras_bert.text.bert_preprocessor import BertPreprocessor
    >>> vocab = os.path.join(tempfile.mkdtemp(), "vocab.txt")
    >>> _ = open(vocab, "w").write("\\n".join(
    ...     ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "fine", "film", "dull"]))
    >>> examples = GlueExamples(["a fine film", "dull"], None, [1, 0], ("0", "1"), "train.tsv")
    >>> inputs, labels = next(iter(classification_dataset(examples, BertPreprocessor(vocab, seq_length=8), 2)))
    >>> inputs["input_word_ids"].numpy().tolist(), labels.numpy().tolist()
    ([[2, 5, 6, 7, 3, 0, 0, 0], [2, 8, 3, 0, 0, 0, 0, 0]], [1, 0])
    """
    texts = (examples.text_a,) if examples.text_b is None else (examples.text_a, examples.text_b)
    if examples.labels is None:
        dataset = tf.data.Dataset.from_tensor_slices(texts)
    else:
        label_dtype = tf.float32 if isinstance(examples.labels[0], float) else tf.int32
        dataset = tf.data.Dataset.from_tensor_slices((texts, tf.constant(examples.labels, label_dtype)))
    if shuffle:
        dataset = dataset.shuffle(len(examples.text_a), seed=seed, reshuffle_each_iteration=True)

    def pack(texts, *labels):
        inputs = trim_to_longest(preprocessor(texts), BATCH_LENGTH_MULTIPLE)
        return (inputs, *labels) if labels else inputs

    return dataset.batch(batch_size).map(pack, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)

"""tf.data pipelines for sentence(-pair) classification."""

import tensorflow as tf


def trim_to_longest(inputs, multiple_of=1):
    """Cuts padding columns that no row of the batch uses.

    Packing pads every row to `seq_length`; a batch of short sentences then
    pays for positions nobody reads. Padding is masked, so the encoder's
    outputs at real tokens do not change.

    `multiple_of` rounds the length up (never past `seq_length`). Each new
    batch length compiles the training XLA kernels
    (`keras_bert.layers.training_kernels`) once, ~0.8 s for
    all-MiniLM-L6-v2: rounding to 8 cuts that for short runs (the README's
    first command: 36 lengths -> 6, training 244 -> 225 s) but adds ~10%
    tokens to every step on short sentences (the benchmark's SST-2
    fine-tuning case: 0.96x transformers' exactly cut batches with it,
    1.08x without), so the pipelines cut exactly.

    Args:
        inputs: the encoder's input dict, each `(batch, seq_length)` (or
            `(batch, choices, seq_length)`).
        multiple_of: int >= 1; 1 (the default) cuts to the longest row.

    Returns:
        The same dict, each cut to the longest row in the batch (rounded up).

    Example:
    >>> inputs = {"input_word_ids": tf.constant([[101, 7, 102, 0, 0, 0, 0, 0, 0, 0]]),
    ...           "input_mask": tf.constant([[1, 1, 1, 0, 0, 0, 0, 0, 0, 0]]),
    ...           "input_type_ids": tf.zeros((1, 10), tf.int32)}
    >>> trim_to_longest(inputs)["input_word_ids"].numpy().tolist()
    [[101, 7, 102]]
    >>> trim_to_longest(inputs, multiple_of=4)["input_word_ids"].numpy().tolist()
    [[101, 7, 102, 0]]
    >>> trim_to_longest(inputs, multiple_of=8)["input_word_ids"].shape  # 8, not past the packed 10
    TensorShape([1, 8])
    """
    if not isinstance(multiple_of, int) or multiple_of < 1:
        raise ValueError(f"trim_to_longest: multiple_of must be an int >= 1, got {multiple_of!r}.")
    longest = tf.reduce_max(tf.reduce_sum(inputs["input_mask"], axis=-1))
    rounded = (longest + multiple_of - 1) // multiple_of * multiple_of
    length = tf.minimum(rounded, tf.shape(inputs["input_mask"], out_type=longest.dtype)[-1])
    return {name: value[..., :length] for name, value in inputs.items()}


def classification_dataset(examples, preprocessor, batch_size, shuffle=False, seed=None):
    """`(inputs, labels)` batches for `BertClassifier`, packed in-graph.

    Args:
        examples: `GlueExamples` (or anything with `text_a`, `text_b`, `labels`).
        preprocessor: a `BertPreprocessor`.
        batch_size: int.
        shuffle: bool. Reshuffle the examples every epoch.
        seed: optional int, for a reproducible order.

    Returns:
        A `tf.data.Dataset` of `(input dict, labels)`; each batch is only as
        long as its longest row (`trim_to_longest`). Labels are int32 ids,
        or float32 scores for regression.

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
    ([[2, 5, 6, 7, 3], [2, 8, 3, 0, 0]], [1, 0])
    """
    texts = (examples.text_a,) if examples.text_b is None else (examples.text_a, examples.text_b)
    label_dtype = tf.float32 if isinstance(examples.labels[0], float) else tf.int32
    dataset = tf.data.Dataset.from_tensor_slices((texts, tf.constant(examples.labels, label_dtype)))
    if shuffle:
        dataset = dataset.shuffle(len(examples.labels), seed=seed, reshuffle_each_iteration=True)
    return (
        dataset.batch(batch_size)
        .map(lambda t, y: (trim_to_longest(preprocessor(t)), y), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )

"""Predicting over datasets of `(inputs, labels)` batches: class scores, per-token logits."""

import keras
import numpy as np


def predict_classifier(classifier, dataset):
    """`(labels, predictions, logits)` over a dataset of `(inputs, labels)`, or of inputs alone.

    Predictions are argmax label ids, or the scores themselves when the
    model has a single output (regression).
    Batches may differ in length (see `trim_to_longest`), so each is run
    through the model separately rather than concatenated first.

    Args:
        classifier: a `BertClassifier` (logits `(batch, num_classes)`).
        dataset: `(inputs, labels)` batches: the encoder's input dict of int32
            `(batch, length)` arrays and labels `(batch,)`; or input dicts
            alone (unlabelled examples).

    Returns:
        numpy `labels` `(examples,)` (None without labels), `predictions`
        `(examples,)` (int64 ids, or float32 scores) and `logits` float32
        `(examples, num_classes)`.

    Example:
    >>> import numpy as np
    >>> import tensorflow as tf
    >>> from keras_bert import BertClassifier, BertEncoder
    >>> encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
    ...                       num_attention_heads=2, intermediate_size=12)
    >>> ids = np.ones((5, 4), "int32")
    >>> inputs = {"input_word_ids": ids, "input_mask": ids, "input_type_ids": 0 * ids}
    >>> dataset = tf.data.Dataset.from_tensor_slices((inputs, np.array([0, 2, 1, 1, 0]))).batch(2)
    >>> labels, predictions, logits = predict_classifier(BertClassifier(encoder, num_classes=3), dataset)
    >>> labels.tolist(), predictions.shape, predictions.dtype, logits.shape
    ([0, 2, 1, 1, 0], (5,), dtype('int64'), (5, 3))
    >>> bool((predictions == logits.argmax(-1)).all())
    True
    >>> _, scores, _ = predict_classifier(BertClassifier(encoder, num_classes=1), dataset)
    >>> scores.shape, scores.dtype  # regression: the scores themselves
    ((5,), dtype('float32'))
    """
    labels, logits = [], []
    for batch in dataset:
        inputs, batch_labels = batch if isinstance(batch, tuple) else (batch, None)
        logits.append(np.asarray(classifier(inputs, training=False)))
        labels.append(None if batch_labels is None else np.asarray(batch_labels))
    logits = np.concatenate(logits)
    labels = None if labels[0] is None else np.concatenate(labels)
    predictions = logits[:, 0] if logits.shape[-1] == 1 else logits.argmax(-1)
    return labels, predictions, logits


def predict_logits(model, dataset):
    """Per-token logits over `(inputs, labels)` batches, one array per example, cut to its real tokens.

    An example's real tokens are the ones its `input_mask` marks (a prefix,
    as every packer here writes it), so batches of any length work (see
    `trim_to_longest`) and padding never reaches the caller: an answer or
    tag search sees only positions the model read.

    Args:
        model: a `BertTokenClassifier`, `BertSpanLabeler` or any model with
            per-token outputs `(batch, length, ...)`.
        dataset: `(inputs, labels)` batches of the encoder's input dict, e.g.
            from `token_classification_dataset` or `squad_dataset`.

    Returns:
        The model's output structure with, for each output, a list of numpy
        arrays `(length, ...)`, one per example in dataset order: one list
        for a tagger (arrays `(length, num_classes)`), a dict of
        `start_logits` and `end_logits` lists for a span labeler (arrays
        `(length,)`).

    Raises:
        ValueError: if the dataset has no batch.

    Example:
    >>> import tensorflow as tf
    >>> from keras_bert import BertEncoder, BertSpanLabeler, BertTokenClassifier
    >>> encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
    ...                       num_attention_heads=2, intermediate_size=12)
    >>> def batch(length, real):  # (inputs, labels): rows of `length` with `real` tokens each
    ...     ids = np.ones((len(real), length), "int32")
    ...     mask = (np.arange(length) < np.array(real)[:, None]).astype("int32")
    ...     return {"input_word_ids": ids, "input_mask": mask, "input_type_ids": 0 * ids}, 0 * ids
    >>> dataset = tf.data.Dataset.from_tensors(batch(3, real=[3, 2])).concatenate(
    ...     tf.data.Dataset.from_tensors(batch(5, real=[5])))
    >>> [logits.shape for logits in predict_logits(BertTokenClassifier(encoder, num_classes=4), dataset)]
    [(3, 4), (2, 4), (5, 4)]
    >>> spans = predict_logits(BertSpanLabeler(encoder), dataset)
    >>> {name: [logits.shape for logits in examples] for name, examples in spans.items()}
    {'start_logits': [(3,), (2,), (5,)], 'end_logits': [(3,), (2,), (5,)]}
    """
    structure, per_output = None, None
    for inputs, _ in dataset:
        outputs = model(inputs, training=False)
        lengths = np.asarray(inputs["input_mask"]).sum(-1)
        if structure is None:
            structure, per_output = outputs, [[] for _ in keras.tree.flatten(outputs)]
        for examples, logits in zip(per_output, keras.tree.flatten(outputs)):
            examples.extend(row[:length] for row, length in zip(np.asarray(logits), lengths))
    if structure is None:
        raise ValueError("predict_logits got a dataset without batches; pass at least one (inputs, labels) batch.")
    return keras.tree.pack_sequence_as(structure, per_output)

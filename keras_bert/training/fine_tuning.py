"""Compiling, training and evaluating fine-tuned models: classifiers and taggers."""

import dataclasses
import math
import os
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from keras_bert.checkpoints.run_directory import CHECKPOINTS_SUBDIR
from keras_bert.data.token_classification import IGNORED_LABEL
from keras_bert.training.distribution import is_chief
from keras_bert.training.optimizer import create_optimizer
from keras_bert.training.pretraining import pretrain


@dataclasses.dataclass(frozen=True)
class TrainingSteps:
    """How long a fine-tuning run is, in optimizer steps.

    Attributes:
        steps_per_epoch: batches in one pass over the data.
        total_steps: steps of the whole run (at least 1).
        warmup_steps: steps of linear warmup.
        epochs: Keras epochs to run (fractions of an epoch round up).

    Example:
    >>> import dataclasses
    >>> steps = training_steps(num_examples=100, batch_size=16, num_epochs=3, warmup_proportion=0.1)
    >>> steps.steps_per_epoch, steps.total_steps, steps.warmup_steps, steps.epochs
    (7, 21, 2, 3)
    >>> dataclasses.replace(steps, total_steps=2)  # frozen: a short smoke run is a copy
    TrainingSteps(steps_per_epoch=7, total_steps=2, warmup_steps=2, epochs=3)
    """

    steps_per_epoch: int
    total_steps: int
    warmup_steps: int
    epochs: int


def training_steps(num_examples, batch_size, num_epochs, warmup_proportion):
    """The `TrainingSteps` of `num_epochs` (fractions allowed) over `num_examples`.

    Example:
    >>> training_steps(1000, 32, 1.5, 0.1)
    TrainingSteps(steps_per_epoch=32, total_steps=48, warmup_steps=4, epochs=2)
    """
    steps_per_epoch = math.ceil(num_examples / batch_size)
    total_steps = max(1, int(steps_per_epoch * num_epochs))
    return TrainingSteps(steps_per_epoch, total_steps, int(total_steps * warmup_proportion), math.ceil(num_epochs))


def fit_for_steps(model, dataset, steps, run_dir=None, save_checkpoints_steps=None):
    """Trains a compiled model for `steps` (a `TrainingSteps`); returns the seconds taken.

    Args:
        model: a compiled Keras model.
        dataset: an endless (`.repeat()`ed) dataset that reshuffles itself
            with a fixed seed, so Keras' own shuffling is off and the batch
            sequence is the same on every run.
        steps: `TrainingSteps`.
        run_dir: optional str. Makes the run resumable: model and optimizer
            are checkpointed under `run_dir/checkpoints` (with
            `metrics.jsonl` and TensorBoard `logs/` beside), and a restart
            after a crash or kill resumes from the newest complete
            checkpoint, skipping the batches already trained on. The
            checkpoints are deleted once training completes, so the next run
            in the same place starts afresh.
        save_checkpoints_steps: int. With `run_dir`: steps between
            checkpoints (and log lines). Defaults to once per epoch.

    A progress bar on a terminal, one line per epoch (or per
    `save_checkpoints_steps`) otherwise. Trains on the strategy the model
    was built under (see `get_strategy`).

    Example:
    >>> import numpy as np
    >>> import tensorflow as tf
    >>> from keras_bert import BertClassifier, BertEncoder
    >>> encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
    ...                       num_attention_heads=2, intermediate_size=12)
    >>> classifier = BertClassifier(encoder, num_classes=2)
    >>> ids = np.ones((4, 5), "int32")
    >>> inputs = {"input_word_ids": ids, "input_mask": ids, "input_type_ids": 0 * ids}
    >>> dataset = tf.data.Dataset.from_tensor_slices((inputs, np.array([0, 1, 0, 1]))).batch(2).repeat()
    >>> steps = training_steps(num_examples=4, batch_size=2, num_epochs=1, warmup_proportion=0.0)
    >>> compile_classifier(classifier, learning_rate=1e-3, total_steps=steps.total_steps)
    >>> seconds = fit_for_steps(classifier, dataset, steps)
    DefaultDistributionStrategy with 1 replica(s), dtype policy float32.
    2/2 - ...
    >>> int(classifier.optimizer.iterations), seconds > 0
    (2, True)
    """
    strategy = model.distribute_strategy
    print(f"{type(strategy).__name__.lstrip('_')} with {strategy.num_replicas_in_sync} replica(s), "
          f"dtype policy {keras.mixed_precision.global_policy().name}.")
    start = time.time()
    if run_dir is None:
        model.fit(
            dataset,
            epochs=steps.epochs,
            steps_per_epoch=min(steps.steps_per_epoch, steps.total_steps),
            shuffle=False,
            verbose=1 if sys.stdout.isatty() else 2,
        )
        return time.time() - start
    checkpoints = os.path.join(run_dir, CHECKPOINTS_SUBDIR)
    if not tf.io.gfile.exists(checkpoints) and tf.io.gfile.exists(run_dir):
        tf.io.gfile.rmtree(run_dir)  # logs of a finished earlier run
    loop = min(save_checkpoints_steps or steps.steps_per_epoch, steps.total_steps)
    pretrain(model, dataset.skip, run_dir, steps.total_steps, steps_per_loop=loop, save_checkpoints_steps=loop)
    if is_chief(strategy):
        tf.io.gfile.rmtree(checkpoints)
    return time.time() - start


def compile_for_fine_tuning(
    model, loss, learning_rate, total_steps, warmup_steps=0, weight_decay=0.01, metrics=(),
    loss_weights=None, jit_compile=False,
):
    """Compiles any fine-tuning model with BERT's optimizer recipe.

    AdamW with linear warmup and decay, gradients clipped to norm 1.0
    (`create_optimizer`), and the given loss.

    Args:
        model: a Keras model (classifier, tagger, span labeler, ...).
        loss: a Keras loss, or a dict of them for dict outputs.
        learning_rate: float. Peak learning rate (the paper used 2e-5 to 5e-5).
        total_steps: int. Optimizer steps of the whole run.
        warmup_steps: int.
        weight_decay: float.
        metrics: Keras metrics.
        loss_weights: optional weights for dict outputs.
        jit_compile: bool. Compile the train step with XLA.

    Example:
    >>> import keras
    >>> import numpy as np
    >>> from keras_bert import BertEncoder, BertSpanLabeler
    >>> encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
    ...                       num_attention_heads=2, intermediate_size=12)
    >>> labeler = BertSpanLabeler(encoder)
    >>> loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    >>> compile_for_fine_tuning(labeler, {"start_logits": loss, "end_logits": loss},
    ...                         learning_rate=1e-3, total_steps=10, warmup_steps=1)
    >>> type(labeler.optimizer).__name__, labeler.optimizer.global_clipnorm
    ('BertAdamW', 1.0)
    >>> ids = np.ones((2, 5), "int32")
    >>> inputs = {"input_word_ids": ids, "input_mask": ids, "input_type_ids": 0 * ids}
    >>> positions = {"start_logits": np.array([1, 2]), "end_logits": np.array([3, 4])}
    >>> sorted(labeler.evaluate(inputs, positions, verbose=0, return_dict=True))
    ['end_logits_loss', 'loss', 'start_logits_loss']
    """
    model.compile(
        optimizer=create_optimizer(learning_rate, total_steps, warmup_steps, weight_decay),
        loss=loss,
        loss_weights=loss_weights,
        metrics=list(metrics),
        jit_compile=jit_compile,
    )


def compile_classifier(classifier, learning_rate, total_steps, warmup_steps=0, **kwargs):
    """`compile_for_fine_tuning` with cross-entropy and accuracy, or MSE when `num_classes == 1`.

    Args:
        classifier: a `BertClassifier`; its logits are `(batch, num_classes)`.
        learning_rate, total_steps, warmup_steps, **kwargs: as
            `compile_for_fine_tuning`.

    The labels it then trains on: int class ids `(batch,)`, or float scores
    `(batch,)` for regression.

    Example:
    >>> import numpy as np
    >>> from keras_bert import BertClassifier, BertEncoder
    >>> encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
    ...                       num_attention_heads=2, intermediate_size=12)
    >>> classifier = BertClassifier(encoder, num_classes=3)
    >>> compile_classifier(classifier, learning_rate=1e-3, total_steps=10)
    >>> type(classifier.loss).__name__
    'SparseCategoricalCrossentropy'
    >>> ids = np.ones((2, 5), "int32")
    >>> inputs = {"input_word_ids": ids, "input_mask": ids, "input_type_ids": 0 * ids}
    >>> sorted(classifier.evaluate(inputs, np.array([0, 2]), verbose=0, return_dict=True))
    ['accuracy', 'loss']
    >>> regressor = BertClassifier(encoder, num_classes=1)  # e.g. STS-B scores
    >>> compile_classifier(regressor, learning_rate=1e-3, total_steps=10)
    >>> type(regressor.loss).__name__
    'MeanSquaredError'
    """
    if classifier.num_classes == 1:
        loss, metrics = keras.losses.MeanSquaredError(), []
    else:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
    compile_for_fine_tuning(classifier, loss, learning_rate, total_steps, warmup_steps, metrics=metrics, **kwargs)


def compile_tagger(tagger, learning_rate, total_steps, warmup_steps=0, **kwargs):
    """`compile_for_fine_tuning` with cross-entropy only where the label is not `IGNORED_LABEL`.

    For `BertTokenClassifier` and `BertFeatureTagger`: special tokens,
    padding and non-first pieces carry no loss. The labels are int tag ids
    `(batch, seq_length)`, `IGNORED_LABEL` (-100) where there is no tag.

    Example:
    >>> import numpy as np
    >>> from keras_bert import BertEncoder, BertTokenClassifier
    >>> encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
    ...                       num_attention_heads=2, intermediate_size=12)
    >>> tagger = BertTokenClassifier(encoder, num_classes=3)
    >>> compile_tagger(tagger, learning_rate=1e-3, total_steps=10)
    >>> tagger.loss.ignore_class == IGNORED_LABEL
    True
    >>> ids = np.ones((2, 5), "int32")
    >>> inputs = {"input_word_ids": ids, "input_mask": ids, "input_type_ids": 0 * ids}
    >>> tags = np.array([[-100, 0, 2, 1, -100], [-100, 1, -100, -100, -100]])  # [CLS], [SEP], padding: -100
    >>> bool(np.isfinite(tagger.evaluate(inputs, tags, verbose=0)))
    True
    """
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=IGNORED_LABEL)
    compile_for_fine_tuning(tagger, loss, learning_rate, total_steps, warmup_steps, **kwargs)


def predict_classifier(classifier, dataset):
    """`(labels, predictions, logits)` over a dataset of `(inputs, labels)`.

    Predictions are argmax label ids, or the scores themselves when the
    model has a single output (regression).
    Batches may differ in length (see `trim_to_longest`), so each is run
    through the model separately rather than concatenated first.

    Args:
        classifier: a `BertClassifier` (logits `(batch, num_classes)`).
        dataset: `(inputs, labels)` batches: the encoder's input dict of int32
            `(batch, length)` arrays and labels `(batch,)`.

    Returns:
        numpy `labels` `(examples,)`, `predictions` `(examples,)` (int64 ids,
        or float32 scores) and `logits` float32 `(examples, num_classes)`.

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
    for inputs, batch_labels in dataset:
        logits.append(np.asarray(classifier(inputs, training=False)))
        labels.append(np.asarray(batch_labels))
    labels, logits = np.concatenate(labels), np.concatenate(logits)
    predictions = logits[:, 0] if logits.shape[-1] == 1 else logits.argmax(-1)
    return labels, predictions, logits


def confusion_matrix(labels, predictions, num_classes):
    """`matrix[true, predicted]` counts.

    Example:
    >>> confusion_matrix([0, 1, 1], [0, 1, 0], 2).tolist()
    [[1, 0], [1, 1]]
    """
    matrix = np.zeros((num_classes, num_classes), int)
    np.add.at(matrix, (np.asarray(labels), np.asarray(predictions)), 1)
    return matrix


def predict_logits(model, dataset, seq_length, pad_value=0.0):
    """Per-token logits over `(inputs, labels)` batches, padded back to `seq_length`.

    Args:
        model: a `BertTokenClassifier`, `BertSpanLabeler` or any model with
            per-token outputs `(batch, length, ...)`.
        dataset: `(inputs, labels)` batches, e.g. trimmed to their longest row
            by `token_classification_dataset` or `squad_dataset`.
        seq_length: int. The length the batches were packed to.
        pad_value: float. Logit for positions cut by the trimming; for spans
            use a large negative one (`-1e9`) so no search picks them.

    Returns:
        The model's output structure with numpy arrays `(examples,
        seq_length, ...)`: one array for a tagger, a dict of `start_logits`
        and `end_logits` for a span labeler.

    Example:
    >>> import tensorflow as tf
    >>> from keras_bert import BertEncoder, BertSpanLabeler, BertTokenClassifier
    >>> encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
    ...                       num_attention_heads=2, intermediate_size=12)
    >>> def batch(size, length):  # (inputs, labels), trimmed to `length` of seq_length 6
    ...     ids = np.ones((size, length), "int32")
    ...     return {"input_word_ids": ids, "input_mask": ids, "input_type_ids": 0 * ids}, 0 * ids
    >>> dataset = tf.data.Dataset.from_tensors(batch(2, 3)).concatenate(
    ...     tf.data.Dataset.from_tensors(batch(1, 5)))
    >>> predict_logits(BertTokenClassifier(encoder, num_classes=4), dataset, seq_length=6).shape
    (3, 6, 4)
    >>> spans = predict_logits(BertSpanLabeler(encoder), dataset, seq_length=6, pad_value=-1e9)
    >>> {name: logits.shape for name, logits in spans.items()}
    {'start_logits': (3, 6), 'end_logits': (3, 6)}
    >>> spans["start_logits"][0, 3:].tolist()  # cut by the trimming
    [-1000000000.0, -1000000000.0, -1000000000.0]
    """

    def pad(x):
        x = np.asarray(x)
        widths = [(0, 0), (0, seq_length - x.shape[1])] + [(0, 0)] * (x.ndim - 2)
        return np.pad(x, widths, constant_values=pad_value)

    batches = [keras.tree.map_structure(pad, model(inputs, training=False)) for inputs, _ in dataset]
    return keras.tree.map_structure(lambda *parts: np.concatenate(parts), *batches)

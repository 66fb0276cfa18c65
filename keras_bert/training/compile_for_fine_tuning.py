"""Compiling fine-tuning models with BERT's optimizer recipe: any model, classifiers, taggers."""

import keras

from keras_bert.features import IGNORED_LABEL
from keras_bert.losses import GlobalMeanSparseCrossentropy
from keras_bert.training.optimizer import create_optimizer


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
    # Averaged over the tagged pieces of the whole global batch, however many replicas share it.
    loss = GlobalMeanSparseCrossentropy(from_logits=True, ignore_class=IGNORED_LABEL)
    compile_for_fine_tuning(tagger, loss, learning_rate, total_steps, warmup_steps, **kwargs)


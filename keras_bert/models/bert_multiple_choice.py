"""`BertMultipleChoice`: one score per (context, choice) pair, softmax over choices."""

import keras

from keras_bert.layers.dropout import Dropout
from keras_bert.models.bert_task_model import BertTaskModel, encoder_inputs


@keras.saving.register_keras_serializable(package="keras_bert")
class MergeChoices(keras.layers.Layer):
    """`(batch, choices, seq)` -> `(batch * choices, seq)`, any `seq`."""

    def call(self, x):
        return keras.ops.reshape(x, (-1, keras.ops.shape(x)[-1]))

    def compute_output_shape(self, shape):
        rows = None if shape[0] is None or shape[1] is None else shape[0] * shape[1]
        return (rows, shape[-1])


@keras.saving.register_keras_serializable(package="keras_bert")
class BertMultipleChoice(BertTaskModel):
    """Scores each choice from the `[CLS]` vector of its packed pair (SWAG).

    The paper's SWAG setup: the context is paired with each candidate
    ending, each pair goes through BERT, a vector dotted with its pooled
    output gives that choice's score, and a softmax over the choices is
    trained with cross-entropy.

    Args:
        encoder: a `BertEncoder`.
        num_choices: int. Choices per question (4 for SWAG).
        dropout: float. Defaults to `0.1`.
        initializer_range: float. Defaults to `0.02`.
        **kwargs: Passed to `keras.Model`.

    Inputs: the encoder's input dict with an extra choice axis, each int32
    `(batch_size, num_choices, seq_length)`. Outputs: logits
    `(batch_size, num_choices)`.

    Example:
    >>> import numpy as np
    >>> from keras_bert import BertEncoder
    >>> encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
    ...                       num_attention_heads=2, intermediate_size=12)
    >>> ids = np.ones((2, 4, 5), "int32")
    >>> inputs = {"input_word_ids": ids, "input_mask": ids, "input_type_ids": 0 * ids}
    >>> tuple(BertMultipleChoice(encoder, num_choices=4)(inputs).shape)
    (2, 4)
    """

    def __init__(self, encoder, num_choices, dropout=0.1, initializer_range=0.02, **kwargs):
        if not isinstance(num_choices, int) or num_choices < 2:
            raise ValueError(f"num_choices={num_choices!r}; a choice needs at least 2 options.")
        inputs = encoder_inputs(shape=(num_choices, None))
        # (batch, choices, seq) -> (batch * choices, seq): every pair is encoded alike.
        flat = {name: MergeChoices(name=f"merge_choices_{name}")(x) for name, x in inputs.items()}
        pooled = encoder(flat)["pooled_output"]
        x = Dropout(dropout, dtype=encoder.dtype_policy, name="dropout")(pooled)
        scores = keras.layers.Dense(
            1,
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=initializer_range),
            name="choice_score",
            dtype="float32",  # logits and loss in float32 under mixed precision
        )(x)
        logits = keras.ops.reshape(scores, (-1, num_choices))
        super().__init__(
            inputs,
            logits,
            encoder,
            {
                "num_choices": num_choices,
                "dropout": dropout,
                "initializer_range": initializer_range,
            },
            **kwargs,
        )

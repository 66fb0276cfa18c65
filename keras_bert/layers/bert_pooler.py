"""`BertPooler`: dense + tanh on the first ([CLS]) token."""

import keras


@keras.saving.register_keras_serializable(package="keras_bert")
class BertPooler(keras.layers.Layer):
    """Pools a sequence into one vector: `tanh(W @ x[:, 0] + b)`.

    The paper fine-tunes sentence-level tasks on this vector, the final hidden
    state of the `[CLS]` token passed through a trained dense layer.

    Args:
        hidden_size: int. Output width (BERT uses the encoder's width).
        initializer_range: float. Stddev of the truncated-normal initializer.
            Defaults to `0.02`.
        **kwargs: Passed to `keras.layers.Layer` (`name`, `dtype`, ...).

    Call arguments:
        sequence_output: float tensor `(batch_size, seq_length, width)`.

    Returns:
        Float tensor `(batch_size, hidden_size)`.

    Example:
    >>> import numpy as np
    >>> pooler = BertPooler(hidden_size=8)
    >>> tuple(pooler(np.zeros((3, 7, 8), "float32")).shape)
    (3, 8)
    """

    def __init__(self, hidden_size, initializer_range=0.02, **kwargs):
        super().__init__(**kwargs)
        self.hidden_size = hidden_size
        self.initializer_range = initializer_range
        self.dense = keras.layers.Dense(
            hidden_size,
            activation="tanh",
            kernel_initializer=keras.initializers.TruncatedNormal(
                stddev=initializer_range
            ),
            dtype=self.dtype_policy,
            name="dense",
        )

    def build(self, sequence_output_shape):
        self.dense.build((sequence_output_shape[0], sequence_output_shape[-1]))
        self.built = True

    def call(self, sequence_output):
        return self.dense(sequence_output[:, 0, :])

    def compute_output_shape(self, sequence_output_shape):
        return (sequence_output_shape[0], self.hidden_size)

    def get_config(self):
        config = super().get_config()
        config.update(
            hidden_size=self.hidden_size, initializer_range=self.initializer_range
        )
        return config

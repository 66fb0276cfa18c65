"""`MaskedLMHead`: BERT's masked-LM output layer, tied to the word embeddings."""

import keras
from keras import ops

from keras_bert.layers.transformer_block import ACTIVATIONS


@keras.saving.register_keras_serializable(package="keras_bert")
class MaskedLMHead(keras.layers.Layer):
    """Vocabulary logits at chosen positions: dense + activation + LayerNorm, then `x @ E^T + b`.

    The output projection is the transposed word-embedding table `E` of the
    encoder (weight tying, as in the paper); only the output bias is this
    layer's own. Google's names: `cls/predictions/transform/dense/*`,
    `cls/predictions/transform/LayerNorm/*`, `cls/predictions/output_bias`.

    Args:
        embeddings: the encoder's `BertEmbeddings` layer (its table is used,
            not copied; it is not serialized with this layer).
        activation: str. The encoder's `hidden_act`.
        layer_norm_epsilon: float.
        initializer_range: float. Stddev of the dense layer's initializer.
        **kwargs: Passed to `keras.layers.Layer`.

    Call arguments:
        sequence_output: float `(batch, seq_length, hidden)`.
        positions: int `(batch, num_predictions)`.

    Returns:
        Float32 logits `(batch, num_predictions, vocab_size)`.

    Example:
    >>> import numpy as np
    >>> from keras_bert.layers import BertEmbeddings
    >>> embeddings = BertEmbeddings(vocab_size=11, hidden_size=4, max_position_embeddings=8)
    >>> _ = embeddings(np.zeros((1, 3), "int32"), np.zeros((1, 3), "int32"))
    >>> head = MaskedLMHead(embeddings, activation="gelu")
    >>> tuple(head(np.zeros((2, 6, 4), "float32"), np.array([[1, 2], [0, 5]])).shape)
    (2, 2, 11)
    """

    def __init__(self, embeddings, activation="gelu", layer_norm_epsilon=1e-12, initializer_range=0.02, **kwargs):
        super().__init__(**kwargs)
        # Not tracked as a sublayer: the encoder owns the table, and tracking
        # it twice would list (and save) the same weights twice.
        object.__setattr__(self, "_embeddings", embeddings)
        self.activation = activation
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_range = initializer_range
        self.dense = keras.layers.Dense(
            embeddings.hidden_size,
            activation=ACTIVATIONS[activation],
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=initializer_range),
            dtype=self.dtype_policy,
            name="dense",
        )
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, dtype=self.dtype_policy, name="layer_norm"
        )

    def build(self, sequence_output_shape, positions_shape=None):
        hidden = (None, None, self._embeddings.hidden_size)
        self.dense.build(hidden)
        self.layer_norm.build(hidden)
        self.output_bias = self.add_weight(
            shape=(self._embeddings.vocab_size,), initializer="zeros", name="output_bias"
        )

    def call(self, sequence_output, positions):
        gathered = ops.take_along_axis(sequence_output, ops.cast(positions, "int32")[:, :, None], axis=1)
        x = self.layer_norm(self.dense(gathered))
        table = ops.cast(self._embeddings.word_embeddings.embeddings, x.dtype)
        logits = ops.matmul(x, ops.transpose(table))
        return ops.cast(logits, "float32") + self.output_bias

    def compute_output_shape(self, sequence_output_shape, positions_shape):
        return (*positions_shape, self._embeddings.vocab_size)

    def get_config(self):
        return {
            **super().get_config(),
            "activation": self.activation,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "initializer_range": self.initializer_range,
        }

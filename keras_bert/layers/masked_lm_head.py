"""`MaskedLMHead`: BERT's masked-LM output layer, tied to the word embeddings."""

import keras
import tensorflow as tf

from keras_bert.layers.fused_dense import ACTIVATIONS, FusedDense
from keras_bert.layers.fused_layer_norm import FusedLayerNorm


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
        training: bool. Only `True` matters: it selects the training
            kernels of GELU and LayerNorm (see `training_kernels`).

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
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation={activation!r} is not supported; use one of {sorted(ACTIVATIONS)}.")
        self.activation = activation
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_range = initializer_range
        self.dense = FusedDense(
            embeddings.hidden_size,
            activation=activation,
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=initializer_range),
            dtype=self.dtype_policy,
            name="dense",
        )
        self.layer_norm = FusedLayerNorm(
            epsilon=layer_norm_epsilon, dtype=self.dtype_policy, name="layer_norm"
        )

    def build(self, sequence_output_shape, positions_shape=None):
        hidden = (None, None, self._embeddings.hidden_size)
        self.dense.build(hidden)
        self.layer_norm.build(hidden)
        self.output_bias = self.add_weight(
            shape=(self._embeddings.vocab_size,), initializer="zeros", name="output_bias"
        )

    def call(self, sequence_output, positions, training=None):
        positions = tf.cast(positions, "int32")
        gathered = tf.gather(sequence_output, positions, batch_dims=1)  # (batch, predictions, hidden)
        # 2-D rows: fused dense + activation, and a plain matmul against the
        # table (transpose_b, so the vocab-sized table is never transposed).
        rows = tf.reshape(gathered, [-1, self._embeddings.hidden_size])
        rows = self.layer_norm(self.dense(rows, training=training), training=training)
        table = tf.cast(self._embeddings.word_embeddings.embeddings, rows.dtype)
        logits = tf.matmul(rows, table, transpose_b=True)
        logits = tf.reshape(logits, tf.concat([tf.shape(positions), [-1]], 0))
        return tf.cast(logits, "float32") + self.output_bias

    def compute_output_shape(self, sequence_output_shape, positions_shape):
        return (*positions_shape, self._embeddings.vocab_size)

    def get_config(self):
        return {
            **super().get_config(),
            "activation": self.activation,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "initializer_range": self.initializer_range,
        }

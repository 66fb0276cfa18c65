"""`BertEmbeddings`: word + segment + learned position embeddings, LayerNorm, dropout."""

import keras
import tensorflow as tf

from keras_bert.layers.cpu_kernels import LAYER_NORM_KERNELS, check_kernel
from keras_bert.layers.dropout import Dropout
from keras_bert.layers.fused_layer_norm import FusedLayerNorm


@keras.saving.register_keras_serializable(package="keras_bert")
class BertEmbeddings(keras.layers.Layer):
    """BERT's input embeddings (the paper's Figure 2).

    The sum of three learned tables (WordPiece token, segment, and absolute
    position), then LayerNorm and dropout.

    In training calls the padding row of the word table (`pad_token_id`)
    gets no gradient, as in transformers' BERT (`nn.Embedding(padding_idx=0)`).
    Padded positions never reach a real token (attention masks them), but a
    loss over every position, such as SQuAD's span softmax, sends them
    gradient; in the one row that all padding shares, it sums to a large
    norm. That norm takes a share of the global-norm clip, shrinking every
    other update, and the row itself moves by Adam's full step. Freezing it kept keras_bert and
    transformers equal to 1e-6 in loss over 8 SQuAD steps at seq 384, where
    they had drifted 1e-3 apart.

    Args:
        vocab_size: int. Rows of the word table.
        hidden_size: int. Width of every embedding.
        max_position_embeddings: int. Rows of the position table; longer
            inputs are rejected.
        type_vocab_size: int. Rows of the segment table. Defaults to `2`.
        dropout: float. Dropout rate after the LayerNorm. Defaults to `0.1`.
        layer_norm_epsilon: float. Defaults to `1e-12`.
        initializer_range: float. Stddev of the truncated-normal initializer.
            Defaults to `0.02`.
        pad_token_id: int or None. The word-table row that padding uses,
            which gets no gradient when `training` (weight decay still
            applies; inference calls skip the mask). `None` trains it like
            any row. Defaults to `0` (`[PAD]` in BERT's vocabularies).
        layer_norm_inference_kernel: the `inference_kernel` of the layer
            norm (`FusedLayerNorm`): `"auto"`, `"batch_norm"` or `"keras"`.
            Defaults to `"auto"`.
        **kwargs: Passed to `keras.layers.Layer` (`name`, `dtype`, ...).

    Call arguments:
        token_ids: int tensor `(batch_size, seq_length)`, WordPiece ids.
        segment_ids: int tensor `(batch_size, seq_length)`, 0 for sentence A,
            1 for sentence B.
        training: bool. Enables dropout (and the padding row's freeze).

    Returns:
        Float tensor `(batch_size, seq_length, hidden_size)`.

    Example:
    >>> import numpy as np
    >>> layer = BertEmbeddings(vocab_size=23, hidden_size=8,
    ...                        max_position_embeddings=16)
    >>> ids = np.ones((3, 7), "int32")
    >>> tuple(layer(ids, np.zeros((3, 7), "int32")).shape)
    (3, 7, 8)
    """

    def __init__(
        self,
        vocab_size,
        hidden_size,
        max_position_embeddings,
        type_vocab_size=2,
        dropout=0.1,
        layer_norm_epsilon=1e-12,
        initializer_range=0.02,
        pad_token_id=0,
        layer_norm_inference_kernel="auto",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.max_position_embeddings = max_position_embeddings
        self.type_vocab_size = type_vocab_size
        self.dropout = dropout
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_range = initializer_range
        self.pad_token_id = pad_token_id
        self.layer_norm_inference_kernel = check_kernel(layer_norm_inference_kernel, LAYER_NORM_KERNELS,
                                                        "layer_norm_inference_kernel")

        # One initializer per table: an unseeded Keras 3 initializer draws the same values at every call.
        self.word_embeddings = keras.layers.Embedding(
            vocab_size,
            hidden_size,
            embeddings_initializer=keras.initializers.TruncatedNormal(stddev=initializer_range),
            dtype=self.dtype_policy,
            name="word_embeddings",
        )
        self.segment_embeddings = keras.layers.Embedding(
            type_vocab_size,
            hidden_size,
            embeddings_initializer=keras.initializers.TruncatedNormal(stddev=initializer_range),
            dtype=self.dtype_policy,
            name="segment_embeddings",
        )
        self.layer_norm = FusedLayerNorm(
            epsilon=layer_norm_epsilon, inference_kernel=layer_norm_inference_kernel, dtype=self.dtype_policy,
            name="layer_norm"
        )
        self.dropout_layer = Dropout(
            dropout, dtype=self.dtype_policy, name="dropout"
        )

    def build(self, token_ids_shape, segment_ids_shape=None):
        self.word_embeddings.build(token_ids_shape)
        self.segment_embeddings.build(token_ids_shape)
        self.position_embeddings = self.add_weight(
            name="position_embeddings",
            shape=(self.max_position_embeddings, self.hidden_size),
            initializer=keras.initializers.TruncatedNormal(
                stddev=self.initializer_range
            ),
        )
        self.layer_norm.build(tuple(token_ids_shape) + (self.hidden_size,))
        self.built = True

    def call(self, token_ids, segment_ids, training=None):
        seq_length = token_ids.shape[1]
        if seq_length is not None and seq_length > self.max_position_embeddings:
            raise ValueError(_too_long_message(seq_length, self.max_position_embeddings))
        if seq_length is None:
            seq_length = tf.shape(token_ids)[1]
            check = tf.debugging.assert_less_equal(
                seq_length,
                self.max_position_embeddings,
                message=_too_long_message("the input's", self.max_position_embeddings),
            )
            # The slice below waits for the check: otherwise the add of
            # mismatched shapes may fail first, with a less helpful error.
            with tf.control_dependencies([check] if check is not None else []):
                seq_length = tf.identity(seq_length)
        positions = tf.cast(self.position_embeddings[:seq_length], self.compute_dtype)
        words = self.word_embeddings(token_ids)
        if training and self.pad_token_id is not None:
            padding = token_ids[..., tf.newaxis] == self.pad_token_id
            words = tf.where(padding, tf.stop_gradient(words), words)
        x = words + self.segment_embeddings(segment_ids)
        x = x + positions[tf.newaxis]
        return self.dropout_layer(self.layer_norm(x, training=training), training=training)

    def compute_output_shape(self, token_ids_shape, segment_ids_shape=None):
        return tuple(token_ids_shape) + (self.hidden_size,)

    def get_config(self):
        config = super().get_config()
        config.update(
            vocab_size=self.vocab_size,
            hidden_size=self.hidden_size,
            max_position_embeddings=self.max_position_embeddings,
            type_vocab_size=self.type_vocab_size,
            dropout=self.dropout,
            layer_norm_epsilon=self.layer_norm_epsilon,
            initializer_range=self.initializer_range,
            pad_token_id=self.pad_token_id,
            layer_norm_inference_kernel=self.layer_norm_inference_kernel,
        )
        return config


def _too_long_message(seq_length, max_positions):
    return (
        f"Sequence length {seq_length} exceeds max_position_embeddings="
        f"{max_positions}: the position table has no row for the extra tokens. "
        f"Truncate inputs to at most {max_positions} tokens (e.g. with "
        "BertPreprocessor's seq_length)."
    )

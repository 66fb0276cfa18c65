"""`BertPairEmbedder`: one `BertTextEmbedder` run on each text of a training row, for embedding losses."""

import keras

from keras_bert.features import INPUT_NAMES
from keras_bert.models.bert_task_model import BertTaskModel
from keras_bert.models.bert_text_embedder import BertTextEmbedder

PAIR_COLUMNS = ("anchor", "positive")
NEGATIVE_COLUMN = "negative"


@keras.saving.register_keras_serializable(package="keras_bert")
class BertPairEmbedder(BertTaskModel):
    """Embeds the anchor, positive (and hard negative) of each row with one shared `BertTextEmbedder`.

    The training model of a bi-encoder: every text goes through the same
    embedder (the same weights), and the embeddings come out stacked so one
    loss sees the whole row: `MultipleNegativesRankingLoss` for
    (anchor, positive[, negative]) rows, `CosineSimilarityLoss` for scored
    pairs (whose second text is fed as `positive`). After training, use (or
    save, or export) `pair_embedder.embedder`: the trained weights are its.

    Args:
        embedder: a `BertTextEmbedder`; its weights are shared, not copied.
        with_negative: bool. Take a third text per row, a hard negative.
            Defaults to `False`.
        **kwargs: Passed to `keras.Model`.

    Inputs: a dict `{"anchor": ..., "positive": ...[, "negative": ...]}`,
        each the encoder's input dict (int32 `(batch_size, seq_length)`;
        the columns may have different lengths).

    Outputs: float32 `(batch_size, columns, hidden_size)`, in the order
        anchor, positive[, negative].

    Example:
    >>> import numpy as np
    >>> from keras_bert.models import BertEncoder
    >>> encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
    ...                       num_attention_heads=2, intermediate_size=12)
    >>> pair_embedder = BertPairEmbedder(BertTextEmbedder(encoder))
    >>> def texts(length):
    ...     ids = np.ones((2, length), "int32")
    ...     return {"input_word_ids": ids, "input_mask": ids, "input_type_ids": 0 * ids}
    >>> pair_embedder({"anchor": texts(5), "positive": texts(7)}).shape
    TensorShape([2, 2, 8])
    """

    uses_pooled_output = False  # the embedder pools the token vectors; the encoder's pooler gets no gradient

    def __init__(self, embedder, with_negative=False, **kwargs):
        if not isinstance(embedder, BertTextEmbedder):
            raise TypeError(f"BertPairEmbedder wraps a BertTextEmbedder; got {type(embedder).__name__}.")
        columns = PAIR_COLUMNS + ((NEGATIVE_COLUMN,) if with_negative else ())
        # Keras wants unique input names across the model: `anchor_input_word_ids`, ...
        inputs = {column: {name: keras.Input(shape=(None,), dtype="int32", name=f"{column}_{name}")
                           for name in INPUT_NAMES} for column in columns}
        embeddings = keras.ops.stack([embedder(inputs[column]) for column in columns], axis=1)
        super().__init__(inputs, embeddings, embedder.encoder, {"with_negative": bool(with_negative)}, **kwargs)
        self.embedder = embedder
        self.columns = columns

    def get_config(self):
        config = super().get_config()
        del config["encoder"]  # saved inside the embedder, with its pooling and preprocessor
        config["embedder"] = keras.saving.serialize_keras_object(self.embedder)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["embedder"] = keras.saving.deserialize_keras_object(config["embedder"])
        return cls(**config)

"""`BertTokenClassifier`: a label per token (NER), on `sequence_output`."""

import keras

from keras_bert.layers.dropout import Dropout
from keras_bert.models.bert_task_model import BertTaskModel, encoder_inputs


@keras.saving.register_keras_serializable(package="keras_bert")
class BertTokenClassifier(BertTaskModel):
    """Dropout and a dense layer on every token's final hidden state.

    The paper's recipe for token tasks such as NER: each token's output
    representation feeds one new output layer.

    Args:
        encoder: a `BertEncoder`.
        num_classes: int. Number of tags.
        dropout: float. Defaults to `0.1`.
        initializer_range: float. Defaults to `0.02`.
        **kwargs: Passed to `keras.Model`.

    Inputs: the encoder's input dict. Outputs: logits
    `(batch_size, seq_length, num_classes)`.

    Example:
    >>> import numpy as np
    >>> from keras_bert import BertEncoder
    >>> encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
    ...                       num_attention_heads=2, intermediate_size=12)
    >>> ids = np.ones((2, 5), "int32")
    >>> inputs = {"input_word_ids": ids, "input_mask": ids, "input_type_ids": 0 * ids}
    >>> tuple(BertTokenClassifier(encoder, num_classes=9)(inputs).shape)
    (2, 5, 9)
    """

    uses_pooled_output = False

    def __init__(self, encoder, num_classes, dropout=0.1, initializer_range=0.02, **kwargs):
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes={num_classes!r}; a tagger needs at least 2 tags.")
        inputs = encoder_inputs()
        x = encoder(inputs)["sequence_output"]
        x = Dropout(dropout, dtype=encoder.dtype_policy, name="dropout")(x)
        logits = keras.layers.Dense(
            num_classes,
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=initializer_range),
            name="logits",
            dtype="float32",  # logits and loss in float32 under mixed precision
        )(x)
        super().__init__(
            inputs,
            logits,
            encoder,
            {
                "num_classes": num_classes,
                "dropout": dropout,
                "initializer_range": initializer_range,
            },
            **kwargs,
        )

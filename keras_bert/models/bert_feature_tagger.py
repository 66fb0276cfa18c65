"""`BertFeatureTagger`: the paper's feature-based NER model on a frozen encoder."""

import keras

from keras_bert.layers.dropout import Dropout
from keras_bert.models.bert_task_model import BertTaskModel, encoder_inputs


@keras.saving.register_keras_serializable(package="keras_bert")
class BertFeatureTagger(BertTaskModel):
    """A two-layer BiLSTM tagger on concatenated (or summed) frozen BERT layers.

    The paper's feature-based approach (Section 5.3): the encoder is not
    fine-tuned; the concatenation of its last `num_feature_layers` layers'
    outputs feeds a randomly initialised two-layer bidirectional LSTM and a
    classification layer. Table 7's other rows: `num_feature_layers=1` (the
    last hidden layer) and `combine="sum"` (the last four summed).

    Args:
        encoder: a `BertEncoder`; it is frozen (`trainable = False`).
        num_classes: int. Number of tags.
        num_feature_layers: int. How many top layers to combine.
            Defaults to `4`.
        combine: `"concat"` or `"sum"`: how the layers are combined.
            Defaults to `"concat"`.
        lstm_units: int. Units per direction. Defaults to `384`.
        dropout: float. Dropout on the features and between LSTMs.
        **kwargs: Passed to `keras.Model`.

    Inputs: the encoder's input dict. Outputs: logits
    `(batch_size, seq_length, num_classes)`.

    Example:
    >>> import numpy as np
    >>> from keras_bert import BertEncoder
    >>> encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=4,
    ...                       num_attention_heads=2, intermediate_size=12)
    >>> tagger = BertFeatureTagger(encoder, num_classes=5, lstm_units=6)
    >>> ids = np.ones((2, 7), "int32")
    >>> inputs = {"input_word_ids": ids, "input_mask": ids, "input_type_ids": 0 * ids}
    >>> tuple(tagger(inputs).shape), encoder.trainable
    ((2, 7, 5), False)
    """

    def __init__(
        self, encoder, num_classes, num_feature_layers=4, combine="concat", lstm_units=384, dropout=0.1, **kwargs
    ):
        if not 1 <= num_feature_layers <= encoder.config.num_layers:
            raise ValueError(
                f"num_feature_layers={num_feature_layers}, but the encoder has "
                f"{encoder.config.num_layers} layers."
            )
        if combine not in ("concat", "sum"):
            raise ValueError(f"combine={combine!r} is not supported; use 'concat' or 'sum'.")
        encoder.trainable = False
        inputs = encoder_inputs()
        layers = encoder(inputs, training=False)["encoder_outputs"][-num_feature_layers:]
        if len(layers) == 1:
            x = layers[0]
        elif combine == "concat":
            x = keras.layers.Concatenate(dtype=encoder.dtype_policy, name="concat_layers")(layers)
        else:
            x = keras.layers.Add(dtype=encoder.dtype_policy, name="sum_layers")(layers)
        x = Dropout(dropout, dtype=encoder.dtype_policy)(x)
        mask = keras.ops.cast(inputs["input_mask"], "bool")
        for i in range(2):
            lstm = keras.layers.LSTM(lstm_units, return_sequences=True, dtype=encoder.dtype_policy)
            x = keras.layers.Bidirectional(lstm, dtype=encoder.dtype_policy, name=f"bilstm_{i}")(x, mask=mask)
            x = Dropout(dropout, dtype=encoder.dtype_policy)(x)
        logits = keras.layers.Dense(num_classes, dtype="float32", name="logits")(x)  # float32 under mixed precision
        super().__init__(
            inputs,
            logits,
            encoder,
            {
                "num_classes": num_classes,
                "num_feature_layers": num_feature_layers,
                "combine": combine,
                "lstm_units": lstm_units,
                "dropout": dropout,
            },
            **kwargs,
        )

"""`BertClassifier`: sentence(-pair) classification or regression on `[CLS]` (or on all tokens, pooled)."""

import keras

from keras_bert.layers.dropout import Dropout
from keras_bert.layers.token_pooling import POOLING_MODES, TokenPooling
from keras_bert.models.bert_encoder import BertEncoder  # noqa: F401 (used by the doctest)
from keras_bert.models.bert_task_model import BertTaskModel, encoder_inputs


@keras.saving.register_keras_serializable(package="keras_bert")
class BertClassifier(BertTaskModel):
    """Dropout and a dense layer on the encoder's `pooled_output`.

    The paper's fine-tuning recipe for sentence and sentence-pair tasks
    (GLUE): the `[CLS]` representation feeds one new output layer and the
    whole network is trained end to end.

    `pooling="mean"` reads the average of the real tokens' last-layer
    vectors instead (`"max"` and `"cls"`, the raw `[CLS]` vector, as
    `TokenPooling`); the encoder's pooler is then left untrained. It suits
    encoders pretrained without a sentence objective (masked LM only), whose
    pooler and `[CLS]` vector nothing trained to summarise the input.

    Args:
        encoder: a `BertEncoder`.
        num_classes: int. Number of labels; `1` makes it a regression head
            (STS-B), whose single output is the predicted score.
        dropout: float. Rate on the pooled output. Defaults to `0.1`.
        initializer_range: float. Stddev of the output layer's
            truncated-normal initializer. Defaults to `0.02`.
        pooling: `"pooler"` (the paper's `tanh(dense([CLS]))`, the
            default), `"mean"`, `"max"` or `"cls"`.
        **kwargs: Passed to `keras.Model`.

    Inputs: the encoder's input dict.

    Outputs: float logits `(batch_size, num_classes)`.

    Example:
    >>> import numpy as np
    >>> encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
    ...                       num_attention_heads=2, intermediate_size=12)
    >>> classifier = BertClassifier(encoder, num_classes=3)
    >>> inputs = {"input_word_ids": np.ones((2, 5), "int32"),
    ...           "input_mask": np.ones((2, 5), "int32"),
    ...           "input_type_ids": np.zeros((2, 5), "int32")}
    >>> tuple(classifier(inputs).shape)
    (2, 3)
    >>> tuple(BertClassifier(encoder, num_classes=3, pooling="mean")(inputs).shape)
    (2, 3)
    """

    def __init__(self, encoder, num_classes, dropout=0.1, initializer_range=0.02, pooling="pooler", **kwargs):
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"num_classes={num_classes!r}; use 1 (regression) or more.")
        if pooling != "pooler" and pooling not in POOLING_MODES:
            raise ValueError(f"pooling={pooling!r} is not supported; use pooler, {', '.join(POOLING_MODES)}.")
        inputs = encoder_inputs()
        outputs = encoder(inputs)
        if pooling == "pooler":
            pooled = outputs["pooled_output"]
        else:
            pooled = TokenPooling(pooling, normalize=False, name="pooling")(
                outputs["sequence_output"], inputs["input_mask"]
            )
        x = Dropout(dropout, dtype=encoder.dtype_policy, name="dropout")(pooled)
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
                "pooling": pooling,
            },
            **kwargs,
        )
        # Without the pooler in the graph its weights get no gradient (see BertTaskModel).
        self.uses_pooled_output = pooling == "pooler"

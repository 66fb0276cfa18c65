"""`BertSpanLabeler`: answer-span start and end logits per token (SQuAD)."""

import keras

from keras_bert.models.bert_task_model import BertTaskModel, encoder_inputs


@keras.saving.register_keras_serializable(package="keras_bert")
class BertSpanLabeler(BertTaskModel):
    """A start and an end logit for every token, from its final hidden state.

    The paper's SQuAD model: one start vector S and one end vector E; a span
    i..j scores `S·T_i + E·T_j`.

    Args:
        encoder: a `BertEncoder`.
        initializer_range: float. Defaults to `0.02`.
        **kwargs: Passed to `keras.Model`.

    Inputs: the encoder's input dict. Outputs: a dict with `start_logits` and
    `end_logits`, each `(batch_size, seq_length)`.

    Example:
    >>> import numpy as np
    >>> from keras_bert import BertEncoder
    >>> encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
    ...                       num_attention_heads=2, intermediate_size=12)
    >>> ids = np.ones((2, 5), "int32")
    >>> inputs = {"input_word_ids": ids, "input_mask": ids, "input_type_ids": 0 * ids}
    >>> tuple(BertSpanLabeler(encoder)(inputs)["start_logits"].shape)
    (2, 5)
    """

    uses_pooled_output = False

    def __init__(self, encoder, initializer_range=0.02, **kwargs):
        inputs = encoder_inputs()
        logits = keras.layers.Dense(
            2,
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=initializer_range),
            name="span_logits",
            dtype="float32",  # logits and loss in float32 under mixed precision
        )(encoder(inputs)["sequence_output"])
        outputs = {
            "start_logits": keras.layers.Identity(name="start_logits")(logits[..., 0]),
            "end_logits": keras.layers.Identity(name="end_logits")(logits[..., 1]),
        }
        super().__init__(
            inputs,
            outputs,
            encoder,
            {
                "initializer_range": initializer_range,
            },
            **kwargs,
        )

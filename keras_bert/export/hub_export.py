"""A TF-Hub-style pair: a preprocessor SavedModel and an encoder SavedModel.

They follow the interface of the BERT models on TF Hub / Kaggle Models, so
code written for those (`hub.KerasLayer`, `tf.saved_model.load`,
`keras.layers.TFSMLayer`) builds on ours:

    preprocessor = tf.saved_model.load("bert_preprocess")
    encoder = tf.saved_model.load("bert_encoder")
    tokens = [preprocessor.tokenize(s) for s in (questions, answers)]
    outputs = encoder(preprocessor.bert_pack_inputs(tokens, seq_length=64))
    outputs["pooled_output"], outputs["sequence_output"], outputs["encoder_outputs"]
"""

import os

import tensorflow as tf

from keras_bert.features import INPUT_NAMES
from keras_bert.text.packing import pack_segments

_STRINGS = tf.TensorSpec([None], tf.string)


class _Preprocessor(tf.Module):
    def __init__(self, preprocessor):
        super().__init__()
        self.tokenizer = preprocessor.tokenizer
        self.seq_length = preprocessor.seq_length
        self.do_lower_case = preprocessor.lower_case
        self.tokenize = tf.function(self.tokenizer, input_signature=[_STRINGS])
        self.bert_pack_inputs = tf.function(self._pack)
        pieces = tf.RaggedTensorSpec([None, None], tf.int32, ragged_rank=1)
        for num_segments in (1, 2):
            self.bert_pack_inputs.get_concrete_function([pieces] * num_segments, tf.TensorSpec([], tf.int32))
        self.__call__ = tf.function(lambda text: self._pack([self.tokenizer(text)], self.seq_length),
                                    input_signature=[_STRINGS])

    def _pack(self, segments, seq_length):
        return pack_segments(list(segments), seq_length, self.tokenizer.token_to_id("[CLS]"),
                             self.tokenizer.token_to_id("[SEP]"))


class _Encoder(tf.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder
        # Dropout's random-seed states, which training=True reads, are not
        # tracked through the Keras model; holding them here saves them too.
        weights = {id(v) for v in encoder.weights}
        self.dropout_seeds = [v.value for v in encoder.variables if id(v) not in weights]
        self.__call__ = tf.function(self._encode)
        inputs = {name: tf.TensorSpec([None, None], tf.int32, name=name) for name in INPUT_NAMES}
        for training in (False, True):
            self.__call__.get_concrete_function(inputs, training)
        self.serve = tf.function(self._serve, input_signature=[inputs])

    def _encode(self, inputs, training=False):
        outputs = self.encoder(inputs, training=training)
        return {
            "pooled_output": outputs["pooled_output"],
            "sequence_output": outputs["sequence_output"],
            "encoder_outputs": list(outputs["encoder_outputs"]),
            "default": outputs["pooled_output"],
        }

    def _serve(self, inputs):
        outputs = self._encode(inputs)
        # Signature outputs are tensors, not lists: layers stacked first.
        return dict(outputs, encoder_outputs=tf.stack(outputs["encoder_outputs"]))


def export_hub_preprocessor(preprocessor, export_dir):
    """Saves a `BertPreprocessor` as a TF-Hub-style preprocessing SavedModel.

    The loaded object:
    - `obj(strings)`: string `[batch]` -> the encoder's input dict, int32
      `[batch, seq_length]` (the preprocessor's `seq_length`).
    - `obj.tokenize(strings)`: int32 `tf.RaggedTensor` `[batch, (pieces)]`.
    - `obj.bert_pack_inputs(segments, seq_length)`: a list of one or two
      tokenized batches (`[batch, (words), (pieces)]` is accepted too) and a
      length -> the input dict, pairs trimmed longer-segment-first.
    Signature `serving_default`: `text` -> the input dict. Tokenization is
    in-graph: it loads with only tensorflow and tensorflow_text imported.

    Example:
    >>> import tempfile
    >>> from keras_bert.text import BertPreprocessor
    >>> vocab = tempfile.mktemp()
    >>> _ = open(vocab, "w").write("\\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hi", "there"]))
    >>> path = export_hub_preprocessor(BertPreprocessor(vocab, 8), tempfile.mkdtemp() + "/p")
    >>> loaded = tf.saved_model.load(path)
    >>> pieces = loaded.tokenize(tf.constant(["hi there", "hi"]))
    >>> loaded.bert_pack_inputs([pieces, pieces], seq_length=7)["input_word_ids"].numpy().tolist()
    [[2, 5, 6, 3, 5, 6, 3], [2, 5, 3, 5, 3, 0, 0]]
    """
    module = _Preprocessor(preprocessor)
    return _save(module, export_dir, module.__call__.get_concrete_function())


def export_hub_encoder(encoder, export_dir):
    """Saves a `BertEncoder` as a TF-Hub-style encoder SavedModel.

    The loaded object: `obj(inputs, training=False)` with the input dict
    (int32 `[batch, seq_length]`) -> `pooled_output` `[batch, hidden]`,
    `sequence_output` `[batch, seq_length, hidden]`, `encoder_outputs` (a
    list, one per layer) and `default` (= `pooled_output`). Its `variables`
    and `trainable_variables` are the encoder's, so it fine-tunes under
    `tf.GradientTape`. Signature `serving_default`: the input dict ->
    `pooled_output`, `sequence_output`, `default`, and `encoder_outputs`
    stacked `[layers, batch, seq_length, hidden]`; the same as a function
    of the input dict: `obj.serve`, the endpoint for Keras'
    `keras.layers.TFSMLayer(export_dir, call_endpoint="serve")`.

    Example:
    >>> import tempfile
    >>> from keras_bert import BertEncoder
    >>> encoder = BertEncoder(vocab_size=7, hidden_size=8, num_layers=2,
    ...                       num_attention_heads=2, intermediate_size=12)
    >>> loaded = tf.saved_model.load(export_hub_encoder(encoder, tempfile.mkdtemp() + "/e"))
    >>> ones = tf.ones((1, 4), tf.int32)
    >>> out = loaded({"input_word_ids": ones, "input_mask": ones, "input_type_ids": 0 * ones})
    >>> out["sequence_output"].shape, len(out["encoder_outputs"])
    (TensorShape([1, 4, 8]), 2)
    """
    module = _Encoder(encoder)
    return _save(module, export_dir, module.serve.get_concrete_function())


def _save(module, export_dir, serving_default):
    export_dir = os.fspath(export_dir)
    if os.path.exists(os.path.join(export_dir, "saved_model.pb")):
        raise FileExistsError(f"{export_dir} already holds a SavedModel; choose a new directory.")
    tf.saved_model.save(module, export_dir, signatures={"serving_default": serving_default})
    return export_dir

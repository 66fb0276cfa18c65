"""`BertTextEmbedder`: one vector per text, for search, clustering and deduplication."""

import json
import os

import keras
import numpy as np
import tensorflow as tf

from keras_bert.data.classification_dataset import trim_to_longest
from keras_bert.layers.token_pooling import TokenPooling
from keras_bert.models.bert_encoder import BertEncoder
from keras_bert.models.bert_task_model import BertTaskModel, encoder_inputs


@keras.saving.register_keras_serializable(package="keras_bert")
class BertTextEmbedder(BertTaskModel):
    """The encoder's token vectors pooled into one (unit-length) embedding per text.

    The model of sentence-transformers' bi-encoders (all-MiniLM-L6-v2 is one):
    `TokenPooling` of the last layer, so texts compare by cosine similarity.
    `encode` embeds Python strings in batches; `from_preset` reads a
    sentence-transformers checkpoint's own pooling, normalisation and
    maximum length.

    Args:
        encoder: a `BertEncoder`.
        pooling: `"mean"`, `"cls"` or `"max"` (see `TokenPooling`).
            Defaults to `"mean"`.
        normalize: bool. Unit-length embeddings. Defaults to `True`.
        preprocessor: optional `keras_bert.text.BertPreprocessor` that
            `encode` tokenizes with (its `seq_length` is the longest text
            kept, in pieces); saved with the model.
        **kwargs: Passed to `keras.Model`.

    Inputs: the encoder's input dict.

    Outputs: float32 embeddings `(batch_size, hidden_size)`.

    Example:
    >>> from keras_bert.checkpoints import default_checkpoint_path
    >>> embedder = BertTextEmbedder.from_preset(default_checkpoint_path())
    >>> vectors = embedder.encode(["A man plays guitar.", "Someone plays music.", "Stocks fell."])
    >>> vectors.shape
    (3, 384)
    >>> similarity = vectors @ vectors.T
    >>> bool(similarity[0, 1] > similarity[0, 2])
    True
    """

    uses_pooled_output = False  # the pooler's tanh(dense([CLS])) is not an embedding here

    def __init__(self, encoder, pooling="mean", normalize=True, preprocessor=None, **kwargs):
        inputs = encoder_inputs()
        sequence_output = encoder(inputs)["sequence_output"]
        embeddings = TokenPooling(pooling, normalize, name="pooling")(sequence_output, inputs["input_mask"])
        super().__init__(inputs, embeddings, encoder, {"pooling": pooling, "normalize": normalize}, **kwargs)
        self.preprocessor = preprocessor
        self._embed_batch = None

    @classmethod
    def from_preset(cls, preset, pooling=None, normalize=None, seq_length=None, **kwargs):
        """An embedder on a released checkpoint, with its tokenizer, as its publisher configured it.

        A sentence-transformers checkpoint (one with `modules.json`, such as
        all-MiniLM-L6-v2) gives the defaults of its own `Pooling` and
        `Normalize` modules and `max_seq_length`; any other checkpoint gives
        mean pooling, normalisation and its `max_position_embeddings`.

        Args:
            preset: str. What `BertEncoder.from_preset` takes.
            pooling: optional pooling mode, in place of the checkpoint's.
            normalize: optional bool, in place of the checkpoint's.
            seq_length: optional int. The longest text `encode` keeps, in
                pieces with `[CLS]` and `[SEP]`.
            **kwargs: `keras.Model` arguments.

        Example:
        >>> from keras_bert.checkpoints import default_checkpoint_path
        >>> embedder = BertTextEmbedder.from_preset(default_checkpoint_path())
        >>> embedder.pooling, embedder.normalize, embedder.preprocessor.seq_length
        ('mean', True, 256)
        """
        from keras_bert.presets.resolve import checkpoint_directory
        from keras_bert.text.bert_preprocessor import BertPreprocessor

        encoder = BertEncoder.from_preset(preset)
        published = sentence_transformers_settings(checkpoint_directory(preset))
        seq_length = seq_length or published.get("seq_length") or encoder.config.max_position_embeddings
        return cls(
            encoder,
            pooling=pooling or published.get("pooling", "mean"),
            normalize=published.get("normalize", True) if normalize is None else normalize,
            preprocessor=BertPreprocessor.from_preset(preset, seq_length=seq_length),
            **kwargs,
        )

    def encode(self, texts, batch_size=32, preprocessor=None):
        """Embeds Python strings, in batches of similar length, returned in the input order.

        Texts are sorted longest first and each batch is cut to its longest
        text, so little time goes on padding; tokenization runs in the graph.

        Args:
            texts: a string, or a list of strings.
            batch_size: int. Texts per forward pass. Defaults to `32`.
            preprocessor: optional `BertPreprocessor`; defaults to the
                model's own (`from_preset` sets one).

        Returns:
            float32 NumPy array `(len(texts), hidden_size)`, or
            `(hidden_size,)` for one string.
        """
        preprocessor = preprocessor or self.preprocessor
        if preprocessor is None:
            raise ValueError(
                "This BertTextEmbedder has no preprocessor to tokenize with: build it with "
                "BertTextEmbedder.from_preset(...), or pass preprocessor=BertPreprocessor(vocab_file, seq_length)."
            )
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size={batch_size!r}; use a positive integer.")
        if isinstance(texts, str):
            return self.encode([texts], batch_size, preprocessor)[0]
        texts = list(texts)
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"texts[{i}] is a {type(text).__name__}, not a string: encode takes strings.")
        embed = self._batch_function(preprocessor)
        embeddings = np.zeros((len(texts), self.output_shape[-1]), np.float32)
        order = np.argsort([-len(text) for text in texts], kind="stable")
        for start in range(0, len(texts), batch_size):
            rows = order[start:start + batch_size]
            embeddings[rows] = embed(tf.constant([texts[i] for i in rows])).numpy()
        return embeddings

    def _batch_function(self, preprocessor):
        # Traced once per preprocessor and set of variables (enabling LoRA adds some, which a trace would miss).
        key = (preprocessor, len(self.weights))
        if self._embed_batch is None or self._embed_batch[0] != key:
            @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
            def embed(texts):
                return self(trim_to_longest(preprocessor(texts)), training=False)

            self._embed_batch = (key, embed)
        return self._embed_batch[1]

    def get_config(self):
        config = super().get_config()
        config["preprocessor"] = (
            None if self.preprocessor is None else keras.saving.serialize_keras_object(self.preprocessor)
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("preprocessor") is not None:
            config["preprocessor"] = keras.saving.deserialize_keras_object(config["preprocessor"])
        return super().from_config(config)


# sentence-transformers' Pooling config key of each of our modes.
_POOLING_KEYS = {"cls": "pooling_mode_cls_token", "mean": "pooling_mode_mean_tokens", "max": "pooling_mode_max_tokens"}


def sentence_transformers_settings(directory):
    """The pooling, normalisation and maximum length a sentence-transformers checkpoint directory declares.

    Returns:
        A dict with any of `pooling`, `normalize`, `seq_length`; empty for
        a directory without `modules.json`.

    Example:
    >>> from keras_bert.checkpoints import default_checkpoint_path
    >>> sorted(sentence_transformers_settings(default_checkpoint_path()).items())
    [('normalize', True), ('pooling', 'mean'), ('seq_length', 256)]
    """
    modules_file = os.path.join(directory, "modules.json")
    if not os.path.isfile(modules_file):
        return {}
    with open(modules_file, encoding="utf-8") as f:
        modules = json.load(f)
    settings = {"normalize": any(m.get("type", "").endswith(".Normalize") for m in modules)}
    for module in modules:
        if module.get("type", "").endswith(".Pooling"):
            with open(os.path.join(directory, module["path"], "config.json"), encoding="utf-8") as f:
                pooling = json.load(f)
            modes = [mode for mode, key in _POOLING_KEYS.items() if pooling.get(key)]
            if len(modes) != 1:
                raise ValueError(
                    f"{module['path']}/config.json asks for {modes or 'no supported'} pooling; "
                    "BertTextEmbedder takes exactly one of cls, mean and max."
                )
            settings["pooling"] = modes[0]
    bert_config = os.path.join(directory, "sentence_bert_config.json")
    if os.path.isfile(bert_config):
        with open(bert_config, encoding="utf-8") as f:
            max_seq_length = json.load(f).get("max_seq_length")
        if max_seq_length:
            settings["seq_length"] = int(max_seq_length)
    return settings

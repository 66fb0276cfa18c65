"""`BertTaskModel`: the one base class of the task models built on a `BertEncoder`."""

import keras

from keras_bert.models.bert_encoder import INPUT_NAMES


def encoder_inputs(shape=(None,)):
    """Symbolic int32 inputs named as the encoder's, each `(batch,) + shape`."""
    return {name: keras.Input(shape=shape, dtype="int32", name=name) for name in INPUT_NAMES}


class BertTaskModel(keras.Model):
    """A functional model over a `BertEncoder`, saved by its constructor arguments.

    Subclasses build their graph, then call
    `super().__init__(inputs, outputs, encoder, {arg: value, ...})` with every
    constructor argument except the encoder. Each becomes an attribute and a
    `get_config` key; the encoder is serialized whole, so a `.keras` file
    restores the task model with its encoder.
    """

    def __init__(self, inputs, outputs, encoder, arguments, **kwargs):
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.encoder = encoder
        self._arguments = dict(arguments)
        for name, value in arguments.items():
            setattr(self, name, value)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            **self._arguments,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        return cls(**config)

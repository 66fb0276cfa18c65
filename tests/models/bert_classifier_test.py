import keras
import numpy as np
import pytest

from keras_bert import BertClassifier, BertEncoder
from keras_test_utils import run_serialization_test


def _encoder():
    return BertEncoder(vocab_size=23, hidden_size=8, num_layers=2, num_attention_heads=2,
                       intermediate_size=12, max_position_embeddings=16)


def _inputs():
    ids = np.array([[2, 5, 6, 3, 0, 0, 0], [2, 7, 3, 8, 9, 3, 0], [2, 4, 3, 0, 0, 0, 0]], "int32")
    return {"input_word_ids": ids, "input_mask": (ids > 0).astype("int32"), "input_type_ids": np.zeros_like(ids)}


def test_logits_are_a_dense_layer_on_pooled_output():
    encoder = _encoder()
    classifier = BertClassifier(encoder, num_classes=3)
    logits = classifier(_inputs())
    dense = classifier.get_layer("logits")
    expected = encoder(_inputs())["pooled_output"].numpy() @ dense.kernel.numpy() + dense.bias.numpy()
    np.testing.assert_allclose(logits, expected, atol=1e-6)
    assert classifier.get_layer("logits").kernel.shape == (8, 3)


def test_regression_head_and_bad_num_classes():
    assert BertClassifier(_encoder(), num_classes=1)(_inputs()).shape == (3, 1)
    with pytest.raises(ValueError, match="num_classes=0"):
        BertClassifier(_encoder(), num_classes=0)


def test_serialization():
    run_serialization_test(BertClassifier(_encoder(), num_classes=2, dropout=0.2), (_inputs(),))


def test_mean_pooling_reads_the_average_of_real_tokens_and_leaves_the_pooler_out():
    import warnings

    encoder = _encoder()
    classifier = BertClassifier(encoder, num_classes=3, pooling="mean")
    inputs = _inputs()
    sequence = encoder(inputs)["sequence_output"].numpy()
    mask = inputs["input_mask"][:, :, None]
    mean = (sequence * mask).sum(axis=1) / mask.sum(axis=1)  # by hand: padding left out
    dense = classifier.get_layer("logits")
    np.testing.assert_allclose(classifier(inputs), mean @ dense.kernel.numpy() + dense.bias.numpy(), atol=1e-5)
    assert not any(w.path.startswith("pooler") for w in classifier.trainable_weights)
    classifier.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        classifier.fit(inputs, np.array([0, 1, 2]), epochs=1, verbose=0)
    assert not [w for w in caught if "Gradients do not exist" in str(w.message)]
    run_serialization_test(BertClassifier(_encoder(), num_classes=2, pooling="max"), (_inputs(),))
    with pytest.raises(ValueError, match="pooling='first'.*use pooler, mean"):
        BertClassifier(_encoder(), num_classes=2, pooling="first")

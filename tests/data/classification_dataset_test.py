import numpy as np
import pytest
import tensorflow as tf

from keras_bert.data import GlueExamples, classification_dataset, trim_to_longest
from keras_bert.text import BertPreprocessor


def test_batches_are_trimmed_and_labels_kept(minilm_path):
    examples = GlueExamples(["a b c d e f", "short", "x y"], ["p q", "r", "s"], [1, 0, 1], ("0", "1"), "mem")
    preprocessor = BertPreprocessor(f"{minilm_path}/vocab.txt", seq_length=64)
    batches = list(classification_dataset(examples, preprocessor, batch_size=2))
    (first, first_labels), (second, second_labels) = batches
    assert first["input_word_ids"].shape == (2, 11)  # [CLS] 6 [SEP] 2 [SEP]
    assert second["input_word_ids"].shape == (1, 6)
    assert first_labels.numpy().tolist() == [1, 0] and first_labels.dtype == tf.int32
    full = preprocessor((tf.constant(examples.text_a[:2]), tf.constant(examples.text_b[:2])))
    np.testing.assert_array_equal(first["input_type_ids"], full["input_type_ids"][:, :11])
    assert full["input_mask"].numpy()[:, 11:].sum() == 0  # only padding was cut


def test_trim_to_longest_rounds_up_never_past_the_packed_width_and_checks_its_argument():
    mask = np.zeros((3, 20), "int32")
    mask[0, :5], mask[1, :13], mask[2, :2] = 1, 1, 1
    inputs = {"input_mask": mask, "input_word_ids": mask * 7}
    assert trim_to_longest(inputs)["input_word_ids"].shape == (3, 13)
    assert trim_to_longest(inputs, multiple_of=8)["input_word_ids"].shape == (3, 16)
    assert trim_to_longest(inputs, multiple_of=16)["input_word_ids"].shape == (3, 16)
    assert trim_to_longest(inputs, multiple_of=32)["input_word_ids"].shape == (3, 20)  # not past 20
    choices = {k: np.stack([v, v], 1) for k, v in inputs.items()}  # (batch, choices, seq)
    assert trim_to_longest(choices, multiple_of=8)["input_mask"].shape == (3, 2, 16)
    np.testing.assert_array_equal(trim_to_longest(inputs, multiple_of=8)["input_mask"], mask[:, :16])
    with pytest.raises(ValueError, match="multiple_of must be an int >= 1, got 0"):
        trim_to_longest(inputs, multiple_of=0)


def test_shuffling_is_seeded_and_regression_labels_are_float(minilm_path):
    examples = GlueExamples([str(i) for i in range(20)], None, [float(i) for i in range(20)], (), "mem")
    preprocessor = BertPreprocessor(f"{minilm_path}/vocab.txt", seq_length=8)

    def order(seed):
        dataset = classification_dataset(examples, preprocessor, 20, shuffle=True, seed=seed)
        return next(iter(dataset))[1].numpy().tolist()

    assert order(1) == order(1) != list(range(20))
    assert next(iter(classification_dataset(examples, preprocessor, 4)))[1].dtype == tf.float32

import numpy as np
import tensorflow as tf

from keras_bert.data import GlueExamples, classification_dataset
from keras_bert.text import BertPreprocessor


def test_batches_are_trimmed_and_labels_kept(minilm_path):
    examples = GlueExamples(["a b c d e f", "short", "x y"], ["p q", "r", "s"], [1, 0, 1], ("0", "1"), "mem")
    preprocessor = BertPreprocessor(f"{minilm_path}/vocab.txt", seq_length=64)
    batches = list(classification_dataset(examples, preprocessor, batch_size=2))
    (first, first_labels), (second, second_labels) = batches
    # [CLS] 6 [SEP] 2 [SEP] = 11 and [CLS] 2 [SEP] 1 [SEP] = 6, each rounded up to a multiple of 16.
    assert first["input_word_ids"].shape == (2, 16) and second["input_word_ids"].shape == (1, 16)
    assert first_labels.numpy().tolist() == [1, 0] and first_labels.dtype == tf.int32
    full = preprocessor((tf.constant(examples.text_a[:2]), tf.constant(examples.text_b[:2])))
    np.testing.assert_array_equal(first["input_type_ids"], full["input_type_ids"][:, :16])
    assert full["input_mask"].numpy()[:, 11:].sum() == 0  # only padding was cut


def test_batch_lengths_round_up_to_the_multiple_and_stop_at_seq_length(minilm_path):
    preprocessor = BertPreprocessor(f"{minilm_path}/vocab.txt", seq_length=40)
    texts = ["a " * n for n in (1, 14, 15, 30, 60)]  # [CLS] n [SEP]: 3, 16, 17, 32 and (cut) 40 pieces
    examples = GlueExamples(texts, None, [0] * 5, ("0",), "mem")
    lengths = [x["input_word_ids"].shape[1] for x, _ in classification_dataset(examples, preprocessor, 1)]
    assert lengths == [16, 16, 32, 32, 40]


def test_shuffling_is_seeded_and_regression_labels_are_float(minilm_path):
    examples = GlueExamples([str(i) for i in range(20)], None, [float(i) for i in range(20)], (), "mem")
    preprocessor = BertPreprocessor(f"{minilm_path}/vocab.txt", seq_length=8)

    def order(seed):
        dataset = classification_dataset(examples, preprocessor, 20, shuffle=True, seed=seed)
        return next(iter(dataset))[1].numpy().tolist()

    assert order(1) == order(1) != list(range(20))
    assert next(iter(classification_dataset(examples, preprocessor, 4)))[1].dtype == tf.float32


def test_unlabelled_examples_give_inputs_alone(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "fine", "film"]))
    examples = GlueExamples(["fine film", "film"], None, None, ("0", "1"), "test.tsv")
    batches = list(classification_dataset(examples, BertPreprocessor(str(vocab), 8), batch_size=2))
    assert len(batches) == 1 and isinstance(batches[0], dict)
    assert batches[0]["input_word_ids"].numpy().tolist() == [[2, 5, 6, 3, 0, 0, 0, 0], [2, 6, 3, 0, 0, 0, 0, 0]]

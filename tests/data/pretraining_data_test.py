"""Pretraining instances (the original's algorithm) and the masked input pipeline."""

import collections

import numpy as np
import pytest
import tensorflow as tf

from keras_bert.data import (
    MaskingOptions,
    create_instances,
    create_packed_instances,
    pretraining_dataset,
    read_documents,
    write_instances,
)
from keras_bert.data.pretraining_data import IS_NEXT, read_tfds_documents
from keras_bert.text import BertTokenizer

CLS, SEP = 101, 102


def _vocab(tmp_path):
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "dog", "ran", "##s", ".", "a"]
    path = tmp_path / "vocab.txt"
    path.write_text("\n".join(words) + "\n")
    return str(path)


def test_read_documents_both_layouts(tmp_path):
    tokenizer = BertTokenizer(_vocab(tmp_path))
    wiki = tmp_path / "wiki"
    wiki.write_text('<doc id="1" title="Cat">\nCat\n\nthe cat sat. the dog ran.\n</doc>\n<doc id="2">\nDogs\n</doc>\n')
    plain = tmp_path / "plain"
    plain.write_text("the cat sat\nthe dog ran\n\na dog\n")
    assert [[s.tolist() for s in d] for d in read_documents([str(wiki)], tokenizer)] == [
        [[6], [5, 6, 7, 11], [5, 8, 9, 11]],  # title, then one segment per sentence
        [[8, 10]],
    ]
    assert [[s.tolist() for s in d] for d in read_documents([str(plain)], tokenizer, split_sentences=False)] == [
        [[5, 6, 7], [5, 8, 9]],
        [[12, 8]],
    ]


def test_read_documents_rejects_bad_files(tmp_path):
    tokenizer = BertTokenizer(_vocab(tmp_path))
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"the cat\n\xff\xfe sat\n")
    with pytest.raises(ValueError, match=r"bad.txt:2 is not UTF-8"):
        read_documents([str(bad)], tokenizer)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(ValueError, match="No text"):
        read_documents([str(empty)], tokenizer)


def _labelled_corpus(rng, num_docs=40):
    """Token id = 1000 * doc + 10 * sentence + position: every token says where it came from."""
    return [
        [np.array([1000 * d + 10 * s + p for p in range(rng.integers(3, 10))]) for s in range(rng.integers(2, 12))]
        for d in range(1, num_docs + 1)
    ]


def test_instances_follow_the_original_rules():
    documents = _labelled_corpus(np.random.default_rng(0))
    instances = create_instances(documents, 32, CLS, SEP, dupe_factor=3, seed=7)
    assert len(instances) > 300
    for instance in instances:
        ids, segments = instance.input_ids, instance.segment_ids
        assert len(ids) <= 32 and len(ids) == len(segments)
        assert ids[0] == CLS and ids[-1] == SEP and ids.count(SEP) == 2
        split = ids.index(SEP)
        a, b = ids[1:split], ids[split + 1:-1]
        assert a and b
        assert segments == [0] * (split + 1) + [1] * (len(b) + 1)
        a_docs, b_docs = {t // 1000 for t in a}, {t // 1000 for t in b}
        assert len(a_docs) == 1 and len(b_docs) == 1
        if instance.next_sentence_label == IS_NEXT:
            # B is the actual continuation: same document, later sentences.
            assert a_docs == b_docs
            assert max(t % 1000 // 10 for t in a) < min(t % 1000 // 10 for t in b)
        else:
            assert a_docs != b_docs
    # The coin is fair, but like the original, a chunk of one segment (often a
    # document's last) can only take a random B: short documents tilt the share.
    random_share = np.mean([i.next_sentence_label for i in instances])
    assert 0.5 < random_share < 0.75, random_share
    # Same seed, same instances; another seed, others.
    again = create_instances(documents, 32, CLS, SEP, dupe_factor=3, seed=7)
    assert [i.input_ids for i in again] == [i.input_ids for i in instances]
    assert [i.input_ids for i in create_instances(documents, 32, CLS, SEP, dupe_factor=3, seed=8)] != [
        i.input_ids for i in instances
    ]


def test_short_seq_prob_makes_some_short_instances():
    documents = _labelled_corpus(np.random.default_rng(1), num_docs=200)
    lengths = [len(i.input_ids) for i in create_instances(documents, 64, CLS, SEP, short_seq_prob=0.5, seed=3)]
    long_only = [len(i.input_ids) for i in create_instances(documents, 64, CLS, SEP, short_seq_prob=0.0, seed=3)]
    assert np.mean(lengths) < np.mean(long_only) - 5


def test_too_few_documents_is_a_clear_error():
    with pytest.raises(ValueError, match="at least 2 documents"):
        create_instances([[np.array([5, 6])]], 16, CLS, SEP)


def test_packed_instances_are_full_windows_of_the_documents_in_order():
    documents = _labelled_corpus(np.random.default_rng(4), num_docs=30)
    instances = create_packed_instances(documents, 16, CLS, SEP, seed=5)
    assert {len(i.input_ids) for i in instances} == {16}  # no padding anywhere
    assert all(i.input_ids[0] == CLS and i.input_ids[-1] == SEP for i in instances)
    assert all(set(i.segment_ids) == {0} and i.next_sentence_label == IS_NEXT for i in instances)
    # Every token of the text (each document ended by [SEP]) once, but for the cut-off tail of < 14 tokens.
    text = [token for document in documents for token in [*np.concatenate(document).tolist(), SEP]]
    windows = [token for i in instances for token in i.input_ids[1:-1]]
    assert len(text) - 14 < len(windows) <= len(text)
    assert not collections.Counter(windows) - collections.Counter(text)
    for instance in instances:  # within a window, a document's tokens keep their order (ids grow with position)
        pieces = [t for t in instance.input_ids[1:-1] if t != SEP]
        for a, b in zip(pieces, pieces[1:]):
            assert b > a or b // 1000 != a // 1000
    assert len(create_packed_instances(documents, 16, CLS, SEP, dupe_factor=2, seed=5)) == 2 * len(instances)
    with pytest.raises(ValueError, match="at least 3 positions"):
        create_packed_instances(documents, 2, CLS, SEP)


def _written(tmp_path, masking=None):
    documents = _labelled_corpus(np.random.default_rng(2), num_docs=20)
    # Keep ids inside a 30,522 vocabulary for masking.
    documents = [[segment % 20000 + 1000 for segment in document] for document in documents]
    instances = create_instances(documents, 48, CLS, SEP, seed=1)
    files = [str(tmp_path / "a.tfrecord"), str(tmp_path / "b.tfrecord")]
    write_instances(instances, files, 48, masking=masking)
    return instances, files


def _masking(**kwargs):
    special = {"[PAD]": 0, "[CLS]": CLS, "[SEP]": SEP}
    return MaskingOptions(30522, 103, tuple(special.values()), (), **kwargs)


def test_dynamic_masking_pipeline_restores_originals(tmp_path):
    instances, files = _written(tmp_path)
    originals = {tuple(i.input_ids): i for i in instances}
    dataset = pretraining_dataset(files, 8, 48, _masking(max_predictions_per_seq=7), training=False)
    seen = 0
    for inputs, labels, weights in dataset:
        ids = inputs["input_word_ids"].numpy()
        positions, real = inputs["masked_lm_positions"].numpy(), weights["mlm"].numpy() > 0
        rows, slots = np.nonzero(real)
        ids[rows, positions[rows, slots]] = labels["mlm"].numpy()[rows, slots]
        for row in range(len(ids)):
            length = int(inputs["input_mask"][row].numpy().sum())
            instance = originals[tuple(ids[row, :length].tolist())]
            assert labels["nsp"][row] == instance.next_sentence_label
            assert inputs["input_type_ids"][row, :length].numpy().tolist() == instance.segment_ids
            seen += 1
    assert seen == len(instances)


def test_static_masks_are_read_as_written_and_dynamic_ones_change_from_batch_to_batch(tmp_path):
    masking = _masking(max_predictions_per_seq=7)
    _, static_files = _written(tmp_path, masking=masking)
    read = lambda files, seed=None: [  # noqa: E731
        x["masked_lm_positions"].numpy()
        for x, _, _ in pretraining_dataset(files, 4, 48, masking, training=False, seed=seed)
    ]
    np.testing.assert_array_equal(np.concatenate(read(static_files)), np.concatenate(read(static_files)))
    dynamic_dir = tmp_path / "dynamic"
    dynamic_dir.mkdir()
    instances, dynamic_files = _written(dynamic_dir)
    # Masks are drawn from (seed, batch index): read again, the same; under another seed, others.
    np.testing.assert_array_equal(np.concatenate(read(dynamic_files)), np.concatenate(read(dynamic_files)))
    assert not np.array_equal(np.concatenate(read(dynamic_files)), np.concatenate(read(dynamic_files, seed=6)))
    # Training re-masks each pass: unshuffled, batches of one, batch k and batch k + N hold the same row.
    rows = len(instances)
    batches = list(pretraining_dataset(dynamic_files, 1, 48, masking, seed=5, shuffle_buffer=1).take(rows + 20))
    for k in range(20):
        np.testing.assert_array_equal(batches[k][0]["input_mask"], batches[k + rows][0]["input_mask"])
    assert sum(not np.array_equal(batches[k][0]["masked_lm_positions"], batches[k + rows][0]["masked_lm_positions"])
               for k in range(20)) >= 15


def test_pipeline_checks_sequence_length_and_skips_to_resume_with_the_same_masks(tmp_path):
    _, files = _written(tmp_path)
    with pytest.raises(ValueError, match="not max_seq_length=128; pass max_seq_length=48 "):
        pretraining_dataset(files, 4, 48 + 80, _masking())
    full = pretraining_dataset(files, 4, 48, _masking(), seed=5)
    resumed = pretraining_dataset(files, 4, 48, _masking(), seed=5, skip_batches=3)
    fourth = list(full.take(4))[3]
    for got, want in zip(tf.nest.flatten(next(iter(resumed))), tf.nest.flatten(fourth)):
        np.testing.assert_array_equal(got.numpy(), want.numpy())  # the rows, and their masks


def test_tfds_text_dataset_through_mock_data():
    import tensorflow_datasets as tfds

    texts = ["the cat sat. the dog ran.\nthe cats sat.", "a dog ran. the cat sat.", "dogs. cats."]

    def as_dataset(self, *args, **kwargs):
        return tf.data.Dataset.from_tensor_slices({"text": texts, "title": ["x"] * 3})

    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        documents = read_tfds_documents("wikipedia/20230601.en", _tokenizer_for_tfds())
    assert [len(d) for d in documents] == [3, 2, 2]


def _tokenizer_for_tfds():
    import tempfile
    from pathlib import Path

    return BertTokenizer(_vocab(Path(tempfile.mkdtemp())))


def test_chinese_whole_word_masking_from_segmented_text(tmp_path, shared_data):
    vocab = str(shared_data / "vocab/bert-base-chinese-vocab.txt")
    tokenizer = BertTokenizer(vocab)
    segmented = tmp_path / "zh.txt"
    # Word-segmented text (as a segmenter such as jieba writes it), two documents.
    segmented.write_text(
        "我 喜欢 北京 天安门 。\n今天 天气 很 好 。\n我们 一起 去 公园 散步 。\n\n"
        "中华人民共和国 成立 于 一九四九年 。\n研究生 命 起源 。\n自然语言 处理 很 有趣 。\n",
        encoding="utf-8",
    )
    documents = read_documents([str(segmented)], tokenizer, split_sentences=False, segmented_words=True)
    plain = read_documents([str(segmented)], tokenizer, split_sentences=False)
    # Same ids as the unsegmented text: the flags ride on top.
    assert [[(s % (1 << 24)).tolist() for s in d] for d in documents] == [[s.tolist() for s in d] for d in plain]
    instances = create_instances(documents * 30, 40, tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]"),
                                 dupe_factor=2, seed=0)
    files = [str(tmp_path / "zh.tfrecord")]
    write_instances(instances, files, 40)
    masking = MaskingOptions.from_vocab_file(vocab, max_predictions_per_seq=8, whole_word_masking=True)
    words_seen = 0
    for inputs, labels, weights in pretraining_dataset(files, 16, 40, masking, training=False):
        rows, slots = np.nonzero(weights["mlm"].numpy())
        positions = inputs["masked_lm_positions"].numpy()
        for row in set(rows):
            instance = next(i for i in instances if i.input_ids == _unmasked(inputs, labels, weights, row))
            starts = np.cumsum([not c for c in instance.is_continuation])  # word number per piece
            chosen = set(positions[row][weights["mlm"].numpy()[row] > 0])
            for word in {starts[p] for p in chosen}:
                members = [p for p in range(len(starts)) if starts[p] == word]
                assert set(members) <= chosen, (instance.input_ids, members, chosen)
                words_seen += len(members) > 1
    assert words_seen > 50  # multi-character words were masked whole


def _unmasked(inputs, labels, weights, row):
    ids = inputs["input_word_ids"].numpy()[row].copy()
    real = weights["mlm"].numpy()[row] > 0
    ids[inputs["masked_lm_positions"].numpy()[row][real]] = labels["mlm"].numpy()[row][real]
    return ids[: int(inputs["input_mask"].numpy()[row].sum())].tolist()


def test_left_to_right_objective_predicts_the_next_token_of_unchanged_input(tmp_path):
    instances, files = _written(tmp_path)
    originals = {tuple(i.input_ids) for i in instances}
    masking = _masking(max_predictions_per_seq=7, objective="ltr")
    for inputs, labels, weights in pretraining_dataset(files, 8, 48, masking, training=False):
        ids = inputs["input_word_ids"].numpy()
        for row in range(len(ids)):
            length = int(inputs["input_mask"][row].numpy().sum())
            assert tuple(ids[row, :length].tolist()) in originals  # nothing masked
        rows, slots = np.nonzero(weights["mlm"].numpy())
        positions = inputs["masked_lm_positions"].numpy()[rows, slots]
        np.testing.assert_array_equal(labels["mlm"].numpy()[rows, slots], ids[rows, positions + 1])


def test_masking_mix_and_objective_are_checked(tmp_path):
    with pytest.raises(ValueError, match="sum to at most 1"):
        _masking(mask_token_rate=0.8, random_token_rate=0.3)
    with pytest.raises(ValueError, match="'mlm' or 'ltr'"):
        _masking(objective="gpt")
    masking = _masking(max_predictions_per_seq=7)
    _, static_files = _written(tmp_path, masking=masking)
    with pytest.raises(ValueError, match="needs unmasked instances"):
        pretraining_dataset(static_files, 4, 48, _masking(max_predictions_per_seq=7, objective="ltr"))


def test_masking_options_need_mask_and_the_packing_tokens(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("[PAD]\n[UNK]\n[CLS]\nthe\n")  # a tokenizer's vocabulary, not a masker's
    with pytest.raises(
        ValueError,
        match=r"vocab.txt' lacks the special token\(s\) \['\[MASK\]', '\[SEP\]'\], which masked-LM pretraining needs; add them",
    ):
        MaskingOptions.from_vocab_file(str(path))


@pytest.mark.parametrize("mask_rate, random_rate", [(1.0, 0.0), (0.8, 0.0)])
def test_masking_mixes_of_the_paper_table_8(tmp_path, mask_rate, random_rate):
    # 100% [MASK], and 80% [MASK] / 20% unchanged: a chosen token is [MASK] or itself, never another.
    instances, files = _written(tmp_path)
    masking = _masking(max_predictions_per_seq=7, mask_token_rate=mask_rate, random_token_rate=random_rate)
    kept = masked = 0
    for inputs, labels, weights in pretraining_dataset(files, 8, 48, masking, training=False):
        rows, slots = np.nonzero(weights["mlm"].numpy())
        new = inputs["input_word_ids"].numpy()[rows, inputs["masked_lm_positions"].numpy()[rows, slots]]
        original = labels["mlm"].numpy()[rows, slots]
        assert ((new == 103) | (new == original)).all()
        masked += int((new == 103).sum())
        kept += int((new == original).sum())
    assert kept == 0 if mask_rate == 1.0 else 0.1 < kept / (kept + masked) < 0.3


@pytest.mark.parametrize("content", [bytes(range(256)) * 8, b"\x10\x00\x00\x00\x00\x00\x00\x00" + b"\x00" * 40, b""])
def test_a_file_that_is_no_tfrecord_gets_a_clear_error(tmp_path, content):
    from keras_bert.data import check_records

    path = tmp_path / "instances.tfrecord"
    path.write_bytes(content)
    expected = "holds no records" if not content else "is not a readable TFRecord file of pretraining instances"
    with pytest.raises(ValueError, match=expected):
        check_records([str(path)], max_seq_length=8, vocab_size=10)

"""Reading text pairs, triplets and scored pairs from TSV/CSV/JSONL, and their tf.data pipeline."""

import pytest

from keras_bert.data import GlueExamples
from keras_bert.data.text_pairs import TextPairs, glue_text_pairs, read_text_pairs, text_pairs_dataset
from keras_bert.text import BertPreprocessor


def test_reads_the_same_triplets_from_tsv_csv_and_jsonl(tmp_path):
    rows = [("A cat, sleeping.", 'A "kitten" naps.', "Stocks fell."), ("Rain.", "It rains.", "Sun.")]
    (tmp_path / "t.tsv").write_text("anchor\tpositive\tnegative\n" + "".join("\t".join(r) + "\n" for r in rows))
    (tmp_path / "t.csv").write_text('anchor,positive,negative\n"A cat, sleeping.","A ""kitten"" naps.",Stocks fell.\n'
                                    "Rain.,It rains.,Sun.\n")
    (tmp_path / "t.jsonl").write_text("".join(
        f'{{"anchor": "{a}", "positive": "{p.replace(chr(34), chr(92) + chr(34))}", "negative": "{n}"}}\n\n'
        for a, p, n in rows))
    for name in ("t.tsv", "t.csv", "t.jsonl"):
        pairs = read_text_pairs(tmp_path / name, negative_column="negative")
        assert list(zip(pairs.anchor, pairs.positive, pairs.negative)) == rows, name
        assert pairs.columns == ("anchor", "positive", "negative") and pairs.score is None


def test_bad_rows_name_file_and_line_or_are_skipped(tmp_path):
    path = tmp_path / "dev.tsv"
    path.write_text("a\tb\tscore\nx\ty\t0.5\nx\ty\nx\ty\tnan\nx\ty\t1\textra\nx\ty\t1\n")
    with pytest.raises(ValueError, match=rf"^{path}, line 3: no value in column\(s\) \['score'\]; the row is shorter "
                                         r"than the header; fix the row, or pass skip_bad_rows=True"):
        read_text_pairs(path, "a", "b", score_column="score")
    pairs = read_text_pairs(path, "a", "b", score_column="score", skip_bad_rows=True)
    assert pairs.score == [0.5, 1.0] and pairs.skipped_lines == (3, 4, 5)
    for bad, problem in (('{"a": "x", "b": 3}', r"the value of \['b'\] is not a string"),
                         ("[1]", "a JSON list, not an object"), ("{oops", "not a JSON object"),
                         ('{"a": "x"}', r"no key\(s\) \['b'\] \(keys: \['a'\]\)")):
        jsonl = tmp_path / "dev.jsonl"
        jsonl.write_text('{"a": "x", "b": "y"}\n\n' + bad + "\n")
        with pytest.raises(ValueError, match=rf"^{jsonl}, line 3: {problem}"):
            read_text_pairs(jsonl, "a", "b")


def test_missing_columns_and_empty_or_unknown_files(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("q,a\nWho?,Ann.\n")
    with pytest.raises(ValueError,
                       match=r"x.csv: no column\(s\) \['anchor', 'positive'\]; its header has \['q', 'a'\]"):
        read_text_pairs(path)
    (tmp_path / "empty.tsv").write_text("anchor\tpositive\n")
    with pytest.raises(ValueError, match="empty.tsv: no rows; the file is empty"):
        read_text_pairs(tmp_path / "empty.tsv")
    with pytest.raises(ValueError, match=r"unknown extension '.xlsx'"):
        read_text_pairs(tmp_path / "x.xlsx")
    with pytest.raises(FileNotFoundError):
        read_text_pairs(tmp_path / "missing.tsv")


def test_glue_pairs_as_positives_or_scored():
    mrpc = GlueExamples(["a", "b", "c"], ["A", "B", "C"], [1, 0, 1], ("0", "1"), "mrpc/train.tsv")
    positives = glue_text_pairs(mrpc, positive_label="1")
    assert (positives.anchor, positives.positive, positives.score) == (["a", "c"], ["A", "C"], None)
    assert glue_text_pairs(mrpc).score == [1.0, 0.0, 1.0]
    stsb = GlueExamples(["a"], ["A"], [3.8], (), "stsb/dev.tsv")
    assert glue_text_pairs(stsb).score == [3.8]
    with pytest.raises(ValueError, match=r"positive_label='yes' is not one of the labels \['0', '1'\]"):
        glue_text_pairs(mrpc, positive_label="yes")


def test_dataset_packs_each_column_alone_and_trims_it(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "cat", "kitten", "dog"]))
    pairs = TextPairs(["a cat", "dog", "cat"], ["kitten", "a dog", "a kitten"], ["dog", "cat", "a a a dog"])
    batches = list(text_pairs_dataset(pairs, BertPreprocessor(str(vocab), seq_length=5), batch_size=2))
    inputs, scores = batches[0]
    assert sorted(inputs) == ["anchor", "negative", "positive"]
    assert inputs["anchor"]["input_word_ids"].numpy().tolist() == [[2, 4, 5, 3], [2, 7, 3, 0]]
    assert inputs["negative"]["input_word_ids"].numpy().tolist() == [[2, 7, 3], [2, 5, 3]]
    assert scores.numpy().tolist() == [0.0, 0.0]
    assert batches[1][0]["negative"]["input_word_ids"].numpy().tolist() == [[2, 4, 4, 4, 3]]  # cut to seq_length
    shuffled = next(iter(text_pairs_dataset(pairs, BertPreprocessor(str(vocab), 5), 3, shuffle=True, seed=1)))[0]
    assert sorted(shuffled["positive"]["input_word_ids"].numpy().tolist()) == [[2, 4, 6, 3], [2, 4, 7, 3],
                                                                                 [2, 6, 3, 0]]

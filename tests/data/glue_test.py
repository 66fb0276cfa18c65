import pytest

from keras_bert.data import GLUE_TASKS, read_glue_split, read_glue_tsv

# One row of each task as the official GLUE files lay it out.
OFFICIAL_ROWS = {
    "cola": (None, "gj04\t1\t\tOur friends won't buy this analysis.", ("Our friends won't buy this analysis.", None, 1)),
    "sst2": ("sentence\tlabel", "a gorgeous film\t1", ("a gorgeous film", None, 1)),
    "mrpc": ("\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String", "0\t1\t2\tA b.\tC d.", ("A b.", "C d.", 0)),
    "stsb": ("index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore",
             "0\tmain-captions\tMSRvid\t2012test\t0001\tnone\tnone\tA plane.\tAn air plane.\t5.000",
             ("A plane.", "An air plane.", 5.0)),
    "qqp": ("id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate", "7\t1\t2\tWhy?\tHow?\t0", ("Why?", "How?", 0)),
    "mnli": ("index\tpromptID\tpairID\tgenre\ts1b\ts2b\ts1p\ts2p\tsentence1\tsentence2\tlabel1\tgold_label",
             "0\t1\t2\tfiction\t(\t(\t(\t(\tIt rains.\tIt is wet.\tentailment\tentailment",
             ("It rains.", "It is wet.", 1)),
    "qnli": ("index\tquestion\tsentence\tlabel", "0\tWho?\tHim.\tnot_entailment", ("Who?", "Him.", 1)),
    "rte": ("index\tsentence1\tsentence2\tlabel", "0\tA.\tB.\tentailment", ("A.", "B.", 0)),
    "wnli": ("index\tsentence1\tsentence2\tlabel", "0\tA.\tB.\t1", ("A.", "B.", 1)),
}


@pytest.mark.parametrize("task", sorted(GLUE_TASKS))
def test_each_official_layout(task, tmp_path):
    header, row, (a, b, label) = OFFICIAL_ROWS[task]
    path = tmp_path / "train.tsv"
    path.write_text("\n".join(line for line in (header, row) if line is not None) + "\n", encoding="utf-8")
    examples = read_glue_tsv(task, path)
    assert (examples.text_a, examples.text_b, examples.labels) == ([a], None if b is None else [b], [label])


def test_real_files_have_the_documented_sizes(shared_data):
    sizes = {"sst2": (67349, 872), "cola": (8551, 527), "mrpc": (3668, 408)}
    for task, (train, dev) in sizes.items():
        directory = shared_data / "glue" / task
        assert len(read_glue_split(task, directory, "train")["train.tsv"]) == train
        assert len(read_glue_split(task, directory, "dev")["dev.tsv"]) == dev
    mrpc = read_glue_split("mrpc", shared_data / "glue/mrpc", "dev")["dev.tsv"]
    assert mrpc.text_b[0].startswith('"The foodservice pie business')


def test_bad_files_name_file_and_line(tmp_path):
    path = tmp_path / "train.tsv"
    path.write_text("sentence\tlabel\ngood\t1\nno label here\n")
    with pytest.raises(ValueError, match=r"train.tsv, line 3: 1 tab-separated columns, but sst2 files have 2"):
        read_glue_tsv("sst2", path)
    path.write_text("sentence\tlabel\ngood\t1\nbad\tpositive\n")
    with pytest.raises(ValueError, match=r"line 3: label 'positive' is not one of \['0', '1'\]"):
        read_glue_tsv("sst2", path)
    path.write_text("sentence\tlabel\n")
    with pytest.raises(ValueError, match="no examples; the file is empty"):
        read_glue_tsv("sst2", path)
    with pytest.raises(FileNotFoundError, match="expected the official GLUE dev_matched.tsv"):
        read_glue_split("mnli", tmp_path, "dev")
    with pytest.raises(ValueError, match="Unknown GLUE task 'sst-2'"):
        read_glue_tsv("sst-2", path)


def test_tfds_reader_with_mock_data():
    tfds = pytest.importorskip("tensorflow_datasets")
    from keras_bert.data import read_glue_tfds, tfds_splits

    with tfds.testing.mock_data(num_examples=7):
        mrpc = read_glue_tfds("mrpc", "train")
        mnli = {split: read_glue_tfds("mnli", split) for split in tfds_splits("mnli", "dev")}
        stsb = read_glue_tfds("stsb", "validation")
    assert len(mrpc) == 7 and len(mrpc.text_b) == 7 and mrpc.label_names == ("not_equivalent", "equivalent")
    assert set(mnli) == {"validation_matched", "validation_mismatched"}
    assert mnli["validation_matched"].label_names == ("entailment", "neutral", "contradiction")
    assert stsb.label_names == () and isinstance(stsb.labels[0], float)


def test_generic_csv_and_tsv(tmp_path):
    from keras_bert.data import read_labelled_csv

    train = tmp_path / "train.csv"
    train.write_text('review,other,stars\n"Great, really",x,pos\nBad,y,neg\n')
    examples = read_labelled_csv(train, "review", "stars")
    assert examples.text_a == ["Great, really", "Bad"] and examples.labels == [1, 0]
    dev = tmp_path / "dev.tsv"
    dev.write_text("review\tstars\nfine\tmeh\n")
    with pytest.raises(ValueError, match=r"dev.tsv, line 2: label 'meh' is not one of \['neg', 'pos'\]"):
        read_labelled_csv(dev, "review", "stars", label_names=examples.label_names)
    with pytest.raises(ValueError, match=r"no column\(s\) \['text'\]; its header has \['review', 'stars'\]"):
        read_labelled_csv(dev, "text", "stars")


def test_every_text_reader_names_the_file_and_line_of_a_byte_that_is_not_utf8(tmp_path):
    from keras_bert.data import read_conll, read_squad
    from keras_bert.data.csv_task import read_labelled_csv
    from keras_bert.data.multiple_choice import read_swag_csv

    cases = {
        "train.tsv": (b"sentence\tlabel\nfine\t1\ncaf\xe9\t0\n", lambda p: read_glue_tsv("sst2", p), 3),
        "reviews.csv": (b"review,stars\nok,1\n\xff bad,0\n", lambda p: read_labelled_csv(p, "review", "stars"), 3),
        "train.txt": (b"EU B-ORG\n\nZ\xfcrich B-LOC\n", read_conll, 3),
        "dev.json": (b'{"data": [\n{"title": "\xe9"}]}', read_squad, 2),
        "swag.csv": (b"sent1,sent2,ending0,ending1,ending2,ending3,label\n\x80,b,c,d,e,f,0\n", read_swag_csv, 2),
    }
    for name, (content, read, line) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ValueError, match=rf"{name}, line {line}: byte 0x[0-9a-f]{{2}} is not UTF-8; re-save"):
            read(str(path))

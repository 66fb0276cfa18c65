import logging
import pathlib

import pytest

from keras_bert.data import GLUE_TASKS, glue_files, read_glue_split, read_glue_tsv

FIXTURES = pathlib.Path(__file__).parent / "glue_fixtures"
CONTRADICTION, ENTAILMENT, NEUTRAL = 0, 1, 2  # MNLI's label ids (its labels sorted)

# What each fixture file (see glue_fixtures/README.md) parses into: (text_a, text_b, labels, ids).
EXPECTED = {
    "cola": {
        "train.tsv": (["Our friends won't buy this analysis, let alone the next one we propose.",
                       "They drank the pub.", 'Susan whispered "Shut up".'], None, [1, 0, 1], None),
        "dev.tsv": (["The sailors rode the breeze clear of the rocks.", "As you eat the most, you want the least."],
                    None, [1, 0], None),
        "test.tsv": (["Bill whistled past the house.", 'Mary said "leave" to John.'], None, None, ["0", "1"]),
    },
    "sst2": {
        "train.tsv": (["hide new secretions from the parental units ",
                       "that loves its characters and communicates something rather beautiful about human nature "],
                      None, [0, 1], None),
        "dev.tsv": (["it 's a charming and often affecting journey . ", "unflinchingly bleak and desperate "], None,
                    [1, 0], None),
        "test.tsv": (["uneasy mishmash of styles and genres .",
                      "`` the mothman prophecies '' is a difficult film to shake ."], None, None, ["0", "1"]),
    },
    "mrpc": {
        "train.tsv": (['Amrozi accused his brother, whom he called "the witness", of deliberately distorting his '
                       'evidence.',
                       "Yucaipa owned Dominick's before selling the chain to Safeway in 1998 for $2.5 billion."],
                      ['Referring to him as only "the witness", Amrozi accused his brother of deliberately distorting '
                       'his evidence.',
                       "Yucaipa bought Dominick's in 1995 for $693 million and sold it to Safeway for $1.8 billion in "
                       "1998."], [1, 0], None),
        "dev.tsv": (["He said the foodservice pie business doesn't fit the company's long-term growth strategy.",
                     '"Sanitation is poor... there could be typhoid and cholera," he said.'],
                    ['"The foodservice pie business does not fit our long-term growth strategy.',
                     '"Sanitation is poor, drinking water is generally left behind . . . there could be typhoid and '
                     'cholera."'], [1, 0], None),
        "test.tsv": (["PCCW 's chief operating officer , Mike Butcher , and Alex Arena , the chief financial officer , "
                      "will report directly to Mr So .",
                      "The world 's two largest automakers said their U.S. sales declined more than predicted last "
                      "month as a late summer sales frenzy caused more of an industry backlash than expected ."],
                     ["Current Chief Operating Officer Mike Butcher and Group Chief Financial Officer Alex Arena will "
                      "report to So .",
                      "Domestic sales at both GM and No. 2 Ford Motor Co. declined more than predicted as a late "
                      "summer sales frenzy prompted a larger-than-expected industry backlash ."], None, ["0", "1"]),
    },
    "stsb": {
        "train.tsv": (["A plane is taking off.", "A man is playing a large flute.",
                       '"We will not back down," says the mayor.'],
                      ["An air plane is taking off.", "A man is playing a flute.", "Mayor refuses to back down"],
                      [5.0, 3.8, 2.4], ["0", "1", "2"]),
        "dev.tsv": (["A man with a hard hat is dancing.", "A woman is slicing an onion."],
                    ["A man wearing a hard hat is dancing.", "A man is playing the guitar."], [5.0, 0.0], ["0", "1"]),
        "test.tsv": (["A girl is styling her hair.", '"Syria talks" to resume'],
                     ["A girl is brushing her hair.", "Syria peace talks to resume in Geneva"], None, ["0", "1"]),
    },
    "qqp": {
        "train.tsv": (["How is the life of a math student? Could you describe your own experiences?",
                       "How do I control my horny emotions?"],
                      ["Which level of prepration is enough for the exam jlpt5?", "How do you control your horniness?"],
                      [0, 1], ["133273", "402555"]),
        "dev.tsv": (["Why are African-Americans so beautiful?", 'What does "namaste" mean?'],
                    ["Why are hispanics so beautiful?", "What is the meaning of namaste?"], [0, 1],
                    ["201359", "263843"]),
        "test.tsv": (["Why am I mentally very lonely? How can I solve it?",
                      "Which one dissolve in water quikly sugar, salt, methane and carbon di oxide?"],
                     ["Find the remainder when [math]23^{24}[/math] is divided by 24,23?",
                      "Which fish would survive in salt water?"], None, ["0", "1"]),
    },
    "mnli": {
        "train.tsv": (["Conceptually cream skimming has two basic dimensions - product and geography.",
                       "you know during the season and i guess at at your level uh you lose them.",
                       "One of our number will carry out your instructions minutely."],
                      ["Product and geography are what make cream skimming work. ",
                       'You lose the things to the "following" level if the people recall.',
                       "A member of my team will execute your orders with immense precision."],
                      [NEUTRAL, ENTAILMENT, ENTAILMENT], ["0", "1", "2"]),
        "dev_matched.tsv": (["The new rights are nice enough.", "This site includes a list of all award winners."],
                            ["Everyone really likes the newest benefits.",
                             "The Government Executive articles housed on the website are not able to be searched."],
                            [NEUTRAL, CONTRADICTION], ["0", "1"]),
        "dev_mismatched.tsv": (["Your contribution helped make it possible for us to provide our students."],
                               ["Your contributions were of no help with our students' education."], [CONTRADICTION],
                               ["0"]),
        "test_matched.tsv": (["Hierbas, ans seco, ans dulce, and frigola are just a few names worth keeping a "
                              "look-out for.", 'The extent of the behavioral effects would depend on "the" timing.'],
                             ["Hierbas is a name worth looking out for.", "The timing does not matter."], None,
                             ["0", "1"]),
        "test_mismatched.tsv": (["What have you decided, what are you going to do?"], ["So what's your decision?"],
                                None, ["0"]),
        "AX.tsv": (["The cat sat on the mat.", "The cat did not sit on the mat."],
                   ["The cat did not sit on the mat.", "The cat sat on the mat."], None, ["0", "1"]),
    },
    "qnli": {
        "train.tsv": (["When did the third Digimon series begin?",
                       "Which missile batteries often have individual launchers several kilometres from one another?",
                       'What is the name of the "Mercury" flight?'],
                      ["Unlike the two seasons before it and most of the seasons that followed, Digimon Tamers takes a "
                       "darker and more realistic approach to its story.",
                       "When MANPADS is operated by specialists, batteries may have several dozen teams deploying "
                       "separately in small sections; self-propelled air defence guns may deploy in pairs.",
                       'The flight was named "Friendship 7".'], [1, 1, 0], ["0", "1", "2"]),
        "dev.tsv": (["What came into force after the new constitution was herald?"],
                    ["As of that day, the new constitution heralding the Second Republic came into force."], [0],
                    ["0"]),
        "test.tsv": (["What organization is devoted to Jihad against Israel?"],
                     ['For some decades prior to the First Palestine Intifada in 1987, the Muslim Brotherhood in '
                      'Palestine took a "quiescent" stance towards Israel.'], None, ["0"]),
    },
    "rte": {
        "train.tsv": (["No Weapons of Mass Destruction Found in Iraq Yet.",
                       "A place of sorrow, after Pope John Paul II died, became a place of celebration."],
                      ["Weapons of Mass Destruction Found in Iraq.",
                       "Pope Benedict XVI is the new leader of the Roman Catholic Church."], [1, 0], ["0", "1"]),
        "dev.tsv": (['Dana Reeve, the widow of the actor Christopher Reeve, has died of lung cancer at age 44, '
                     'according to the "Christopher Reeve Foundation".'], ["Christopher Reeve had an accident."], [1],
                    ["0"]),
        "test.tsv": (["Mangla was summoned after Madhumita's sister Nidhi Shukla, who was the first witness in the "
                      "case."], ["Shukla is related to Mangla."], None, ["0"]),
    },
    "wnli": {
        "train.tsv": (["I stuck a pin through a carrot. When I pulled the pin out, it had a hole.",
                       "John couldn't see the stage with Billy in front of him because he is so short.",
                       'Steve follows Fred\'s example in everything. He "influences" him hugely.'],
                      ["The carrot had a hole.", "John is so short.", "Steve influences him hugely."], [1, 1, 0],
                      ["0", "1", "2"]),
        "dev.tsv": (["The drain is clogged with hair. It has to be cleaned."], ["The hair has to be cleaned."], [0],
                    ["0"]),
        "test.tsv": (["Maude and Dora had seen the trains rushing across the prairie, with long, rolling puffs of "
                      "black smoke streaming back from the engine."],
                     ["Horses ran away when Maude and Dora came into sight."], None, ["0"]),
    },
}


def test_the_fixtures_cover_every_official_file():
    assert set(EXPECTED) == set(GLUE_TASKS)
    for task, files in EXPECTED.items():
        official = {name for split in ("train", "dev", "test") for name in glue_files(task, split)}
        assert set(files) == official | ({"AX.tsv"} if task == "mnli" else set())
        assert {path.name for path in (FIXTURES / task).iterdir()} == set(files)


@pytest.mark.parametrize("task", sorted(GLUE_TASKS))
@pytest.mark.parametrize("split", ["train", "dev", "test"])
def test_each_official_file_parses_exactly(task, split):
    splits = read_glue_split(task, FIXTURES / task, split)
    expected_names = [n for n in EXPECTED[task] if n in glue_files(task, split) or (split == "test" and n == "AX.tsv")]
    assert list(splits) == expected_names
    for name, examples in splits.items():
        got = (examples.text_a, examples.text_b, examples.labels, examples.ids)
        assert got == EXPECTED[task][name], f"{task}/{name}"
        assert examples.label_names == GLUE_TASKS[task].labels and examples.skipped_lines == ()
        assert examples.source == str(FIXTURES / task / name)
        if examples.labels is not None and not examples.label_names:
            assert all(isinstance(score, float) for score in examples.labels)


def test_the_fixture_quirks_are_there():
    """The byte-order mark, the unbalanced quotes: what a default CSV reader gets wrong."""
    import csv

    assert (FIXTURES / "mrpc/train.tsv").read_bytes().startswith(b"\xef\xbb\xbfQuality\t")
    assert not (FIXTURES / "mrpc/test.tsv").read_bytes().startswith(b"\xef\xbb\xbf")  # written afresh
    with open(FIXTURES / "mrpc/dev.tsv", encoding="utf-8-sig", newline="") as f:
        quoted = list(csv.reader(f, delimiter="\t"))  # QUOTE_MINIMAL: the open quote swallows the next row
    assert len(quoted) == 2 and len(read_glue_tsv("mrpc", FIXTURES / "mrpc/dev.tsv")) == 2
    assert (FIXTURES / "cola/train.tsv").read_text().split("\n")[0] == (
        "gj04\t1\t\tOur friends won't buy this analysis, let alone the next one we propose.")


def test_a_test_file_read_as_labelled_names_the_layout(tmp_path):
    with pytest.raises(ValueError, match=r"test.tsv, line 1: 2 tab-separated columns, but cola train/dev files "
                                         r"have 4"):
        read_glue_tsv("cola", FIXTURES / "cola/test.tsv")
    with pytest.raises(ValueError, match=r"train.tsv, line 2: 6 tab-separated columns, but qqp test files have 3"):
        read_glue_tsv("qqp", FIXTURES / "qqp/train.tsv", labelled=False)
    with pytest.raises(ValueError, match="the diagnostic set \\(ax\\) has no labels"):
        read_glue_tsv("ax", FIXTURES / "mnli/AX.tsv")
    with pytest.raises(ValueError, match="Unknown split 'validation'"):
        read_glue_split("rte", FIXTURES / "rte", "validation")


def test_mnli_test_without_the_diagnostic_set(tmp_path):
    for name in ("test_matched.tsv", "test_mismatched.tsv"):
        (tmp_path / name).write_bytes((FIXTURES / "mnli" / name).read_bytes())
    assert list(read_glue_split("mnli", tmp_path, "test")) == ["test_matched.tsv", "test_mismatched.tsv"]


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
    with pytest.raises(ValueError, match=r"train.tsv, line 3: 1 tab-separated columns, but sst2 train/dev files have "
                                         r"2 .*; fix the row, or pass skip_bad_rows=True to skip such rows\."):
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
    # MNLI: 12 columns (train) or 16 (dev), its label the last.
    row = (FIXTURES / "mnli/train.tsv").read_text().splitlines()
    path.write_text("\n".join([row[0], row[1], row[2].rsplit("\t", 1)[0]]) + "\n")
    with pytest.raises(ValueError, match=r"line 3: 11 tab-separated columns, but mnli train/dev files have 12 or 16"):
        read_glue_tsv("mnli", path)


# QQP's train.tsv as first released: a question with a line break splits its row in two (the
# known bad rows that HF's QqpProcessor skips), plus an unknown label and an STS-B-style bad score.
_QQP_BAD = (
    "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"
    "1\t3\t4\tWhy?\tHow?\t0\n"
    "2\t5\t6\tIs Muhammad real?\t\n"  # line 3: the row broken by a line break...
    '"\tWas Muhammad a real historical figure? What is the evidence for his existence?\t0\n'  # line 4: ...its rest
    "3\t7\t8\tWhat?\tWhich?\t1\n"
    "4\t9\t10\tWho?\tWhom?\tyes\n"  # line 6: unknown label
)


def test_skip_bad_rows_counts_and_logs_them(tmp_path, caplog):
    path = tmp_path / "train.tsv"
    path.write_text(_QQP_BAD)
    with pytest.raises(ValueError, match=r"train.tsv, line 3: 5 tab-separated columns, but qqp train/dev files have 6"):
        read_glue_tsv("qqp", path)
    with caplog.at_level(logging.WARNING):
        examples = read_glue_tsv("qqp", path, skip_bad_rows=True)
    assert (examples.text_a, examples.labels, examples.ids) == (["Why?", "What?"], [0, 1], ["1", "3"])
    assert examples.skipped_lines == (3, 4, 6)
    warning = f"{path}: skipped 3 bad row(s) of 5, at lines 3, 4, 6; the first, line 3: 5 tab-separated columns"
    assert warning in caplog.text
    # Through read_glue_split too, and a score that is not a number (STS-B).
    rows = (FIXTURES / "stsb/train.tsv").read_text().splitlines()
    (tmp_path / "train.tsv").write_text("\n".join(rows[:2] + [rows[2].rsplit("\t", 1)[0] + "\tn/a", rows[3]]) + "\n")
    with pytest.raises(ValueError, match=r"train.tsv, line 3: score 'n/a' is not a number"):
        read_glue_split("stsb", tmp_path, "train")
    train = read_glue_split("stsb", tmp_path, "train", skip_bad_rows=True)["train.tsv"]
    assert train.labels == [5.0, 2.4] and train.ids == ["0", "2"] and train.skipped_lines == (3,)
    (tmp_path / "train.tsv").write_text(rows[0] + "\n" + rows[1].replace("\t5.000", "\tnan") + "\n")
    with pytest.raises(ValueError, match=r"no examples; all 1 rows are bad \(the first at line 2: score 'nan'"):
        read_glue_tsv("stsb", tmp_path / "train.tsv", skip_bad_rows=True)


def test_skip_bad_rows_in_a_test_file(tmp_path, caplog):
    path = tmp_path / "test.tsv"
    path.write_text("index\tsentence\n0\tfine\n1\ttoo\tmany\n2\tok\n")
    with pytest.raises(ValueError, match=r"test.tsv, line 3: 3 tab-separated columns, but sst2 test files have 2"):
        read_glue_tsv("sst2", path, labelled=False)
    with caplog.at_level(logging.WARNING):
        examples = read_glue_tsv("sst2", path, labelled=False, skip_bad_rows=True)
    assert examples.ids == ["0", "2"] and examples.labels is None and "skipped 1 bad row(s) of 3" in caplog.text


def test_leaderboard_files():
    from keras_bert.data import GLUE_LEADERBOARD_NAMES, leaderboard_file_name

    names = {leaderboard_file_name(task, name) for task in GLUE_TASKS for name in EXPECTED[task]
             if name.startswith("test") or name == "AX.tsv"}
    assert names == {"CoLA.tsv", "SST-2.tsv", "MRPC.tsv", "STS-B.tsv", "QQP.tsv", "MNLI-m.tsv", "MNLI-mm.tsv",
                     "QNLI.tsv", "RTE.tsv", "WNLI.tsv", "AX.tsv"}
    assert set(GLUE_LEADERBOARD_NAMES) == set(GLUE_TASKS)
    assert leaderboard_file_name("mnli", "test_matched") == "MNLI-m.tsv"  # a tensorflow-datasets split
    with pytest.raises(ValueError, match=r"'dev.tsv' is not a GLUE test set of rte; expected one of \['test.tsv'\]"):
        leaderboard_file_name("rte", "dev.tsv")
    with pytest.raises(ValueError, match="expected one of \\['test_matched.tsv', 'test_mismatched.tsv', 'AX.tsv'\\]"):
        leaderboard_file_name("mnli", "test.tsv")


def test_predictions_in_leaderboard_format(tmp_path):
    from keras_bert.data import write_predictions_tsv

    test = read_glue_split("mnli", FIXTURES / "mnli", "test")["test_matched.tsv"]
    path = write_predictions_tsv(tmp_path / "MNLI-m.tsv", test.ids, [ENTAILMENT, NEUTRAL], test.label_names, "mnli")
    assert path.read_text() == "index\tprediction\n0\tentailment\n1\tneutral\n"
    # tensorflow-datasets' label names become the files' 0/1; STS-B scores are clipped to [0, 5].
    write_predictions_tsv(tmp_path / "SST-2.tsv", ["0", "1"], [1, 0], ("negative", "positive"), "sst2")
    assert (tmp_path / "SST-2.tsv").read_text() == "index\tprediction\n0\t1\n1\t0\n"
    write_predictions_tsv(tmp_path / "STS-B.tsv", ["0", "1", "2"], [5.25, -0.5, 3.125], (), "stsb")
    assert (tmp_path / "STS-B.tsv").read_text() == "index\tprediction\n0\t5.000000\n1\t0.000000\n2\t3.125000\n"
    with pytest.raises(ValueError, match="2 ids but 1 predictions"):
        write_predictions_tsv(tmp_path / "x.tsv", ["0", "1"], [1], ("0", "1"), "cola")
    with pytest.raises(ValueError, match=r"label names \('neg', 'pos'\) are not rte's"):
        write_predictions_tsv(tmp_path / "x.tsv", ["0"], [1], ("neg", "pos"), "rte")


def test_tfds_reader_with_mock_data():
    tfds = pytest.importorskip("tensorflow_datasets")
    from keras_bert.data import read_glue_tfds, tfds_splits

    with tfds.testing.mock_data(num_examples=7):
        mrpc = read_glue_tfds("mrpc", "train")
        mnli = {split: read_glue_tfds("mnli", split) for split in tfds_splits("mnli", "dev")}
        stsb = read_glue_tfds("stsb", "validation")
        tests = {split: read_glue_tfds("mnli", split) for split in tfds_splits("mnli", "test")}
    assert len(mrpc) == 7 and len(mrpc.text_b) == 7 and mrpc.label_names == ("not_equivalent", "equivalent")
    assert set(mnli) == {"validation_matched", "validation_mismatched"}
    assert mnli["validation_matched"].label_names == ("entailment", "neutral", "contradiction")
    assert stsb.label_names == () and isinstance(stsb.labels[0], float)
    assert set(tests) == {"test_matched", "test_mismatched"}
    assert all(t.labels is None and len(t.ids) == 7 for t in tests.values())


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
    # A test file: no label column needed; ids from a column, or each row's position.
    test = tmp_path / "test.csv"
    test.write_text('key,review\nk1,"Fine, fine"\nk2,Dull\n')
    unlabelled = read_labelled_csv(test, "review", None, label_names=examples.label_names)
    assert (unlabelled.text_a, unlabelled.labels, unlabelled.ids) == (["Fine, fine", "Dull"], None, ["0", "1"])
    assert read_labelled_csv(test, "review", None, id_column="key").ids == ["k1", "k2"]


def test_csv_skip_bad_rows(tmp_path, caplog):
    from keras_bert.data import read_labelled_csv

    path = tmp_path / "dev.csv"
    path.write_text('review,stars\nGreat,pos\nshort\n"multi\nline",neg\nBad,neg\nextra,pos,x\nMeh,meh\n')
    with pytest.raises(ValueError, match=r"dev.csv, line 3: no value in column\(s\) \['stars'\]; the row is shorter "
                                         r"than the header; fix the row, or pass skip_bad_rows=True"):
        read_labelled_csv(path, "review", "stars")
    with caplog.at_level(logging.WARNING):
        examples = read_labelled_csv(path, "review", "stars", label_names=("neg", "pos"), skip_bad_rows=True)
    assert examples.text_a == ["Great", "multi\nline", "Bad"] and examples.labels == [1, 0, 0]
    assert examples.ids == ["0", "2", "3"]  # positions among the file's rows: skipped rows keep theirs
    assert examples.skipped_lines == (3, 7, 8)  # a quoted line break: line 4's row ends on line 5
    assert f"{path}: skipped 3 bad row(s) of 6, at lines 3, 7, 8; the first, line 3: no value" in caplog.text
    path.write_text("review,stars\nGreat,pos\nfine, really,pos\n")
    with pytest.raises(ValueError, match=r"dev.csv, line 3: 3 values, but the header has 2 \(an unquoted comma"):
        read_labelled_csv(path, "review", "stars")


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

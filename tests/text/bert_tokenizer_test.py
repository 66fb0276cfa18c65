import pytest
import tensorflow as tf

from keras_bert.text import BertTokenizer, load_vocab
from real_data import hf_tokenizer, read_sst2, read_wiki_paragraphs


def _assert_same_ids(tokenizer, reference, texts):
    ours = tokenizer(tf.constant(texts)).to_list()
    theirs = [encoding.ids[1:-1] for encoding in reference.encode_batch(texts)]  # drop [CLS] [SEP]
    different = [i for i in range(len(texts)) if ours[i] != theirs[i]]
    assert not different, f"{len(different)} of {len(texts)} differ, first: {texts[different[0]]!r}"


def test_ids_equal_hf_tokenizers_on_all_sst2_train(shared_data, minilm_path):
    tokenizer = BertTokenizer(f"{minilm_path}/vocab.txt")
    _assert_same_ids(tokenizer, hf_tokenizer(minilm_path), read_sst2(shared_data, "train"))


def test_ids_equal_hf_tokenizers_on_10k_wikipedia_paragraphs(shared_data, minilm_path):
    # Wikipedia has "…", "½", accents and non-Latin scripts, where NFKC case
    # folding (tensorflow-text's own lower-casing) would differ.
    paragraphs = read_wiki_paragraphs(shared_data, 10_000)
    assert len(paragraphs) == 10_000
    _assert_same_ids(BertTokenizer(f"{minilm_path}/vocab.txt"), hf_tokenizer(minilm_path), paragraphs)


def test_runs_in_tf_data_and_detokenizes(minilm_path):
    tokenizer = BertTokenizer(f"{minilm_path}/vocab.txt")
    dataset = tf.data.Dataset.from_tensor_slices(["Hello, Wörld!", "unaffable"]).batch(2).map(tokenizer)
    ids = next(iter(dataset))
    vocab = load_vocab(f"{minilm_path}/vocab.txt")
    assert [vocab[i] for i in ids[0].numpy()] == ["hello", ",", "world", "!"]
    assert tokenizer.detokenize(ids).numpy().tolist() == [b"hello , world !", b"unaffable"]


def test_missing_and_bad_vocab_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist; pass the vocab.txt"):
        BertTokenizer(str(tmp_path / "vocab.txt"))
    bad = tmp_path / "latin1.txt"
    bad.write_bytes(b"[PAD]\n[UNK]\ncaf\xe9\n")
    with pytest.raises(ValueError, match=r"line 3: byte 0x[0-9a-f]{2} is not UTF-8"):
        BertTokenizer(str(bad))
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(ValueError, match="is empty"):
        BertTokenizer(str(empty))
    no_unk = tmp_path / "no_unk.txt"
    no_unk.write_text("[PAD]\n[CLS]\n[SEP]\n[MASK]\nhello\n")
    with pytest.raises(
        ValueError,
        match=r"no_unk.txt' lacks the special token\(s\) \['\[UNK\]'\], which WordPiece tokenization needs; add them",
    ):
        BertTokenizer(str(no_unk))


# Each case: what the original BERT rules do, checked against HF `tokenizers`.
EDGE_CASES = [
    "ΟΔΟΣ ΣΑΣ",  # capital sigma lower-cases to σ everywhere, also word-final
    "Straße ﬁne …",  # no compatibility folding: ß, ﬁ and … stay as they are
    "Crème brûlée, İstanbul, Ǆemal",  # accents stripped, İ -> i
    "a\ufffdb x\x00y\x07z",  # U+FFFD and control characters vanish
    "zero\u200bwidth\u200djoiner\ufeff",  # format characters (Cf) vanish
    "private\ue000use z\U0010fffdq",  # private-use characters vanish
    "ab\u0378cd x\U000e0001y a\u00adb x\u0600y \u2028line",  # unassigned, tags, soft hyphen...
    "tab\tnew\nline\rreturn\u00a0nbsp\u3000ideographic",  # all whitespace
    "中文字符测试，日本語のテキスト、한국어",  # CJK ideographs split, kana/hangul do not
    "a" * 100 + " " + "b" * 101,  # 100 characters is a word, 101 is [UNK]
    "ж" * 60 + " " + "ж" * 101,  # 120 bytes but 60 characters is still a word
    "$100+ <tag> a^b `c` |d| ~e @f #g",  # ASCII symbols are punctuation
    "",
    "   \t\n  ",
]


@pytest.mark.parametrize("text", EDGE_CASES)
def test_edge_cases_equal_hf_tokenizers(minilm_path, text):
    _assert_same_ids(BertTokenizer(f"{minilm_path}/vocab.txt"), hf_tokenizer(minilm_path), [text])


def _hf_from_vocab(vocab_file, lower_case):
    tokenizers = pytest.importorskip("tokenizers")
    return tokenizers.BertWordPieceTokenizer(str(vocab_file), lowercase=lower_case)


def test_chinese_vocabulary(shared_data):
    vocab = shared_data / "vocab/bert-base-chinese-vocab.txt"
    texts = [
        "今天天气很好，我们去公园散步吧。",
        "北京是中华人民共和国的首都，人口超过两千万。",
        "他说：「机器学习（Machine Learning）很有趣！」",
        "２０２４年，ＢＥＲＴ模型在自然语言处理中仍然很重要。",
        "第一行\u2028第二行 line\u2028break\u2029para",  # U+2028 and ##U+2028 are tokens, but whitespace
    ]
    # Real Wikipedia lines that mix English with CJK names.
    texts += [line for line in read_wiki_paragraphs(shared_data, 20_000) if any("\u4e00" <= c <= "\u9fff" for c in line)]
    assert len(texts) > 8
    for lower_case in (True, False):
        _assert_same_ids(BertTokenizer(str(vocab), lower_case=lower_case), _hf_from_vocab(vocab, lower_case), texts)


def test_cased_keeps_case_and_accents(shared_data, minilm_path):
    vocab = f"{minilm_path}/vocab.txt"
    texts = read_wiki_paragraphs(shared_data, 2_000) + EDGE_CASES
    _assert_same_ids(BertTokenizer(vocab, lower_case=False), _hf_from_vocab(vocab, False), texts)


def test_offsets_equal_hf_character_offsets(shared_data, minilm_path):
    texts = read_sst2(shared_data, "dev") + read_wiki_paragraphs(shared_data, 2_000) + EDGE_CASES
    ids, starts, ends = BertTokenizer(f"{minilm_path}/vocab.txt").tokenize_with_offsets(tf.constant(texts))
    reference = hf_tokenizer(minilm_path).encode_batch(texts)
    for i, (text, encoding) in enumerate(zip(texts, reference)):
        assert ids[i].numpy().tolist() == encoding.ids[1:-1], text
        expected = encoding.offsets[1:-1]
        got = list(zip(starts[i].numpy().tolist(), ends[i].numpy().tolist()))
        assert got == [tuple(o) for o in expected], text


def test_invalid_utf8_and_huge_strings_have_defined_results(minilm_path):
    tokenizer = BertTokenizer(f"{minilm_path}/vocab.txt")
    # Invalid bytes become U+FFFD, which the original rules drop.
    ids = tokenizer(tf.constant([b"caf\xc3 ok \xff\xfe", b"ok"])).to_list()
    assert ids[0] == tokenizer(tf.constant(["caf ok"])).to_list()[0]
    huge = "word " * 20_000 + "x" * 100_000
    pieces = tokenizer(tf.constant([huge])).to_list()[0]
    assert len(pieces) == 20_001 and pieces[-1] == tokenizer.token_to_id("[UNK]")


def test_vocab_lines_end_only_at_newlines_and_duplicates_are_named(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("[PAD]\r\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n\u2028\n##\u2028\n", encoding="utf-8")
    assert load_vocab(path)[-2:] == ["\u2028", "##\u2028"]
    path.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nword\nword\n", encoding="utf-8")
    with pytest.raises(ValueError, match="repeats 'word' on lines 6 and 7"):
        load_vocab(path)


# google-research/bert's tokenization_test.py, case by case, on its inline
# vocabularies (whose only special token in use is [UNK]).
GOOGLE_VOCAB = ["[UNK]", "[CLS]", "[SEP]", "want", "##want", "##ed", "wa", "un", "runn", "##ing"]


def _tokenizer(tmp_path, tokens, lower_case=True):
    path = tmp_path / "vocab.txt"
    path.write_text("".join(token + "\n" for token in tokens), encoding="utf-8")
    return BertTokenizer(str(path), lower_case=lower_case)


def _pieces(tokenizer, text):
    return [tokenizer.vocab[i] for i in tokenizer(tf.constant([text])).to_list()[0]]


def test_google_full_tokenizer(tmp_path):
    tokenizer = _tokenizer(tmp_path, GOOGLE_VOCAB + [","])
    assert _pieces(tokenizer, "UNwant\u00E9d,running") == ["un", "##want", "##ed", ",", "runn", "##ing"]
    assert tokenizer(tf.constant(["UNwant\u00E9d,running"])).to_list() == [[7, 4, 5, 10, 8, 9]]


def test_google_wordpiece_tokenizer_and_convert_tokens_to_ids(tmp_path):
    tokenizer = _tokenizer(tmp_path, GOOGLE_VOCAB, lower_case=False)
    assert _pieces(tokenizer, "") == []
    assert _pieces(tokenizer, "unwanted running") == ["un", "##want", "##ed", "runn", "##ing"]
    assert tokenizer(tf.constant(["unwanted running"])).to_list() == [[7, 4, 5, 8, 9]]
    assert _pieces(tokenizer, "unwantedX running") == ["[UNK]", "runn", "##ing"]


def test_google_basic_tokenizer(tmp_path):
    # Chinese characters are words of their own.
    chinese = _tokenizer(tmp_path, ["[UNK]", "ah", "\u535A", "\u63A8", "zz"])
    assert _pieces(chinese, "ah\u535A\u63A8zz") == ["ah", "\u535A", "\u63A8", "zz"]
    text = " \tHeLLo!how  \n Are yoU?  "
    lower = _tokenizer(tmp_path, ["[UNK]", "hello", "!", "how", "are", "you", "?"])
    assert _pieces(lower, text) == ["hello", "!", "how", "are", "you", "?"]
    assert _pieces(lower, "H\u00E9llo") == ["hello"]
    cased = _tokenizer(tmp_path, ["[UNK]", "HeLLo", "!", "how", "Are", "yoU", "?"], lower_case=False)
    assert _pieces(cased, text) == ["HeLLo", "!", "how", "Are", "yoU", "?"]


def test_google_character_classes(tmp_path):
    # The original's _is_whitespace, _is_control and _is_punctuation cases,
    # seen through what each class does to the word "a?b".
    tokenizer = _tokenizer(tmp_path, ["[UNK]", "a", "b", "ab", "aAb", "-", "$", "`", "."], lower_case=False)
    for whitespace in [" ", "\t", "\r", "\n", "\u00A0"]:
        assert _pieces(tokenizer, f"a{whitespace}b") == ["a", "b"], repr(whitespace)
    assert _pieces(tokenizer, "a\u0005b") == ["ab"]  # control characters vanish
    for punctuation in "-$`.":
        assert _pieces(tokenizer, f"a{punctuation}b") == ["a", punctuation, "b"]
    assert _pieces(tokenizer, "aAb") == ["aAb"]  # "A" is none of the three


def test_unk_is_the_only_special_token_needed_and_others_are_named_on_lookup(tmp_path):
    tokenizer = _tokenizer(tmp_path, ["[UNK]", "running"])
    assert tokenizer(tf.constant(["unwanted running", ""])).to_list() == [[0, 1], []]
    _, starts, ends = tokenizer.tokenize_with_offsets(tf.constant(["unwanted running"]))
    assert (starts.to_list(), ends.to_list()) == ([[0, 9]], [[8, 16]])
    assert tokenizer.token_to_id("[UNK]") == 0
    with pytest.raises(ValueError, match=r"vocab.txt' lacks the special token\(s\) \['\[CLS\]'\]; add them"):
        tokenizer.token_to_id("[CLS]")



@pytest.mark.parametrize("tokens", [["[UNK]"], ["[UNK]", "[CLS]", "[SEP]", "##"]])
def test_vocabulary_without_word_pieces_is_a_clear_error(tmp_path, tokens):
    # tensorflow-text's WordPiece cannot be built without a piece it could match.
    with pytest.raises(ValueError, match="cannot make a WordPiece tokenizer .*; add at least one word piece"):
        _tokenizer(tmp_path, tokens)

"""`BertTokenizer(ops="tf_serving")` (the ops stock TF Serving links) gives the default tokenizer's ids and offsets."""

import pytest
import tensorflow as tf

from keras_bert.data import read_conll
from keras_bert.text import BertPreprocessor, BertTokenizer
from real_data import hf_tokenizer, read_mrpc_pairs, read_sst2, read_wiki_paragraphs

# Each case stresses one rule of the original's cleaning, splitting or matching.
EDGE_CASES = [
    "Crème brûlée, İstanbul, Ǆemal, ΟΔΟΣ ΣΑΣ, Straße ﬁne …",  # accents, sigma, no compatibility folding
    "中文字符测试，日本語のテキスト、한국어 𠀀𪜀",  # CJK ideographs (also beyond the BMP) split, kana/hangul do not
    "a\x00b c\x07d\x1be\x7ff \u200bzero\u200d\ufeff x\ue000y \u00adsoft",  # control, format, private use
    "tab\tnew\nline\rret\u00a0nbsp\u3000ideo\u2028ls\u2029ps\u2003em\u202fnarrow",  # every kind of whitespace
    "emoji 😀👍🏽 👨‍👩‍👧 flags 🇩🇪 ❤️ ✓",  # symbols (So) are neither punctuation nor split
    "$100+ <tag> a^b `c` |d| ~e @f #g ¿qué? «guillemets» ‘quotes’ — dash",  # ASCII symbols and punctuation
    "a\u2e5db a\u1b4eb a\U0001e5ffb",  # punctuation new in Unicode 14 and 16 (not yet in HF's tables)
    "a" * 100 + " " + "b" * 101 + " " + "ж" * 60 + " " + "ж" * 101,  # the 100-character word limit
    "unaffable unaffablé UNAFFABLE running ##ing [CLS] [UNK]",  # pieces, and tokens that are text here
    "",
    "   \t\n  ",
]
BAD_BYTES = [b"caf\xc3 ok \xff\xfe", b"\xed\xa0\x80 surrogate", b"\xf4\x90\x80\x80 beyond U+10FFFF"]


@pytest.fixture(scope="module")
def vocab(minilm_path):
    return f"{minilm_path}/vocab.txt"


@pytest.fixture(scope="module", params=[True, False], ids=["uncased", "cased"])
def tokenizers(request, vocab):
    """The default tokenizer and the TF Serving one, lower-casing or not."""
    return (BertTokenizer(vocab, lower_case=request.param),
            BertTokenizer(vocab, lower_case=request.param, ops="tf_serving"))


def _assert_same_pieces(tokenizers, texts):
    fast, serving = tokenizers
    texts = tf.constant(texts)
    expected = [x.to_list() for x in fast.tokenize_with_offsets(texts)]
    got = [x.to_list() for x in serving.tokenize_with_offsets(texts)]
    different = [i for i in range(len(expected[0])) if [x[i] for x in expected] != [x[i] for x in got]]
    assert not different, f"{len(different)} of {len(expected[0])} differ, first: {texts[different[0]].numpy()!r}"
    assert serving(texts).to_list() == expected[0]


def test_real_text_gives_the_same_ids_and_offsets(tokenizers, shared_data):
    conll = read_conll(shared_data / "conll2003/valid.txt")
    texts = read_sst2(shared_data, "dev") + read_wiki_paragraphs(shared_data, 3_000)
    texts += [" ".join(words) for words in conll.words] + sorted({w for words in conll.words for w in words})
    assert len(texts) > 3_000 + 872 + 3_250
    _assert_same_pieces(tokenizers, texts)


def test_edge_cases_give_the_same_ids_and_offsets(tokenizers):
    huge = "word " * 20_000 + "x" * 100_000
    _assert_same_pieces(tokenizers, [t.encode() for t in EDGE_CASES] + BAD_BYTES + [huge.encode()])


def test_every_code_point_splits_and_matches_as_the_fast_kernel(vocab):
    # "a", the character, "b": whitespace, punctuation, a dropped character or
    # a letter each give different pieces, so any class that differs shows.
    # (ICU's and RE2's Unicode tables differ in version: new punctuation must
    # be added to tokenizer_ops._UNICODE_16_PUNCTUATION.)
    fast, serving = BertTokenizer(vocab), BertTokenizer(vocab, ops="tf_serving")
    code_points = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    texts = tf.constant([f"a{chr(c)}b".encode() for c in code_points])
    expected, got = fast(texts), serving(texts)
    same_length = tf.equal(expected.row_lengths(), got.row_lengths())
    same = same_length & tf.reduce_all(tf.equal(expected.to_tensor(-1, shape=[None, 3]),
                                                got.to_tensor(-1, shape=[None, 3])), axis=1)
    differ = [hex(code_points[i]) for i in tf.where(~same)[:, 0].numpy()]
    assert not differ, f"{len(differ)} code points tokenize differently: {differ[:20]}"


def test_chinese_vocabulary_cased_and_uncased(shared_data):
    vocab = shared_data / "vocab/bert-base-chinese-vocab.txt"
    texts = ["他说：「机器学习（Machine Learning）很有趣！」", "２０２４年，ＢＥＲＴ模型在自然语言处理中仍然很重要。"]
    texts += [line for line in read_wiki_paragraphs(shared_data, 20_000)
              if any("\u4e00" <= c <= "\u9fff" for c in line)]
    for lower_case in (True, False):
        tokenizers = (BertTokenizer(str(vocab), lower_case=lower_case),
                      BertTokenizer(str(vocab), lower_case=lower_case, ops="tf_serving"))
        _assert_same_pieces(tokenizers, texts + EDGE_CASES)


def test_hf_tokenizers_agree(vocab, minilm_path, shared_data):
    # The reference the default tokenizer is tested against (bert_tokenizer_test.py).
    # HF's tables lack the new punctuation, and it reads "[CLS]" in text as the special token.
    edge_cases = [text for text in EDGE_CASES if "\u2e5d" not in text and "[CLS]" not in text]
    texts = read_sst2(shared_data, "dev") + read_wiki_paragraphs(shared_data, 1_000) + edge_cases
    ours = BertTokenizer(vocab, ops="tf_serving")(tf.constant(texts)).to_list()
    theirs = [encoding.ids[1:-1] for encoding in hf_tokenizer(minilm_path).encode_batch(texts)]
    assert [i for i in range(len(texts)) if ours[i] != theirs[i]] == []


def test_short_word_limit_and_google_vocabulary(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("\n".join(["[UNK]", "[CLS]", "[SEP]", "want", "##want", "##ed", "wa", "un", "runn", "##ing", ","]))
    texts = ["UNwant\u00E9d,running", "unwantedX running", "wantwantwant wantwant", "a,b"]
    for max_chars in (3, 6, 100):
        tokenizers = (BertTokenizer(str(path), max_chars_per_word=max_chars),
                      BertTokenizer(str(path), max_chars_per_word=max_chars, ops="tf_serving"))
        _assert_same_pieces(tokenizers, texts)
    serving = BertTokenizer(str(path), max_chars_per_word=7, ops="tf_serving")
    assert serving(tf.constant(["unwanted running"])).to_list() == [[0, 8, 9]]  # "unwanted" is over 7


def test_detokenizes_and_packs_as_the_default(vocab, shared_data):
    fast, serving = BertTokenizer(vocab), BertTokenizer(vocab, ops="tf_serving")
    ids = fast(tf.constant(read_sst2(shared_data, "dev")[:200] + EDGE_CASES))
    assert serving.detokenize(ids).numpy().tolist() == fast.detokenize(ids).numpy().tolist()
    pairs = read_mrpc_pairs(shared_data, "dev")
    segments = tuple(tf.constant([pair[i] for pair in pairs]) for i in (0, 1))
    expected = BertPreprocessor(vocab, 48)(segments)
    got = BertPreprocessor(vocab, 48, ops="tf_serving")(segments)
    for name in expected:
        assert got[name].numpy().tolist() == expected[name].numpy().tolist(), name


def test_ops_round_trips_in_the_config_and_is_checked(vocab):
    tokenizer = BertTokenizer(vocab, lower_case=False, ops="tf_serving")
    revived = BertTokenizer.from_config(tokenizer.get_config())
    assert (revived.ops, revived.lower_case) == ("tf_serving", False)
    preprocessor = BertPreprocessor.from_config(BertPreprocessor(vocab, 9, ops="tf_serving").get_config())
    assert preprocessor.ops == preprocessor.tokenizer.ops == "tf_serving"
    assert BertTokenizer(vocab).ops == "fast"
    with pytest.raises(ValueError, match="ops='slow' is not a tokenizer op set; use 'fast' .* or 'tf_serving'"):
        BertTokenizer(vocab, ops="slow")

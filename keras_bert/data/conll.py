"""Reading CoNLL-2003 style NER files."""

import dataclasses
import os

from keras_bert.data.text_files import open_utf8


@dataclasses.dataclass
class ConllSentences:
    """Sentences of a CoNLL file.

    Attributes:
        words: list of sentences, each a list of str.
        tags: list of sentences, each a list of tag str (same shape as words).
        source: the file read.

    Example:
    >>> sentences = ConllSentences([["EU", "rejects"], ["Peter"]], [["B-ORG", "O"], ["B-PER"]], "train.txt")
    >>> len(sentences), sentences.first(1).tags
    (2, [['B-ORG', 'O']])
    """

    words: list
    tags: list
    source: str

    def first(self, n):
        """The first `n` sentences (a smaller training set, for learning curves or quick runs)."""
        return dataclasses.replace(self, words=self.words[:n], tags=self.tags[:n])

    def __len__(self):
        return len(self.words)


def conll_sentences(lines):
    """Groups CoNLL lines into sentences: blank and `-DOCSTART-` lines end one.

    Args:
        lines: an iterable of text lines (a file, or a stream of them).

    Yields:
        One list per sentence of `(line_number, columns)` pairs, `columns`
        the line's whitespace-separated fields and line numbers from 1.

    Example:
    >>> lines = ["-DOCSTART- -X- O", "", "EU B-ORG", "rejects O", "", "Peter B-PER"]
    >>> [[columns[0] for _, columns in sentence] for sentence in conll_sentences(lines)]
    [['EU', 'rejects'], ['Peter']]
    """
    sentence = []
    for line_number, line in enumerate(lines, start=1):
        columns = line.split()
        if columns and columns[0] != "-DOCSTART-":
            sentence.append((line_number, columns))
        elif sentence:
            yield sentence
            sentence = []
    if sentence:
        yield sentence


def read_conll(path):
    """Reads `word ... tag` lines (tag last), blank lines between sentences.

    `-DOCSTART-` lines are document separators, not words. The first column
    is the word and the last the tag, so both CoNLL-2003's four columns and
    two-column files work.

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: naming file and line of a line without a tag, or an
            empty file.

    Example:
    >>> import tempfile
    >>> path = tempfile.mktemp()
    >>> _ = open(path, "w").write("-DOCSTART- -X- -X- O\\n\\nEU NNP B-NP B-ORG\\nrejects VBZ B-VP O\\n")
    >>> read_conll(path).tags
    [['B-ORG', 'O']]
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No CoNLL file at {path!r}.")
    words, tags = [], []
    with open_utf8(path) as f:
        for sentence in conll_sentences(f):
            for line_number, columns in sentence:
                if len(columns) < 2:
                    raise ValueError(
                        f"{path}, line {line_number}: {' '.join(columns)!r} has no tag; CoNLL lines "
                        "are 'word ... tag', whitespace-separated."
                    )
            words.append([columns[0] for _, columns in sentence])
            tags.append([columns[-1] for _, columns in sentence])
    if not words:
        raise ValueError(f"{path}: no sentences; the file is empty.")
    return ConllSentences(words, tags, path)

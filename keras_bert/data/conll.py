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
    words, tags, sentence_words, sentence_tags = [], [], [], []

    def end_sentence():
        if sentence_words:
            words.append(list(sentence_words))
            tags.append(list(sentence_tags))
        sentence_words.clear()
        sentence_tags.clear()

    with open_utf8(path) as f:
        for line_number, line in enumerate(f, start=1):
            columns = line.split()
            if not columns or columns[0] == "-DOCSTART-":
                end_sentence()
                continue
            if len(columns) < 2:
                raise ValueError(
                    f"{path}, line {line_number}: {line.strip()!r} has no tag; CoNLL lines "
                    "are 'word ... tag', whitespace-separated."
                )
            sentence_words.append(columns[0])
            sentence_tags.append(columns[-1])
    end_sentence()
    if not words:
        raise ValueError(f"{path}: no sentences; the file is empty.")
    return ConllSentences(words, tags, path)

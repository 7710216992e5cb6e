"""A light, read-only view of a spaCy Doc for the rule code.

Every ``doc[i]`` on a spaCy Doc builds a new Token object; the rules look at each token many
times, which cost more than the whole spaCy pipeline. This view reads every token once into
plain Python values and answers the few attributes the rules use.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy
from spacy.attrs import IDX, LENGTH, SENT_START
from spacy.tokens import Doc


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int


class Tok:
    __slots__ = ("i", "text", "lower_", "sent")

    def __init__(self, i: int, text: str, lower: str, sent: Sentence) -> None:
        self.i, self.text, self.lower_, self.sent = i, text, lower, sent

    @property
    def is_alpha(self) -> bool:
        return self.text.isalpha()

    @property
    def is_upper(self) -> bool:
        return self.text.isupper()

    @property
    def is_lower(self) -> bool:
        return self.text.islower()

    @property
    def is_space(self) -> bool:
        return self.text.isspace()

    @property
    def like_num(self) -> bool:
        return self.text.replace(".", "").replace(",", "").isdigit()

    def __len__(self) -> int:
        return len(self.text)


class TokSpan:
    def __init__(self, tokens: Tokens, start: int, end: int) -> None:
        self.tokens, self.start, self.end = tokens, start, end

    def __len__(self) -> int:
        return max(0, self.end - self.start)

    def __iter__(self) -> Iterator[Tok]:
        return (self.tokens[i] for i in range(self.start, self.end))

    def __getitem__(self, index: int) -> Tok:
        return self.tokens[self.start + index]

    @property
    def text(self) -> str:
        if self.end <= self.start:
            return ""
        first = self.tokens.offsets[self.start]
        last = self.tokens.offsets[self.end - 1] + len(self.tokens.texts[self.end - 1])
        return self.tokens.source[first:last]


class Tokens:
    def __init__(self, doc: Doc, source: str) -> None:
        """``source`` is the text the doc was made from (Doc.text would rebuild it slowly)."""
        self.source = source
        # Arrays, not Token objects: building a Token per access is what made rules slow.
        array = doc.to_array([IDX, LENGTH, SENT_START]).astype("int64")
        count = len(doc)
        self.offsets: list[int] = array[:, 0].tolist() if count else []
        ends = (array[:, 0] + array[:, 1]).tolist() if count else []
        self.texts = [source[start:end] for start, end in zip(self.offsets, ends, strict=True)]
        starts = sorted({0, *numpy.flatnonzero(array[:, 2] == 1).tolist()}) if count else []
        bounds = list(zip(starts, [*starts[1:], count], strict=True))
        self.sentences = [Sentence(start, end) for start, end in bounds]
        self.sentence_of: list[Sentence] = []
        for sentence in self.sentences:
            self.sentence_of.extend([sentence] * (sentence.end - sentence.start))
        self.lowers = [text.lower() for text in self.texts]
        self._items: dict[int, Tok] = {}  # built on first access: most tokens are never looked at

    def __len__(self) -> int:
        return len(self.texts)

    def __iter__(self) -> Iterator[Tok]:
        return (self[i] for i in range(len(self.texts)))

    def __getitem__(self, index: int) -> Tok:
        if index < 0:
            index += len(self.texts)
        item = self._items.get(index)
        if item is None:
            if not 0 <= index < len(self.texts):
                raise IndexError(index)
            item = Tok(index, self.texts[index], self.lowers[index], self.sentence_of[index])
            self._items[index] = item
        return item

    def span(self, start: int, end: int) -> TokSpan:
        return TokSpan(self, start, end)

"""Copy evidence from sentences: what word shingles miss in edited and partial copies.

A copy that rewrites its lead and swaps a word here and there keeps most of its sentences
almost as they were; a partial copy lifts a third of an article's sentences, whole, into a
longer one. Word 5-shingles over the whole text see neither well (the first scores Jaccard
~0.36, the second containment ~0.32, both below what keeps distinct reports apart).
Counting sentences does: the share of one text's sentences that have a near-identical
sentence in the other.

Independent reports of one event share what they both quote (the same Bawaslu statement)
and little else; so only narration counts. A sentence mostly inside quotation marks is left
out, as are short ones (datelines, "Senin (10/6)") and lines no full stop ends (headlines,
related-article lists, captions, bylines); and at least three sentences must match,
so one shared stock sentence ("Pilkada serentak digelar 27 November 2024.") is not a copy.

Exact narration sentences also find candidates (`sentence_keys`): a partial copy shares too
few shingles with its original for the MinHash LSH to propose it, but it shares whole
sentences, and each is one indexed lookup.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import cache, cached_property

from pantau.core.knowledge import is_furniture
from pantau.core.settings import DedupSettings

# A sentence of fewer words says too little to tell a copy (datelines, captions).
MIN_SENTENCE_WORDS = 6
# Share of a sentence's characters inside quotation marks beyond which it is a quote.
QUOTED_SHARE = 0.5
# When two sentences are near-identical and how many make a copy are settings (dedup:
# sentence_near_identical, sentence_min_matched, sentence_min_share in defaults.yaml).
# Sentence keys indexed per article (the first ones: a lead is what copies keep); each
# sentence gives two, its first and its last KEY_WORDS words.
MAX_KEYS = 48
KEY_WORDS = 6

_NON_WORD = re.compile(r"[^\w]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+")
# Double quotation marks only: a single one is as often an apostrophe ("Jum'at").
_QUOTE = re.compile(r'[“"«][^”"»]*(?:[”"»]|$)')
_QUOTE_MARKS = re.compile(r'[“"«]')
_ENDED = re.compile(r"[.!?][\"'”’)]*\s*$")
_SIGNED = 1 << 63


@dataclass(frozen=True)
class Sentence:
    words: tuple[str, ...]
    quoted: bool
    ended: bool  # by a full stop, "!" or "?": headlines, menus and captions are not
    text: str = field(default="", compare=False)  # as written, for showing a copy's changes

    @property
    def counts(self) -> bool:
        """Narration long enough to say something about copying."""
        return self.ended and not self.quoted and len(self.words) >= MIN_SENTENCE_WORDS

    @cached_property
    def pairs(self) -> frozenset[tuple[str, str]]:
        return frozenset(zip(self.words, self.words[1:], strict=False))

    @cached_property
    def index_keys(self) -> tuple[int, ...]:
        """Its first and its last KEY_WORDS words: a light edit keeps at least one."""
        head, tail = _key(self.words[:KEY_WORDS]), _key(self.words[-KEY_WORDS:])
        return (head,) if head == tail else (head, tail)


def _key(words: tuple[str, ...]) -> int:
    digest = hashlib.blake2b(" ".join(words).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") - _SIGNED


def quoted_spans(paragraph: str) -> list[tuple[int, int]]:
    """Where the paragraph quotes someone: from an opening quotation mark to its closing one,
    or to the paragraph's end (news style for a quote that runs on)."""
    return [match.span() for match in _QUOTE.finditer(paragraph)]


def split_sentences(text: str, furniture: tuple[re.Pattern[str], ...] = ()) -> list[Sentence]:
    """Sentences of a text, paragraph by paragraph, furniture lines left out."""
    found: list[Sentence] = []
    for line in unicodedata.normalize("NFKC", text).splitlines():
        paragraph = line.strip()
        if not paragraph or is_furniture(paragraph.lower(), furniture):
            continue
        quotes = quoted_spans(paragraph) if _QUOTE_MARKS.search(paragraph) else []
        start = 0
        for end in [m.end() for m in _SENTENCE_END.finditer(paragraph)] + [len(paragraph)]:
            if end <= start:
                continue
            inside = sum(max(0, min(end, b) - max(start, a)) for a, b in quotes)
            chunk = paragraph[start:end].lower().replace("_", " ")
            words = tuple(_NON_WORD.sub(" ", chunk).split())
            quoted = inside > QUOTED_SHARE * (end - start)
            text = paragraph[start:end].strip()
            found.append(Sentence(words, quoted, bool(_ENDED.search(chunk)), text))
            start = end
    return found


def sentence_keys(sentences: list[Sentence]) -> list[int]:
    """Index keys of the narration sentences, each once, in order, at most MAX_KEYS."""
    keys = dict.fromkeys(key for s in sentences if s.counts for key in s.index_keys)
    return list(keys)[:MAX_KEYS]


@cache
def _default_settings() -> DedupSettings:
    return DedupSettings()


@dataclass(frozen=True)
class SentenceMatch:
    matched: int  # narration sentences of the smaller side with a near-identical one
    total: int  # narration sentences of the smaller side
    is_copy: bool = False  # enough of them, by the settings it was matched with

    @property
    def share(self) -> float:
        return self.matched / self.total if self.total else 0.0


def match_sentences(
    first: list[Sentence], second: list[Sentence], settings: DedupSettings | None = None
) -> SentenceMatch:
    """How many narration sentences of the side with fewer have a near-identical one in the
    other, and whether that makes a copy (settings: the defaults unless given)."""
    settings = settings or _default_settings()
    a = [sentence for sentence in first if sentence.counts]
    b = [sentence for sentence in second if sentence.counts]
    smaller, larger = (a, b) if len(a) <= len(b) else (b, a)
    if not smaller:
        return SentenceMatch(0, 0)
    larger_pairs = [sentence.pairs for sentence in larger]
    by_pair: dict[tuple[str, str], list[int]] = {}
    for n, pairs in enumerate(larger_pairs):
        for pair in pairs:
            by_pair.setdefault(pair, []).append(n)
    matched = 0
    for sentence in smaller:
        pairs = sentence.pairs
        shared = Counter(n for pair in pairs for n in by_pair.get(pair, ()))
        if any(
            count / (len(pairs) + len(larger_pairs[n]) - count) >= settings.sentence_near_identical
            for n, count in shared.items()
        ):
            matched += 1
    share = matched / len(smaller)
    is_copy = matched >= settings.sentence_min_matched and share >= settings.sentence_min_share
    return SentenceMatch(matched, len(smaller), is_copy)


# --- what a copy changed ------------------------------------------------------------------


@dataclass(frozen=True)
class SentenceDiff:
    """What a copy changed against its source, sentence by sentence (light edits aside)."""

    added: list[str]  # in the copy only
    removed: list[str]  # in the source only


def diff_sentences(
    source: str,
    copy: str,
    furniture: tuple[re.Pattern[str], ...] = (),
    settings: DedupSettings | None = None,
) -> SentenceDiff:
    """Sentences of at least MIN_SENTENCE_WORDS words with no near-identical one on the
    other side, in text order; quotes and headlines count here (a dropped quote is a change)."""
    near = (settings or _default_settings()).sentence_near_identical
    mine = [s for s in split_sentences(source, furniture) if len(s.words) >= MIN_SENTENCE_WORDS]
    theirs = [s for s in split_sentences(copy, furniture) if len(s.words) >= MIN_SENTENCE_WORDS]
    return SentenceDiff(
        added=[s.text for s in theirs if not _has_near_identical(s, mine, near)],
        removed=[s.text for s in mine if not _has_near_identical(s, theirs, near)],
    )


def _has_near_identical(sentence: Sentence, others: list[Sentence], near: float) -> bool:
    pairs = sentence.pairs
    for other in others:
        shared = len(pairs & other.pairs)
        if shared and shared / (len(pairs) + len(other.pairs) - shared) >= near:
            return True
    return False

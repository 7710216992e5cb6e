"""What each copy of a story changed: the sentences it added and left out.

Which article copied which comes from the store (`copy_sources`: the earliest article is
the original, a copy copied the article dedup matched it with). The diff is by sentence,
so an analyst sees a rewritten lead or a partial copy at a glance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

# Sentences this alike (word sequences) are one sentence, edited: a changed word or two.
SAME_SENTENCE = 0.8
MAX_SHOWN = 5


@dataclass
class CopyChanges:
    """What a copy added to, and left out of, the article it copied (sentences)."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    added_count: int = 0
    removed_count: int = 0


def sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+|\n+", text)
    return [p.strip() for p in parts if len(p.split()) >= 4]


def words(sentence: str) -> list[str]:
    return re.sub(r"[^\w\s]", " ", sentence.lower()).split()


def unmatched(these: list[str], others: list[str]) -> list[str]:
    """Sentences of `these` with no near-identical sentence in `others`."""
    other_words = [words(s) for s in others]
    exact = {tuple(w) for w in other_words}
    missing = []
    for sentence in these:
        mine = words(sentence)
        if tuple(mine) in exact:
            continue
        matcher = SequenceMatcher(None, mine, autojunk=False)
        found = False
        for theirs in other_words:
            if abs(len(theirs) - len(mine)) > max(len(mine), len(theirs)) * 0.5:
                continue
            matcher.set_seq2(theirs)
            if matcher.quick_ratio() >= SAME_SENTENCE and matcher.ratio() >= SAME_SENTENCE:
                found = True
                break
        if not found:
            missing.append(sentence)
    return missing


def copy_changes(texts: dict[int, str], sources: dict[int, int | None]) -> dict[int, CopyChanges]:
    """For each copy (an article with a source), the sentences it added and removed."""
    changes = {}
    for article_id, source_id in sources.items():
        if source_id is None or article_id not in texts or source_id not in texts:
            continue
        mine, theirs = sentences(texts[article_id]), sentences(texts[source_id])
        added, removed = unmatched(mine, theirs), unmatched(theirs, mine)
        changes[article_id] = CopyChanges(
            added[:MAX_SHOWN], removed[:MAX_SHOWN], len(added), len(removed)
        )
    return changes

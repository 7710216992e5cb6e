"""What each sentence says: allegation, advisory, hypothetical, past/general, which acts.

Cues are matched as whole words on the lowercase sentence and on its lookup lemmas
(spacy-lookups-data: "mengampanyekan" -> "kampanye"), so rules list base words once.
"""

from __future__ import annotations

import gzip
import json
import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from extract.detect.rules import RuleSet
from extract.detect.tokens import Tokens

_SPACES = re.compile(r"\s+")
_PRONOUNS = {"ia", "dia", "beliau", "bersangkutan", "mereka"}


def _between(positions: list[int], start: int, end: int) -> list[int]:
    """The sorted positions in [start, end)."""
    return positions[bisect_left(positions, start) : bisect_left(positions, end)]


@lru_cache(maxsize=1)
def lemma_table() -> dict[str, str]:
    try:
        import spacy_lookups_data
    except ImportError:  # pragma: no cover - it is a dependency
        return {}
    path = Path(spacy_lookups_data.__file__).parent / "data" / "id_lemma_lookup.json.gz"
    table: dict[str, str] = json.loads(gzip.decompress(path.read_bytes()))
    return table


@dataclass
class SentenceCues:
    index: int
    text: str
    allegation: float = 0.0
    advisory: float = 0.0
    conditional: float = 0.0
    past: float = 0.0
    target: bool = False
    neutrality: int = 0
    acts: dict[str, float] = field(default_factory=dict)
    near_acts: dict[str, float] = field(default_factory=dict)
    pronoun: bool = False
    in_quote: bool = False
    words: dict[str, str] = field(default_factory=dict)  # cue group -> the phrase that set it
    act_at: dict[str, list[int]] = field(default_factory=dict, repr=False)  # token positions
    speech_at: set[int] = field(default_factory=set, repr=False)

    @property
    def act(self) -> float:
        return max(self.acts.values(), default=0.0)


class SentenceReader:
    """Reads every sentence of a document in one pass over its tokens.

    All cue phrases sit in one index keyed by their first token (phrases are tokenised with
    the pipeline's own tokenizer, so "bagi-bagi" or "non-asn" split the same way as text);
    each token and its lemma is looked up once. This keeps an 800-word article at a few
    milliseconds, where one regular expression per cue group and sentence took ten times more.
    """

    def __init__(self, rules: RuleSet, tokenize: Callable[[str], list[str]]) -> None:
        self.rules = rules
        self.index: dict[str, list[tuple[tuple[str, ...], str, float]]] = {}
        groups: list[tuple[str, float, list[str]]] = []
        for name, weighted in (
            ("allegation", rules.cues.allegation),
            ("advisory", rules.cues.advisory),
            ("conditional", rules.cues.conditional),
            ("opening", rules.cues.conditional_opening),
            ("past", rules.cues.past_general),
        ):
            groups.extend((name, g.weight, g.phrases) for g in weighted)
        groups.append(("target", 1.0, rules.targets_phrases))
        groups.append(("neutrality", 1.0, rules.cues.neutrality_terms))
        groups.append(("speech", 1.0, rules.cues.speech_before))
        for violation in rules.violations:
            groups.append((f"act:{violation.id}", 1.0, violation.triggers))
            groups.append((f"near:{violation.id}", 0.8, violation.needs_target))
        for name, weight, phrases in groups:
            for phrase in phrases:
                words = tuple(tokenize(phrase))
                if words:
                    self.index.setdefault(words[0], []).append((words, name, weight))
        for entries in self.index.values():
            entries.sort(key=lambda entry: -len(entry[0]))
        self.parties: dict[str, list[tuple[str, ...]]] = {}
        for party in rules.parties:
            words = tuple(tokenize(party))
            if words:
                self.parties.setdefault(words[0], []).append(words)

    def read_all(self, doc: Tokens) -> list[SentenceCues]:
        table = lemma_table()
        lowers, texts = doc.lowers, doc.texts
        lemmas = [table.get(w, w) for w in lowers]
        # Most tokens start no cue: find once, for the whole document, the few that may.
        index, parties = self.index, self.parties
        starts = [
            i
            for i, (lower, lemma, text) in enumerate(zip(lowers, lemmas, texts, strict=True))
            if lower in index or lemma in index or text in parties
        ]
        pronouns = [i for i, lower in enumerate(lowers) if lower in _PRONOUNS]
        possessives = [
            i for i, lower in enumerate(lowers) if len(lower) > 5 and lower[-3:] == "nya"
        ]
        result = []
        for number, sent in enumerate(doc.sentences):
            text = doc.span(sent.start, sent.end).text
            cues = SentenceCues(index=number, text=_SPACES.sub(" ", text).strip())
            within = _between(starts, sent.start, sent.end)
            self._read(cues, sent.start, sent.end, within, lowers, lemmas, texts)
            self._read_pronouns(
                cues, _between(pronouns, sent.start, sent.end), possessives, sent.start, sent.end
            )
            result.append(cues)
        return result

    def _read(
        self,
        cues: SentenceCues,
        start: int,
        end: int,
        positions: list[int],
        lowers: list[str],
        lemmas: list[str],
        texts: list[str],
    ) -> None:
        found: dict[str, float] = {}
        phrases: dict[str, str] = {}
        act_at: dict[str, list[int]] = {}
        counted = 0
        speech_at: set[int] = set()
        for i in positions:
            for source in (lowers, lemmas) if lemmas[i] != lowers[i] else (lowers,):
                for words, name, weight in self.index.get(source[i], ()):
                    if tuple(source[i : i + len(words)]) != words or i + len(words) > end:
                        continue
                    if source is lemmas and not name.startswith(("act:", "near:", "target")):
                        continue  # lemmas widen acts, not cues ("dugaan" is not "duga")
                    if name == "opening" and i - start > 5:
                        continue
                    if name == "neutrality":
                        counted += 1
                    if name == "speech":
                        speech_at.add(i)
                    if name.startswith(("act:", "near:")):
                        act_at.setdefault(name.split(":", 1)[1], []).append(i)
                    if weight > found.get(name, 0.0):
                        found[name] = weight
                        phrases[name] = " ".join(words)
            for words in self.parties.get(texts[i], ()):
                if tuple(texts[i : i + len(words)]) == words:
                    found["target"] = 1.0
        cues.allegation = found.get("allegation", 0.0)
        cues.advisory = found.get("advisory", 0.0)
        cues.conditional = max(found.get("conditional", 0.0), found.get("opening", 0.0))
        cues.past = found.get("past", 0.0)
        cues.target = "target" in found
        cues.neutrality = counted
        cues.acts = {k[4:]: 1.0 for k in found if k.startswith("act:")}
        cues.near_acts = {k[5:]: 0.8 for k in found if k.startswith("near:")}
        cues.speech_at = speech_at
        cues.words = phrases
        cues.act_at = act_at
        cues.in_quote = texts[start][:1] in {"“", '"'} if start < end else False

    @staticmethod
    def _read_pronouns(
        cues: SentenceCues, pronouns: list[int], possessives: list[int], start: int, end: int
    ) -> None:
        cues.pronoun = bool(pronouns) or bool(_between(possessives, start, end))
        if pronouns and any(pronouns[0] < k <= pronouns[0] + 6 for k in cues.speech_at):
            cues.pronoun = False  # "Ia mengatakan ...": the subject speaks, not acts

    @staticmethod
    def add_targeted_acts(cues: SentenceCues, has_target: bool) -> None:
        """Acts that need a candidate or party nearby (this sentence, the one before, title)."""
        if not has_target:
            return
        for category, weight in cues.near_acts.items():
            cues.acts.setdefault(category, weight)

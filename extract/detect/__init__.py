"""Neutrality-breach detection: spaCy rules over sentences, knowledge in config/rules/*.yaml.

A breach needs one sentence (the evidence) where an allegation cue, an identifiable person
bound to neutrality and a prohibited act meet, and which is not a warning, a rule list, a
hypothetical or a past case told in general. The accused are the bound people of the evidence
sentences who are not speaking or acting on the case; names found elsewhere in the article
("Khairiman selaku Kadin Kominfo") complete position-only mentions ("Kadin Kominfo PALI").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from spacy.tokens import Doc
from spacy.util import filter_spans

from extract.detect.accused_model import (
    AccusedModel,
    Candidate,
    FeatureReader,
    PersonContext,
    load_accused_model,
    load_person_context,
)
from extract.detect.officials import INITIALS, Mention, OfficialFinder
from extract.detect.people import Person, accused_reason, describe
from extract.detect.pipeline import POSITIONS_KEY, build_nlp
from extract.detect.rules import DEFAULT_RULES_DIR, RuleSet, load_rules
from extract.detect.sentences import SentenceCues, SentenceReader
from extract.detect.tokens import Tokens
from extract.models import Article, Finding, Official, Region, Verdict
from extract.regions import Gazetteer, RegionMention, load_gazetteer
from pantau.core.knowledge import is_furniture, load_furniture

__all__ = ["Detector", "Explanation", "Person", "load_detector"]

BREACH_THRESHOLD = 0.55
MAX_CHARS = 60_000
# "Penjabat (Pj) Bupati" -> "Pj Bupati": the short form is what the position rules know.
_ACTING = re.compile(
    r"\b(penjabat sementara|penjabat|pelaksana tugas|pelaksana harian)\s*\((pjs|pj|plt|plh)\.?\)",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^\s*[-•»▪*]\s+")
_PROVINCE_CONTEXT = re.compile(r"(provinsi|prov|propinsi|pemprov|gubernur)\b", re.IGNORECASE)
_KOTA_WORDS = re.compile(r"\b(pemkot|wali ?kota|walikota|kelurahan|lurah|kota)\b")
_NAME_WORD = re.compile(r"\b[A-Z][\w.]*\b")
_KAB_WORDS = re.compile(r"\b(pemkab|bupati|kabupaten|kades|kepala desa|desa)\b")


@dataclass
class Explanation:
    """A finding and the people of the story with the role each got and why."""

    finding: Finding
    people: list[Person]
    # Everyone of a breach story who might be the accused, with the model's features: what
    # `make accused-model` fits on.
    candidates: list[Candidate] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {**self.finding.to_dict(), "people": [p.to_dict() for p in self.people]}


@dataclass
class Evidence:
    sent: int
    score: float
    accused: list[Mention]
    acts: dict[str, float]
    carried: bool = False  # the accused are named elsewhere ("Ia ...", "Rika ...")

    @property
    def about_the_accused(self) -> bool:
        """Shown and counted for categories: names the accused, or says what they did."""
        return not self.carried or bool(self.acts)


def compose_text(article: Article) -> str:
    """Title and body as one text, page furniture lines and repeated paragraphs dropped."""
    body = article.text[:MAX_CHARS]
    title = " ".join(article.title.split())
    paragraphs: list[str] = []
    seen: set[str] = set()
    furniture = load_furniture().detection
    for line in body.split("\n"):
        stripped = " ".join(line.split())
        if not stripped or is_furniture(stripped, furniture) or _related_headline(stripped):
            continue
        key = stripped.lower()
        if key in seen or (key == title.lower()):
            continue
        seen.add(key)
        paragraphs.append(stripped)
    head = [title] if title else []
    return _ACTING.sub(r"\2", "\n\n".join(head + paragraphs))


def _related_headline(line: str) -> bool:
    """'- Pj Gubernur Kaltim Minta ASN Tak Unggah Foto Paslon' under 'Berita Lainnya': a link
    to another story, Written Like A Headline; a bulleted rule ('- berfoto dengan ...') is not."""
    if not _BULLET.match(line) or line.endswith((".", ";", ":")):
        return False
    words = [w for w in _BULLET.sub("", line).split() if w[:1].isalpha() and len(w) > 3]
    capitals = sum(w[0].isupper() for w in words)
    return len(words) >= 3 and capitals / len(words) > 0.6


class Detector:
    """Stateless after construction; safe to share within a process."""

    version = "1.3"

    def __init__(
        self,
        rules: RuleSet,
        gazetteer: Gazetteer,
        context: PersonContext | None = None,
        model: AccusedModel | None = None,
    ) -> None:
        self.rules = rules
        self.gazetteer = gazetteer
        self.features = FeatureReader(context) if context else None
        self.model = model if context else None  # no model without the features it reads
        self.nlp = build_nlp(rules)
        region_words = frozenset(
            re.sub(r"^(Kabupaten|Kota)( Administrasi)? ", "", region.name).lower()
            for region in gazetteer.regencies
        )
        self.finder = OfficialFinder(rules, region_words)
        self.speaker_words = frozenset(p for p in rules.cues.speech_after if " " not in p)
        self.speech_verbs = frozenset(p for p in rules.cues.speech_before if " " not in p)
        self.reader = SentenceReader(
            rules, lambda phrase: [t.lower_ for t in self.nlp.make_doc(phrase)]
        )

    # --- public -----------------------------------------------------------------------

    def analyze(self, article: Article) -> Finding:
        return self.explain(article).finding

    def explain(self, article: Article) -> Explanation:
        """The finding, and every person of the story with their role and its reason."""
        text = compose_text(article)
        if not text.strip():
            return Explanation(Finding.not_analysed(self.version), [])
        doc = self.nlp(text)
        tokens = Tokens(doc, text)
        region_mentions = self.gazetteer.find_in_text(text)
        regions_at = self._regions_by_token(doc, region_mentions)
        spans = filter_spans(list(doc.spans[POSITIONS_KEY]))
        mentions = self.finder.find(tokens, spans, regions_at)
        cues = self.reader.read_all(tokens)
        title_target = bool(cues) and cues[0].target
        for i in range(len(cues)):
            near = cues[i].target or (i > 0 and cues[i - 1].target) or title_target
            self.reader.add_targeted_acts(cues[i], near)
        self._resolve_names(mentions)
        evidence = self._evidence(mentions, cues)
        if not any(cues[e.sent].allegation > 0 for e in evidence) and not self._live_case(cues):
            evidence = []  # acts told without anything alleged: a directive, a rule, a plan
        region = self._story_region(tokens, text, region_mentions, evidence)
        if evidence:
            finding, accused, candidates = self._breach(evidence, mentions, cues, region, tokens)
            overruled = {
                id(m): (f"the accused-person model gives {c.probability:.2f}", cues[m.sent].text)
                for c in candidates
                if c.rule_accused and c.probability is not None and id(c.mentions[0]) not in accused
                for m in c.mentions
            }
            people = describe(mentions, accused, cues, overruled)
            return Explanation(finding, people, candidates)
        verdict: Verdict = "advisory" if self._about_neutrality(cues) else "other"
        bound_by_sent: dict[int, list[Mention]] = {}
        for mention in mentions:
            if mention.bound:
                bound_by_sent.setdefault(mention.sent, []).append(mention)
        partial = max(
            (self._partial_score(c, bound_by_sent.get(c.index, [])) for c in cues), default=0.0
        )
        finding = Finding(
            verdict=verdict,
            score=round(min(0.45, partial * 0.5), 3),
            region=region,
            analyzer_version=self.version,
        )
        return Explanation(finding, describe(mentions, {}, cues))

    # --- evidence -----------------------------------------------------------------------

    def _accusable(self, mention: Mention) -> bool:
        handed_the_case = mention.recipient and mention.rule.oversees
        return (
            mention.bound
            and not mention.speaker
            and not handed_the_case
            and mention.identifiability > 0
        )

    def _evidence(self, mentions: list[Mention], cues: list[SentenceCues]) -> list[Evidence]:
        by_sent: dict[int, list[Mention]] = {}
        for mention in mentions:
            by_sent.setdefault(mention.sent, []).append(mention)
        found: list[Evidence] = []
        previous_accused: tuple[int, list[Mention]] | None = None
        people = self._named_people(mentions)
        for c in cues:
            here = [m for m in by_sent.get(c.index, []) if self._accusable(m)]
            carried = False
            if not here and c.allegation > 0:
                here = self._named_only(c.text, people)  # "Rika tetap masuk kerja", "SW ..."
                carried = bool(here)
            if (
                not here
                and c.pronoun
                and c.allegation > 0
                and previous_accused is not None
                and c.index - previous_accused[0] <= 2
            ):
                here, carried = previous_accused[1], True
            if not here:
                continue  # nobody to accuse in this sentence: it scores nothing
            if not carried:
                previous_accused = (c.index, here)
            window = cues[max(0, c.index - 2) : c.index + 3]
            nearby = max((n.act for n in window if n.advisory < 1.0), default=0.0)
            score = self._sentence_score(c, here, nearby)
            if carried:
                score -= 0.05
            if score >= BREACH_THRESHOLD:
                accused = sorted(here, key=lambda m: -m.identifiability)
                acts = self._acts_of_accused(c, here, mentions)
                found.append(Evidence(c.index, score, accused, acts, carried))
        return found

    def _acts_of_accused(
        self, c: SentenceCues, accused: list[Mention], mentions: list[Mention]
    ) -> dict[str, float]:
        """The acts of the sentence, less those told of a candidate in it ("camat X hadir di
        acara paslon Y yang maju sebagai calon": 'maju sebagai calon' is Y's, not X's)."""
        others = [
            m
            for m in mentions
            if m.sent == c.index and not m.rule.bound_to_neutrality and m not in accused
        ]
        if not others:
            return dict(c.acts)
        kept: dict[str, float] = {}
        for category, weight in c.acts.items():
            places = c.act_at.get(category, [])
            if places and all(any(0 <= p - m.end <= 8 for m in others) for p in places):
                continue  # every mention of the act follows a candidate or party
            kept[category] = weight
        return kept or dict(c.acts)

    def _named_people(self, mentions: list[Mention]) -> dict[str, Mention]:
        """Each accusable named person once, keyed by the words a later mention may use."""
        people: dict[str, Mention] = {}
        for mention in mentions:
            if not mention.name or not self._accusable(mention):
                continue
            if mention.initials:
                people.setdefault(mention.name.replace(".", ""), mention)
                continue
            for word in mention.name.split():
                if len(word) >= 4 and word.lower() not in self.finder.not_names:
                    people.setdefault(word, mention)
        return people

    def _named_only(self, text: str, people: dict[str, Mention]) -> list[Mention]:
        """People named in a sentence without their title, unless it names them as speaker."""
        found: list[Mention] = []
        for match in _NAME_WORD.finditer(text):
            mention = people.get(match.group(0))
            before = text[: match.start()].split()[-1:]
            after = text[match.end() :].split()[:3]
            if mention is None or mention in found:
                continue
            if before and before[0].lower().strip(",") in self.speaker_words:
                continue  # "..., kata Rika"
            if any(word.lower().strip(",.") in self.speech_verbs for word in after):
                continue  # "Hartono menambahkan, ..."
            found.append(mention)
        return found

    def _live_case(self, cues: list[SentenceCues]) -> bool:
        """Somewhere the article reports a case being alleged, examined or sanctioned."""
        return any(
            c.allegation >= 1.0 and max(c.advisory, c.conditional, c.past) < 0.5 for c in cues
        )

    def _act_strength(self, c: SentenceCues, nearby: float = 0.0) -> float:
        act = c.act
        if act == 0 and c.neutrality and c.allegation >= 1.0:
            act = 0.6  # "melanggar netralitas", "tidak netral": an act, category unknown
        if act == 0 and c.allegation >= 1.0:
            act = 0.5 * nearby  # "X dijatuhi sanksi" after the act was told nearby
        return act

    def _sentence_score(
        self, c: SentenceCues, accused: list[Mention], nearby: float = 0.0
    ) -> float:
        if not accused or c.advisory >= 1.0 or c.conditional >= 1.0 or c.past >= 1.0:
            return 0.0
        if any(m.case_verb for m in accused):  # "Warga melaporkan Kades X": a case
            c = replace(c, allegation=1.0)
        act = self._act_strength(c, nearby)
        if act == 0 or (c.allegation == 0 and act < 1.0):
            return 0.0
        ident = max(m.identifiability for m in accused)
        score = 0.15 + 0.3 * c.allegation + 0.3 * ident + 0.25 * act - 0.2 * c.advisory
        return max(0.0, min(1.0, score))

    def _partial_score(self, c: SentenceCues, bound: list[Mention]) -> float:
        """How close a sentence came to evidence; ``bound``: its people bound to neutrality."""
        ident = max((m.identifiability for m in bound), default=0.0)
        return 0.3 * c.allegation + 0.3 * ident + 0.25 * self._act_strength(c)

    def _about_neutrality(self, cues: list[SentenceCues]) -> bool:
        hits = sum(c.neutrality for c in cues) + (cues[0].neutrality if cues else 0)
        advisory = any(c.advisory >= 1.0 for c in cues)
        return hits >= 2 or (hits >= 1 and advisory)

    # --- names across the article ------------------------------------------------------

    def _resolve_names(self, mentions: list[Mention]) -> None:
        """Give position-only mentions the name the article uses for that position.

        Only a post one person holds ("Camat Ambulu"), or a mention pointing back ("guru
        tersebut", "oknum ASN"), takes a name from elsewhere; "seluruh guru" is a group.
        """
        named = [m for m in mentions if m.name and m.bound and not m.speaker and not m.group]
        for mention in mentions:
            if mention.name or not mention.bound or mention.group:
                continue
            one_person = mention.anaphoric or mention.oknum or mention.indefinite
            if not (mention.rule.specific or one_person or mention.sent == 0):
                continue  # a bare "guru" in the body is teachers in general; in a headline, one
            names = {m.name.lower(): m.name for m in named if m.name and _same_post(m, mention)}
            if not names:  # same title, different wording of the unit: still one person
                names = {
                    m.name.lower(): m.name for m in named if m.name and _same_title(m, mention)
                }
            if len(names) == 1:
                _give_name(mention, next(iter(names.values())))

    def _name_from_story(self, mention: Mention, mentions: list[Mention]) -> None:
        """An accused told by position only, named where the article points back at them.

        "Sekdis PUPR ... ditengarai ..." then "pejabat tersebut adalah Syamsul Bahri";
        "oknum Babinsa ..." then "berinisial Serka DS": one person, named once.
        """
        names: dict[str, str] = {}
        for other in mentions:
            if not other.name or not other.bound or other.speaker or other.group:
                continue
            pointing_back = other.anaphoric and (
                not other.rule.specific or _same_title(other, mention)
            )
            if pointing_back or _same_family(other, mention):
                names.setdefault(other.name.lower(), other.name)
        if len(names) == 1:
            _give_name(mention, next(iter(names.values())))

    # --- the finding ----------------------------------------------------------------------

    def _breach(
        self,
        evidence: list[Evidence],
        mentions: list[Mention],
        cues: list[SentenceCues],
        region: Region | None,
        tokens: Tokens,
    ) -> tuple[Finding, dict[int, tuple[str, str]], list[Candidate]]:
        best = max(e.score for e in evidence)
        title_bonus = 0.03 if any(e.sent == 0 for e in evidence) else 0.0
        score = min(1.0, best + 0.04 * (len(evidence) - 1) + title_bonus)
        candidates = self._candidates(evidence, mentions, region)
        kept = self._judge(candidates, evidence, cues, tokens)
        accused: dict[int, tuple[str, str]] = {}
        for candidate in kept:
            held = candidate.mentions
            where = next(
                (e for e in sorted(evidence, key=lambda e: -e.score) if _among(held, e)), None
            )
            if where is not None:
                reason, text = accused_reason(cues[where.sent]), cues[where.sent].text
            else:
                reason, text = "named by the accused-person model", cues[held[0].sent].text
            if candidate.probability is not None:
                reason = f"model {candidate.probability:.2f}; {reason}"
            for mention in held:
                accused[id(mention)] = (reason, text)
        kept_mentions = [m for c in kept for m in c.mentions]
        shown = [e for e in evidence if e.about_the_accused] or evidence
        shown = [e for e in shown if _among(kept_mentions, e)] or shown
        act_totals: dict[str, float] = {}
        for item in shown:
            for category, weight in item.acts.items():
                act_totals[category] = act_totals.get(category, 0.0) + weight * item.score
        order = self.rules.category_ids
        violations = sorted(act_totals, key=lambda c: (-act_totals[c], order.index(c)))
        ordered = sorted(shown, key=lambda e: (-e.score, e.sent))[:4]
        finding = Finding(
            verdict="breach",
            score=round(score, 3),
            officials=[c.official for c in kept],
            region=region,
            violations=violations[:3],
            evidence=[cues[e.sent].text for e in sorted(ordered, key=lambda e: e.sent)],
            analyzer_version=self.version,
        )
        return finding, accused, candidates

    def _candidates(
        self, evidence: list[Evidence], mentions: list[Mention], region: Region | None
    ) -> list[Candidate]:
        """The people the rules accuse, then everyone else who could be accused."""
        accused: list[Mention] = []
        for item in sorted(evidence, key=lambda e: -e.score):
            accused.extend(m for m in item.accused if m not in accused)
        chosen = self._officials(accused, mentions, region)
        candidates = [Candidate(official, held, True) for official, held in chosen]
        if self.features is None:
            return candidates
        taken = {id(m) for c in candidates for m in c.mentions}
        others = [
            m
            for m in mentions
            if id(m) not in taken
            and m.bound
            and not m.group
            and m.identifiability > 0
            and (m.name or m.rule.specific or m.oknum)
            and not any(_joins(m, c.mentions) for c in candidates)
        ]
        for official, held in self._officials(others, mentions, region):
            candidates.append(Candidate(official, held, False))
        return candidates

    def _judge(
        self,
        candidates: list[Candidate],
        evidence: list[Evidence],
        cues: list[SentenceCues],
        tokens: Tokens,
    ) -> list[Candidate]:
        """The candidates kept as accused: the model's choice where one is shipped, else the
        rules'. Features are read either way: they are what the model is fitted on."""
        if self.features is None:
            return [c for c in candidates if c.rule_accused]
        scores: dict[int, list[float]] = {}
        for item in evidence:
            for mention in item.accused:
                scores.setdefault(id(mention), []).append(item.score)
        for candidate in candidates:
            candidate.features = self.features.read(
                candidate, tokens, cues, scores, len(candidates)
            )
            if self.model is not None:
                candidate.probability = self.model.probability(candidate.features)
        if self.model is None:
            return [c for c in candidates if c.rule_accused]
        _share_within_lists(candidates)
        kept = [c for c in candidates if (c.probability or 0.0) >= self.model.threshold]
        best = max(candidates, key=lambda c: c.probability or 0.0, default=None)
        # A breach is told of someone: the rules' accused, when the model finds nobody
        # likelier and does not rule them out.
        top = best.probability or 0.0 if best is not None and best.rule_accused else -1.0
        if not kept and top >= self.model.floor:
            kept = [c for c in candidates if c.probability == top]
        return kept

    def _officials(
        self, accused: list[Mention], mentions: list[Mention], region: Region | None
    ) -> list[tuple[Official, list[Mention]]]:
        """One entry per person among ``accused`` (with the mentions that are that person): a
        position-only mention and the named mention of the same post are one person, reported
        under the name."""
        for mention in accused:
            if not mention.name:
                self._name_from_story(mention, mentions)
        persons: list[list[Mention]] = []
        for mention in accused:
            person = next((p for p in persons if _joins(mention, p)), None)
            if person is None:
                persons.append([mention])
            else:
                person.append(mention)
        named_posts = [m for p in persons for m in p if m.name]
        result: list[tuple[Official, list[Mention]]] = []
        for person in persons:
            names = [m.name for m in person if m.name]
            name = _best_name(names) if names else None
            post = max(person, key=lambda m: (not _holds_name(m, name), _post_richness(m)))
            if not names:
                if any(_same_title(m, post) or _same_family(m, post) for m in named_posts):
                    continue
                if not post.rule.specific and not any(m.oknum for m in person):
                    continue
                if all(m.counted for m in person):
                    continue  # "tiga keuchik": a case about several, none named
            where = post.region or (region if region and len(region.code) > 2 else None)
            official = Official(
                name=name,
                position=post.position_text,
                region=where.name if where else None,
                kind=post.rule.kind,
            )
            result.append((official, person))
        return result

    # --- region -------------------------------------------------------------------------

    def _regions_by_token(
        self, doc: Doc, mentions: list[RegionMention]
    ) -> dict[int, tuple[RegionMention, int]]:
        found: dict[int, tuple[RegionMention, int]] = {}
        for mention in mentions:
            span = doc.char_span(mention.start, mention.end, alignment_mode="expand")
            if span is not None:
                for i in range(span.start, span.end):  # "Bupati PALI": reachable from "PALI"
                    found.setdefault(i, (mention, span.end))
        return found

    def _story_region(
        self,
        doc: Tokens,
        text: str,
        mentions: list[RegionMention],
        evidence: list[Evidence],
    ) -> Region | None:
        if not mentions:
            return None
        accused_regions = {
            m.region.code for e in evidence for m in e.accused if m.region is not None
        }
        resolved = self._resolve_ambiguous(text, mentions)
        first = doc.sentences[0] if doc.sentences else None
        title_end = len(doc.span(first.start, first.end).text) if first else 0
        weights: dict[str, float] = {}
        for mention, region in resolved:
            weight = 1.0 + (0.5 if mention.typed else 0.0)
            if len(region.code) == 2 and not _PROVINCE_CONTEXT.match(mention.text):
                weight = 0.5  # a bare "Jakarta" dateline or "Jawa Barat" aside is weak
            if mention.start <= title_end:
                weight *= 2
            elif mention.start < 600:
                weight += 0.5
            if region.code in accused_regions:
                weight += 3
            weights[region.code] = weights.get(region.code, 0.0) + weight
        if not weights:
            return None
        regencies = {c: w for c, w in weights.items() if len(c) > 2}
        provinces = {c: w for c, w in weights.items() if len(c) == 2}
        best_regency = max(regencies, key=lambda c: regencies[c], default=None)
        best_province = max(provinces, key=lambda c: provinces[c], default=None)
        if best_regency is None or (
            best_province is not None and provinces[best_province] > regencies[best_regency]
        ):
            if best_province is None or provinces[best_province] < 2:
                return None  # national news: a passing province name is not its region
            return self.gazetteer.get(best_province)
        return self.gazetteer.get(best_regency)

    def _resolve_ambiguous(
        self, text: str, mentions: list[RegionMention]
    ) -> list[tuple[RegionMention, Region]]:
        typed = {m.region.code for m in mentions if m.region is not None and m.typed}
        lower = text.lower()
        kota_votes = len(_KOTA_WORDS.findall(lower))
        kab_votes = len(_KAB_WORDS.findall(lower))
        resolved: list[tuple[RegionMention, Region]] = []
        for mention in mentions:
            if mention.region is not None:
                resolved.append((mention, mention.region))
                continue
            known = [r for r in mention.candidates if r.code in typed]
            if len(known) == 1:
                resolved.append((mention, known[0]))
                continue
            if kota_votes != kab_votes:
                want = "kota" if kota_votes > kab_votes else "kabupaten"
                fitting = [r for r in mention.candidates if self.gazetteer.kind(r) == want]
                if len(fitting) == 1:
                    resolved.append((mention, fitting[0]))
                    continue
            provinces = {r.code[:2] for r in mention.candidates}
            if len(provinces) == 1 and (province := self.gazetteer.get(provinces.pop())):
                resolved.append((mention, province))
        return resolved


def _share_within_lists(candidates: list[Candidate]) -> None:
    """People named in one list ("yakni A, B dan C") stand or fall together: the list's
    likeliest member sets the probability of all."""
    by_list: dict[tuple[int, int], list[Candidate]] = {}
    for candidate in candidates:
        for key in {(m.sent, m.start) for m in candidate.mentions}:
            by_list.setdefault(key, []).append(candidate)
    for members in by_list.values():
        if len(members) > 1:
            top = max(c.probability or 0.0 for c in members)
            for member in members:
                member.probability = top


def _joins(mention: Mention, person: list[Mention]) -> bool:
    """A named mention joins a named person only by name: 'yakni A dan B' are two people
    even though both are the 'guru' of the story."""
    names = [q.name for q in person if q.name]
    if mention.name and names:
        return any(_same_name(mention.name, name) for name in names)
    return any(_same_person(mention, q) for q in person)


def _among(held: list[Mention], evidence: Evidence) -> bool:
    return any(m in evidence.accused for m in held)


def _unit_tokens(unit: str | None) -> set[str]:
    if not unit:
        return set()
    tokens = set()
    words = unit.lower().split()
    for word in words:
        tokens.add(word)
        for prefix in ("dis", "din", "dinas"):
            if word.startswith(prefix) and len(word) > len(prefix) + 2:
                tokens.add(word[len(prefix) :])
    content = [w for w in words if w not in {"dan", "dinas", "badan", "&"}]
    if len(content) >= 2:  # "Pekerjaan Umum dan Penataan Ruang" is also "pupr"
        tokens.add("".join(w[0] for w in content))
    return tokens - {"dan", "dinas", "badan"}


def _give_name(mention: Mention, name: str) -> None:
    mention.name = name
    mention.initials = bool(INITIALS.match(name))


def _name_words(name: str) -> set[str]:
    return {w for w in re.sub(r"[^\w\s]", " ", name.lower()).split() if len(w) >= 3}


def _same_name(a: str, b: str) -> bool:
    """'Zainuddin' and 'Lalu Muhammad Zainuddin' are one person; initials must be equal."""
    if a.lower() == b.lower():
        return True
    if INITIALS.match(a) or INITIALS.match(b):
        return a.replace(".", "").upper() == b.replace(".", "").upper()
    wa, wb = _name_words(a), _name_words(b)
    return bool(wa and wb) and (wa <= wb or wb <= wa)


def _same_family(a: Mention, b: Mention) -> bool:
    """Two generic roles of one corps ("Serka DS" and "oknum Babinsa")."""
    return (
        a.rule.family is not None
        and a.rule.family == b.rule.family
        and not a.rule.specific
        and not b.rule.specific
    )


def _same_person(a: Mention, b: Mention) -> bool:
    if a.name and b.name:
        return _same_name(a.name, b.name)
    if a.name or b.name:
        named, bare = (a, b) if a.name else (b, a)
        return _same_post(named, bare) or _same_family(named, bare)
    return _same_post(a, b)


def _best_name(names: list[str]) -> str:
    """The fullest written name; initials only when no name is written out."""
    full = [n for n in names if not INITIALS.match(n)]
    return max(full or names, key=lambda n: (len(n.split()), len(n)))


def _holds_name(mention: Mention, name: str | None) -> bool:
    """'Camat Cibadak Asep Sunandar' in a Title Case headline: the place swallowed the name."""
    place = f"{mention.unit or ''} {mention.place or ''}"
    return bool(name) and bool(_name_words(name or "") & _name_words(place))


def _post_richness(mention: Mention) -> tuple[int, int]:
    detail = sum(bool(x) for x in (mention.unit, mention.place, mention.region))
    return (2 if mention.rule.specific else 0) + (1 if mention.name else 0), detail


_HEAD_GROUPS = {"kepala_dinas": "kepala", "kepala_instansi": "kepala", "kepala_badan": "kepala"}


def _same_post(a: Mention, b: Mention) -> bool:
    if _HEAD_GROUPS.get(a.rule.id, a.rule.id) != _HEAD_GROUPS.get(b.rule.id, b.rule.id):
        return False
    if a.region and b.region and a.region.code != b.region.code:
        return False
    ua, ub = _unit_tokens(a.unit), _unit_tokens(b.unit)
    if ua and ub and not ua & ub:
        return False
    pa, pb = (a.place or "").lower(), (b.place or "").lower()
    return not (pa and pb and pa != pb)


def _same_title(a: Mention, b: Mention) -> bool:
    return _HEAD_GROUPS.get(a.rule.id, a.rule.id) == _HEAD_GROUPS.get(b.rule.id, b.rule.id)


@lru_cache(maxsize=4)
def load_detector(rules_dir: Path | None = None) -> Detector:
    """The detector with the rules in ``rules_dir`` (default config/rules), cached."""
    directory = rules_dir or DEFAULT_RULES_DIR
    context = load_person_context(directory)
    return Detector(load_rules(directory), load_gazetteer(), context, load_accused_model(directory))

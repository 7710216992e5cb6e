"""Who holds which position: link names, initials, units and places to position spans.

Indonesian news writes an official in a handful of shapes, all handled here around each
position span the SpanRuler found:

- title first:   "Sekda Kepahiang Hartono", "Kepala Diskominfo PPU Khairudin"
- name first:    "Khairiman selaku Kadin Kominfo", "Budi, Kepala Desa Sukamaju"
- apposition:    "Kepala Desa Sukamaju, Fulan, ..."
- initials:      "oknum ASN berinisial AB", "Camat Cibadak (berinisial Z)"
- speakers:      "..., kata Ketua Bawaslu Erwin" / "Kepala BKPSDM X mengatakan": marked so they
                 are never taken for the accused of the sentence they speak.
"""

from __future__ import annotations

import gzip
import json
import re
from bisect import bisect_right
from dataclasses import dataclass, field, replace
from functools import lru_cache

from spacy.tokens import Span

from extract.detect.rules import PositionRule, RuleSet
from extract.detect.tokens import Tok as Token
from extract.detect.tokens import Tokens as Doc
from extract.detect.tokens import TokSpan
from extract.models import Region
from extract.regions import RegionMention

ANAPHORA = {"tersebut", "itu", "bersangkutan", "setempat"}
APPOSITION_FILLERS = {
    "sebuah", "di", "setempat", "dari", "pada", "kalurahan", "kelurahan", "desa", "kecamatan",
    "dusun", "ini", "salah", "satu", "seorang", "wilayah", "lingkungan",
}  # fmt: skip
VERB_PREFIXES = ("diper", "di", "ter", "meng", "meny", "mem", "men", "me", "ber", "")
CONNECTORS = {"di", "pada", "dari"}
CONNECTOR_FILLERS = {"lingkungan", "wilayah", "jajaran", "salah", "satu", "bawah"}
# Between a title and its holder: "Bhabinkamtibmas berpangkat Aipda itu, Ferdy ...",
# "Dosen tersebut adalah Bambang ...", "Pegawai non-ASN tersebut, sebut saja berinisial FH".
BRIDGE_WORDS = {
    "tersebut", "itu", "adalah", "ialah", "yakni", "yaitu", "berpangkat", "sebut", "saja",
    "diketahui", "yang", "dimaksud", "bernama", "ternyata", ",",
}  # fmt: skip
INITIALS = re.compile(r"^(?:[A-Z]{1,4}|(?:[A-Z]\.){1,4}[A-Z]?\.?)$")


@dataclass
class Mention:
    """One position held by someone in one sentence."""

    rule: PositionRule
    start: int
    end: int
    sent: int
    name: str | None = None
    initials: bool = False
    unit: str | None = None
    place: str | None = None
    region: Region | None = None
    oknum: bool = False
    group: bool = False
    indefinite: bool = False
    counted: bool = False  # "dua ASN", "sejumlah camat": several people, none named
    anaphoric: bool = False
    former: bool = False
    speaker_cue: str | None = None  # the words that make this mention a speaker or an actor
    alias: str = ""  # the title as written, lowercase ("wali nagari")
    recipient: bool = False  # "... diteruskan kepada Pj Bupati": the case goes to them
    case_verb: str | None = None  # "melaporkan <this person>": the object of a case
    more_names: list[str] = field(default_factory=list)  # "yakni A, B dan C": one per person
    place_span: tuple[int, int] | None = None

    @property
    def speaker(self) -> bool:
        return self.speaker_cue is not None

    @property
    def bound(self) -> bool:
        return self.rule.bound_to_neutrality and not self.former

    @property
    def identifiability(self) -> float:
        """How surely the mention points at one person (0: a whole group)."""
        if self.group and not self.name:
            return 0.0
        context = bool(self.unit or self.place or self.region)
        if self.counted and not self.name:
            return 0.4 if context else 0.0  # "dua ASN Pemkab Kutim": a case, nobody named
        if self.name and not self.initials:
            return 1.0
        if self.name:
            return 0.9
        one_per_region = self.rule.attaches in ("region", "none")
        if self.rule.specific and (context or one_per_region):
            return 0.8 if context else 0.5 if self.indefinite else 0.6
        if self.rule.specific and self.anaphoric:
            return 0.5
        if self.oknum:
            return 0.6 if context else 0.5
        if self.indefinite:
            return 0.5 if context else 0.3
        return 0.4 if context else 0.0

    @property
    def position_text(self) -> str:
        text = self.rule.titles.get(self.alias, self.rule.name)
        if self.unit:
            text = f"{text} {self.unit}"
        if self.place:
            text = f"{text} {self.place}"
        return text

    def key(self) -> tuple[str, str]:
        detail = (self.unit or self.place or "").lower()
        return self.rule.id, detail


DOTTED_INITIALS = re.compile(r"^(?:[A-Z]\.){2,}$")  # "R.A.", not a sentence-final "T."


def _clean_name(words: list[str]) -> str:
    """Words of a name joined; a final dot kept only on dotted initials ("R.A.")."""
    name = " ".join(words).strip(" ,")
    return name if DOTTED_INITIALS.match(words[-1]) else name.rstrip(".")


def _each_person(mention: Mention) -> list[Mention]:
    """A mention naming several people ("yakni A, B dan C") as one mention per person."""
    if not mention.more_names:
        return [mention]
    others = [replace(mention, name=name, more_names=[]) for name in mention.more_names]
    for other in others:
        other.initials = bool(INITIALS.match(other.name or ""))
    mention.more_names = []
    return [mention, *others]


def attach_place(
    mention: Mention, doc: Doc, start: int, end: int, place_words: frozenset[str]
) -> None:
    """The unit or area named after a position ("Camat *Tanjung Batu*"), minus place words."""
    mention.place_span = (start, end)
    words = (t.text for t in doc.span(start, end) if t.lower_ not in place_words)
    mention.place = " ".join(words).strip() or None


@lru_cache(maxsize=1)
def word_forms() -> tuple[frozenset[str], frozenset[str]]:
    """Indonesian words from spacy-lookups-data: (derived forms, all forms incl. roots).

    A derived form ("terlibat", "mendadak") is never a name; a root ("budi") may be one, so
    roots only count against names in Title Case Headlines.
    """
    try:
        from spacy_lookups_data import __file__ as lookups_init
    except ImportError:  # pragma: no cover - it is a dependency
        return frozenset(), frozenset()
    from pathlib import Path

    path = Path(lookups_init).parent / "data" / "id_lemma_lookup.json.gz"
    table: dict[str, str] = json.loads(gzip.decompress(path.read_bytes()))
    derived = frozenset(k for k, v in table.items() if k != v)
    return derived, derived | frozenset(table.values())


def _phrase_tuples(phrases: list[str]) -> list[tuple[str, ...]]:
    return sorted((tuple(p.split()) for p in phrases), key=len, reverse=True)


class PhraseIndex:
    """Multi-word phrases looked up by their first word, over a list of lowercase tokens."""

    def __init__(self, phrases: list[str]) -> None:
        self.by_first: dict[str, list[tuple[str, ...]]] = {}
        for words in _phrase_tuples(phrases):
            self.by_first.setdefault(words[0], []).append(words)

    def length_at(self, lowers: list[str], i: int) -> int:
        """Length of the longest phrase starting at token i (0: none)."""
        if i < 0 or i >= len(lowers):
            return 0
        for words in self.by_first.get(lowers[i], ()):
            if tuple(lowers[i : i + len(words)]) == words:
                return len(words)
        return 0

    def ends_at(self, lowers: list[str], end: int, start_limit: int) -> int:
        """Length of a phrase ending just before token ``end`` and starting >= start_limit."""
        for size in range(4, 0, -1):
            start = end - size
            if start >= start_limit and self.length_at(lowers, start) == size:
                return size
        return 0


def _title_case(doc: Doc, number: int) -> bool:
    """A headline, or a sentence Written Like One: capitals then say nothing about names."""
    sent = doc.sentences[number]
    caps = [w for w in doc.texts[sent.start : sent.end] if w.isalpha() and len(w) > 3]
    ratio = sum(w[0].isupper() for w in caps) / len(caps) if caps else 0.0
    return (number == 0 and ratio > 0.6) or (ratio > 0.75 and len(caps) >= 6)


class OfficialFinder:
    """Finds position mentions and the names attached to them in a parsed document."""

    def __init__(self, rules: RuleSet, region_words: frozenset[str] = frozenset()) -> None:
        """``region_words``: kabupaten/kota names (lowercase), never taken for a person's name."""
        self.rules = rules
        self.region_words = frozenset(w for w in region_words if " " not in w)
        self.region_names = frozenset(tuple(w.split()) for w in region_words)
        cue_words = {
            phrase
            for group in (*rules.cues.allegation, *rules.cues.advisory)
            for phrase in group.phrases
            if " " not in phrase
        }
        cue_words |= {p for p in rules.cues.speech_before + rules.cues.speech_after if " " not in p}
        cues = rules.cues
        self.not_names = (
            frozenset(cues.not_names + cues.function_words + cues.organisation_words)
            | rules.unit_words
            | cue_words
        )
        self.place_words = frozenset(cues.place_words)
        self.place_tails = frozenset(cues.place_tails)
        self.facility_words = frozenset(cues.facility_words)
        self.former_words = frozenset(cues.former_words)
        self.unit_words = (rules.unit_words | frozenset(cues.organisation_words)) - self.place_words
        self.ranks = frozenset(cues.ranks)
        self.name_starts = frozenset(cues.name_starts)
        self.kept_prefixes = frozenset(w for w in cues.name_starts if w.endswith("."))
        self.address_words = frozenset(cues.address_words)
        self.titles = frozenset(cues.academic_titles)
        self.group_words = frozenset(cues.group_quantifiers)
        self.counting_words = frozenset(cues.counting_words)
        self.adverbs = frozenset(cues.function_words)
        self.position_words = frozenset(
            alias.split()[0] for p in rules.positions for alias in p.aliases
        )
        self.link_words = PhraseIndex(rules.cues.link_words)
        self.markers = PhraseIndex(rules.cues.initials_markers)
        self.case_verbs = PhraseIndex(rules.cues.case_verbs)
        self.recipient_words = PhraseIndex(rules.cues.recipient_words)
        self.witness_words = PhraseIndex(rules.cues.witness_words)
        self.not_a_person_after = PhraseIndex(rules.cues.not_a_person_after)
        self.object_fillers = frozenset(rules.cues.object_fillers)
        self.speech_after = PhraseIndex(rules.cues.speech_after)
        self.speaker_words = frozenset(rules.cues.speech_after)
        self.speech_before = PhraseIndex(rules.cues.speech_before)
        self.alleged = PhraseIndex(
            [p for group in rules.cues.allegation if group.weight >= 1.0 for p in group.phrases]
        )
        self.lowers: list[str] = []
        self.positions = {p.id: p for p in rules.positions}
        self.derived, self.lexicon = word_forms()
        self.region_tokens: set[int] = set()
        self.place_names: set[str] = set()
        self.in_headline = False  # the mention being read sits in a Title Case headline

    # --- entry point --------------------------------------------------------------

    def find(
        self, doc: Doc, spans: list[Span], regions: dict[int, tuple[RegionMention, int]]
    ) -> list[Mention]:
        starts = [sent.start for sent in doc.sentences]
        self.region_tokens = set(regions)
        self.lowers = doc.lowers
        self.place_names = self._place_names(doc)
        mentions = []
        headlines: dict[int, bool] = {}
        for span in spans:
            number = bisect_right(starts, span.start) - 1
            if number not in headlines:
                headlines[number] = _title_case(doc, number)
            mention = self._mention(doc, span, regions, number, headlines[number])
            if mention is not None:
                mentions.append(mention)
        span_starts = [s.start for s in spans if self.positions[s.label_].bound_to_neutrality]
        for mention in mentions:
            several = not mention.rule.specific or mention.counted  # "ketiga kades ..."
            if not mention.name and several and mention.bound:
                self._listed_later(doc, mention, span_starts)
        return [one for mention in mentions for one in _each_person(mention)]

    def _listed_later(self, doc: Doc, mention: Mention, span_starts: list[int]) -> None:
        """'4 perangkat desa setempat yakni A, B dan C' / 'dua ASN ..., berinisial AB dan CD':
        the people of a group named by a list later in the sentence, before any other title."""
        stop = doc[mention.start].sent.end
        following = [s for s in span_starts if s >= mention.end]
        limit = min(stop, mention.end + 25, following[0] if following else stop)
        for k in range(mention.end, limit):
            if doc[k].text in {".", "“", '"'}:
                return
            marker_end = self._marker_at(doc, k)
            if not marker_end:
                continue
            while self._marker_at(doc, marker_end):  # "masing-masing berinisial"
                marker_end = self._marker_at(doc, marker_end)
            start = marker_end + 1 if doc[marker_end].text in {",", ":"} else marker_end
            end = self._name_run(doc, start, stop, headline=False)
            if end > start and INITIALS.match(doc[start].text):
                end = start + 1
            if end > start and self._list_item_ends(doc, end, stop):
                self._set_name(mention, doc.span(start, end))
                self._more_names(doc, end, stop, mention)
            return

    @staticmethod
    def _list_item_ends(doc: Doc, k: int, stop: int) -> bool:
        token = doc[k] if k < stop else None
        return (
            token is None or token.text in {",", ".", ")", ";"} or token.is_lower or token.is_space
        )

    def _more_names(self, doc: Doc, end: int, stop: int, mention: Mention) -> int:
        """After a first name: ', B, C dan D' (each a name or initials) joins the list."""
        if not mention.name:
            return end
        while end < stop and doc[end].lower_ in {",", "dan", "serta"}:
            start = end + 1
            if start < stop and doc[start].lower_ in {"dan", "serta"}:
                start += 1
            run = self._name_run(doc, start, stop, headline=False)
            initials = run > start and bool(INITIALS.match(doc[start].text))
            if initials:
                run = start + 1  # "berinisial S dan R.A. S bertugas": one initials each
            if run == start:
                break
            if not initials and not self._list_item_ends(doc, run, stop):
                break
            words = self._name_words(doc.span(start, run))
            if words:
                mention.more_names.append(_clean_name(words))
            end = run
        return end

    def _place_names(self, doc: Doc) -> set[str]:
        """Capitalised words this article writes after a place or facility word ("Kecamatan
        Sakra Barat", "Puskesmas Sakra"): places, so never a person's name here."""
        found: set[str] = set()
        lowers, texts = doc.lowers, doc.texts
        for i, lower in enumerate(lowers[:-1]):
            if lower in self.place_words or lower in self.facility_words:
                nxt = texts[i + 1]
                if nxt[:1].isupper() and nxt.isalpha() and nxt.lower() not in self.not_names:
                    found.add(nxt)
        return found

    # --- one mention ----------------------------------------------------------------

    def _mention(
        self,
        doc: Doc,
        span: Span,
        regions: dict[int, tuple[RegionMention, int]],
        sent: int,
        headline: bool,
    ) -> Mention | None:
        rule = self.positions[span.label_]
        self.in_headline = headline
        sent_start = doc[span.start].sent.start
        if self.not_a_person_after.ends_at(self.lowers, span.start, sent_start):
            return None  # "Kantor Keuchik", "rumah jabatan Bupati": a place
        alias = " ".join(self.lowers[span.start : span.end])
        mention = Mention(rule=rule, start=span.start, end=span.end, sent=sent, alias=alias)
        sent_end = doc[span.start].sent.end
        i = self._attachments(doc, span.end, sent_end, mention, regions)
        if rule.requires_unit and not mention.unit:
            return None
        i = self._name_after(doc, i, sent_end, mention, headline)
        if not mention.name and mention.place_span and mention.place_span[0] == span.end:
            self._split_place(doc, mention, headline)  # not "... di Kecamatan Tanah Jambo Aye"
        mention.end = max(mention.end, i)
        self._name_before(doc, span.start, mention, headline)
        self._modifiers_before(doc, span.start, mention, span.end)
        mention.speaker_cue = self._speaker_cue(doc, mention)
        mention.case_verb = self._case_verb_before(doc, mention)
        sent_start = doc[span.start].sent.start
        mention.recipient = self.recipient_words.ends_at(self.lowers, span.start, sent_start) > 0
        return mention

    def _attachments(
        self,
        doc: Doc,
        i: int,
        stop: int,
        mention: Mention,
        regions: dict[int, tuple[RegionMention, int]],
    ) -> int:
        """Units, places, regions and bracketed abbreviations right after the title."""
        units: list[str] = []
        after_connector = False
        for _ in range(12):
            if i >= stop:
                break
            token = doc[i]
            if token.text == "(" and self._skip_brackets(doc, i, stop) is not None:
                i = self._skip_brackets(doc, i, stop) or i
                continue
            fresh = not (after_connector and i in regions)
            after_connector = False
            if (
                mention.rule.attaches == "place"
                and mention.place is None
                and token.is_alpha
                and fresh
            ):
                end = self._place(doc, i, stop)
                if end > i and doc[i].lower_ not in ("kabupaten", "kab", "kota", "kab."):
                    attach_place(mention, doc, i, end, self.place_words)
                    i = end
                    continue
            if i in regions:
                region_mention, end = regions[i]
                mention.region = mention.region or region_mention.region
                i = end
                continue
            lower = token.lower_
            if token.text == "," and i + 1 < stop and mention.rule.attaches != "none":
                following = doc[i + 1]
                if (i + 1 in regions and regions[i + 1][0].typed) or (
                    following.lower_ in self.place_words and mention.rule.attaches == "place"
                ):
                    i += 1  # "Kepala Desa X, Kecamatan Y, Kabupaten Z, Fulan"
                    continue
            if lower in CONNECTORS and mention.rule.attaches != "none":
                j = i + 1
                while j < stop and doc[j].lower_ in CONNECTOR_FILLERS:
                    j += 1
                if j < stop and (
                    j in regions
                    or doc[j].lower_ in self.place_words
                    or doc[j].lower_ in {"dinas", "badan", "kantor", "sekretariat", "kecamatan"}
                ):
                    i = j
                    after_connector = True
                    continue
            is_unit_word = lower in self.unit_words
            acronym = token.is_upper and token.is_alpha and 2 <= len(token) <= 8
            if token.text[:1].isdigit() and i + 2 < stop and doc[i + 1].text == "/":
                i += 3  # "Kodim 1608/Bima": the unit's number and seat
                continue
            numbered = bool(units) and token.text[:1].isdigit()  # "SMP Negeri 4", "Kodim 1608"
            if units and units[-1][:1].isdigit() and token.text[:1].isupper() and token.is_alpha:
                numbered = i not in regions  # "SMP Negeri 4 Binamu": the school's place
            if units and units[-1].lower() in self.facility_words and token.text[:1].isupper():
                numbered = numbered or (i + 1 < stop and doc[i + 1].text[:1].isdigit())
                # "SDN Moyoketen 1": the school's place and number belong to the unit
            if mention.rule.attaches == "unit" and (
                is_unit_word or (units and acronym) or numbered
            ):
                units.append(token.text)
                i += 1
                continue
            next_is_unit = i + 1 < stop and doc[i + 1].lower_ in self.unit_words
            joins_units = lower == "dan" and bool(units) and next_is_unit
            new_acronym = not units and acronym and lower not in self.not_names
            if mention.rule.attaches == "unit" and (joins_units or new_acronym):
                units.append(token.text)
                i += 1
                continue
            if mention.rule.attaches == "place" and mention.place is None:
                end = self._place(doc, i, stop)
                if end > i:
                    attach_place(mention, doc, i, end, self.place_words)
                    i = end
                    continue
            if lower in self.place_words and mention.rule.attaches == "place":
                end = self._place(doc, i, stop)
                if end > i:
                    i = end
                    continue
            break
        if units:
            mention.unit = " ".join(units)
        return i

    def _split_place(self, doc: Doc, mention: Mention, headline: bool) -> None:
        """'Kepala Desa Sukamaju Budi Santoso': the first word is the place, the rest the name."""
        assert mention.place_span is not None
        start, end = mention.place_span
        if doc[start].lower_ in self.place_words:
            start += 1
        if end - start < 2 or end < len(doc) and doc[end].text[:1].isupper():
            return  # the place may go on past the words read: no safe cut
        if self._named_after_comma(doc, end):
            return  # "Kepala Kampung Wanggar Pantai, Yulianus Waropen": all of it is the place
        starts = [k for k in range(start + 1, end) if doc[k].lower_ in self.name_starts]
        cut = starts[0] if starts else start + 1  # "Tejakula I Ketut Suardana"
        while not starts and cut < end and doc[cut].lower_ in self.place_tails:
            cut += 1
        rest = doc.span(cut, end)
        if len(rest) and all(self._is_name_token(t, headline) for t in rest):
            mention.place = doc.span(start, cut).text
            self._set_name(mention, rest)

    def _named_after_comma(self, doc: Doc, end: int) -> bool:
        """', Fulan,' or ', Kecamatan Y, Fulan' follows: the name is there, not in the place."""
        if end >= len(doc) or doc[end].text != ",":
            return False
        stop = doc[end].sent.end
        k = end + 1
        for _ in range(2):  # up to two places between: ", Kecamatan Y, Kabupaten Z,"
            if k < stop and doc[k].lower_ in self.place_words:
                place_end = self._place(doc, k, stop)
                if place_end < stop and doc[place_end].text == ",":
                    k = place_end + 1
        run = self._name_run(doc, k, stop, headline=False)
        closes = run >= stop or doc[run].text in {",", ".", ";", "("} or doc[run].is_lower
        return run > k and closes and doc[k].lower_ not in self.place_words

    def _place(self, doc: Doc, i: int, stop: int) -> int:
        j = i
        if j < stop and doc[j].lower_ in self.place_words:
            j += 1
        first = j
        while j < stop and j - first < 4:
            token = doc[j]
            if token.text == "-" and j + 1 < stop and doc[j + 1].text[:1].isupper():
                j += 2  # "Nipah-Nipah"
                continue
            if not token.is_alpha or not token.text[0].isupper():
                break
            if j == first and self._looks_like_verb(token.lower_):
                break  # later words of a place name ("Sindang Kelingi") may look like verbs
            if (
                self.in_headline
                and j > first
                and (token.lower_ in self.derived or self._looks_like_verb(token.lower_))
            ):
                break  # "Camat Tanjung Batu Berpose Jari": the headline's verb ends the place
            if token.lower_ in self.not_names and token.lower_ not in self.place_tails:
                break
            j += 1
        return j if j > first else i

    def _skip_brackets(self, doc: Doc, i: int, stop: int) -> int | None:
        """'(Sekda)' or '(Kadin Kominfo)' after a title: skip; '(berinisial Z)' is not skipped."""
        for j in range(i + 1, min(stop, i + 8)):
            if doc[j].text == ")":
                inner = doc.span(i + 1, j)
                if any(self._marker_at(doc, k) for k in range(i + 1, j)):
                    return None
                if (
                    len(inner) == 1
                    and INITIALS.match(inner.text)
                    and not self._is_known_word(inner[0])
                ):
                    return None
                return j + 1
        return None

    def _is_known_word(self, token: Token) -> bool:
        lower = token.lower_
        return (
            lower in self.not_names
            or lower in self.position_words
            or lower in self.rules.unit_words
            or lower.isdigit()
        )

    # --- names ----------------------------------------------------------------------

    def _is_prefix(self, text: str) -> bool:
        """Honorifics, ranks and dotted academic titles: carried along, never the name."""
        lower = text.lower()
        if lower in self.kept_prefixes or lower in self.address_words:
            return True
        if lower.rstrip(".") in self.ranks:
            return True
        return "." in text and lower.replace(".", "") in self.titles

    def _name_words(self, span: TokSpan) -> list[str]:
        """The words of a name: titles before it kept ("H. Lalu Suparman"), ranks and forms
        of address dropped; empty when nothing but titles is left."""
        words = [
            t.text
            for t in span
            if t.lower_ not in self.address_words and t.lower_.rstrip(".") not in self.ranks
        ]
        while words and words[-1].lower() not in self.kept_prefixes and self._is_prefix(words[-1]):
            words.pop()  # an academic title after the name
        if all(self._is_prefix(w) for w in words):
            return []
        return words

    def _is_name_token(self, token: Token, headline: bool) -> bool:
        text = token.text
        if self._is_prefix(text):
            return True
        if not text[:1].isupper() or not any(c.isalpha() for c in text):
            return False
        lower = token.lower_.rstrip(".")
        if lower in self.not_names or lower in self.position_words or lower in self.derived:
            return False
        if token.i in self.region_tokens or (lower.endswith("nya") and len(lower) > 5):
            return False
        if self._looks_like_verb(lower):
            return False
        parts = lower.split("-")
        if len(parts) == 2 and parts[0] == parts[1]:
            return False  # "Siap-Siap", "Bagi-Bagi": a reduplicated word
        return not (headline and lower in self.lexicon and not token.is_upper)

    def _looks_like_verb(self, lower: str) -> bool:
        """'Dilaporkan', 'Terekam', 'Selidiki' in headlines: affixed forms of known stems."""
        for prefix in VERB_PREFIXES:
            if not lower.startswith(prefix):
                continue
            stem = lower[len(prefix) :]
            for suffix in ("kan", "i", "an", ""):
                if suffix and not stem.endswith(suffix) or not (prefix or suffix):
                    continue
                root = stem[: -len(suffix)] if suffix else stem
                if len(root) >= 4 and root in self.lexicon:
                    return True
        return False

    def _name_run(self, doc: Doc, i: int, stop: int, headline: bool) -> int:
        """End of the name starting at i: up to four words past its titles and prefixes
        ("Drs. H. Muh. Arsyad Lamba", "Ni Luh Putu Ayu Wulandari")."""
        j, words = i, 0
        while j < stop and words < 4 and self._is_name_token(doc[j], headline):
            if not (self._is_prefix(doc[j].text) or doc[j].lower_ in self.name_starts):
                words += 1
            j += 1
        return j

    def _name_after(self, doc: Doc, i: int, stop: int, mention: Mention, headline: bool) -> int:
        if i >= stop:
            return i
        end = self._direct_name_after(doc, i, stop, mention, headline)
        if end > i or mention.name:
            return end
        end = self._bridged_name_after(doc, i, stop, mention)
        if end > i or mention.name:
            return end
        return self._distant_apposition(doc, i, stop, mention)

    def _distant_apposition(self, doc: Doc, i: int, stop: int, mention: Mention) -> int:
        """'Kepala Dusun (Dukuh) setempat, Tri Wahyono.' / '... sebuah kalurahan di Godean, X,'"""
        j = i
        while j < stop and j - i < 10:
            token = doc[j]
            if token.text == ",":
                break
            allowed = (
                token.text[:1].isupper()
                or token.text in {"(", ")"}
                or token.lower_ in APPOSITION_FILLERS
                or token.lower_ in self.rules.unit_words
            )
            if not allowed:
                return i
            j += 1
        if j >= stop or doc[j].text != ",":
            return i
        start = j + 1
        end = self._name_run(doc, start, stop, headline=False)
        closes = end >= stop or doc[end].text in {",", "."} or doc[end].lower_ == "dan"
        if end == start or not closes:
            return i
        self._set_name(mention, doc.span(start, end))
        return end

    def _bridged_name_after(self, doc: Doc, i: int, stop: int, mention: Mention) -> int:
        """'itu, Ferdy Mamesah,' / 'tersebut adalah Bambang' / 'sebut saja berinisial FH'."""
        j = i
        bridged = False
        while j < stop and j - i < 6:
            lower = doc[j].lower_
            if lower in BRIDGE_WORDS:
                bridged = bridged or lower != ","
                j += 1
                continue
            if lower.rstrip(".") in self.ranks and doc[j].text[:1].isupper() and bridged:
                j += 1  # a rank: "berpangkat Aipda"
                continue
            break
        if not bridged or j >= stop:
            return i
        marker_end = self._marker_at(doc, j)
        start = marker_end or j
        end = self._name_run(doc, start, stop, headline=False)
        if end == start:
            return i
        closes = end >= stop or doc[end].text in {",", ".", "(", ")"} or doc[end].is_lower
        if not closes:
            return i
        self._set_name(mention, doc.span(start, end))
        return self._more_names(doc, end, stop, mention) if marker_end else end

    def _direct_name_after(
        self, doc: Doc, i: int, stop: int, mention: Mention, headline: bool
    ) -> int:
        # "(berinisial Z)" / "berinisial AB" / "bernama Budi"
        j = i + 1 if doc[i].text in {"(", ","} else i  # "..., Kabupaten Z, bernama Sukarman"
        marker_end = self._marker_at(doc, j)
        if marker_end:
            j = marker_end
            if j < stop and doc[j].text in {"(", ","}:
                j += 1  # "berinisial (Z)", "berinisial, Sitti Faridah (SF)"
            end = self._name_run(doc, j, stop, headline=False)
            if end > j:
                self._set_name(mention, doc.span(j, end))
                end = self._more_names(doc, end, stop, mention)
                if end < stop and doc[end].text == ")":
                    end += 1
                return end
        if doc[i].text == "(":
            inner_end = i + 2
            if inner_end < stop and doc[inner_end].text == ")" and INITIALS.match(doc[i + 1].text):
                self._set_name(mention, doc.span(i + 1, i + 2))
                return inner_end + 1
        if i > 0 and doc[i - 1].lower_ in self.place_words:
            return self._place(doc, i - 1, stop)  # "... Kecamatan Seputih Raman": a place
        size = self._region_name_at(i, stop)
        after = i + size
        ends = after >= stop or doc[after].text in {",", ".", ")", ";"} or doc[after].is_lower
        if size and ends:
            i = after  # "Kepala Dinas Perhubungan Agam, Afrizal ...": a region, then the name
            if i >= stop:
                return i
        # "Sekda Kepahiang Hartono"
        end = self._name_run(doc, i, stop, headline)
        if end > i:
            self._set_name(mention, doc.span(i, end))
            return end
        # "Kepala Desa Sukamaju, Fulan, ..."
        if doc[i].text == "," and i + 1 < stop:
            end = self._name_run(doc, i + 1, stop, headline)
            closes = end >= stop or doc[end].text in {",", ".", "(", ")"} or doc[end].is_lower
            if end > i + 1 and closes:
                self._set_name(mention, doc.span(i + 1, end))
                return end
        return i

    def _region_name_at(self, i: int, stop: int) -> int:
        """Length of a kabupaten/kota name starting at token i ("Tanah Laut"), else 0."""
        for size in (4, 3, 2, 1):
            if i + size <= stop and tuple(self.lowers[i : i + size]) in self.region_names:
                return size
        return 0

    def _name_before(self, doc: Doc, start: int, mention: Mention, headline: bool) -> None:
        """'Budi, Kepala Desa X' / 'Zainuddin selaku Kapus Sakra': a linked name before the
        title wins over a word after it ("Sakra" is the puskesmas, not the person)."""
        sent_start = doc[start].sent.start
        j = start
        while j > sent_start and doc[j - 1].lower_ in {"seorang", "oknum", "sang"}:
            j -= 1
        size = self.link_words.ends_at(self.lowers, j, sent_start)
        linked = size > 0
        in_brackets = j - 1 >= sent_start and doc[j - 1].text == "("
        if (
            mention.name
            and not in_brackets
            and not (linked and self.lowers[j - 1] in {"selaku", "sebagai"})
        ):
            return
        j -= size
        bracketed = False
        if j - 1 >= sent_start and doc[j - 1].text == ",":
            j -= 1  # "Budi, Kepala Desa X" / "Sutarno, menjabat Kepala Seksi"
        elif not linked and j - 1 >= sent_start and doc[j - 1].text == "(":
            j -= 1  # "Rita Hastarita (Kepala Dinas ...)"
            if j - 3 >= sent_start and self.lowers[j - 3 : j - 1] == ["nomor", "urut"]:
                j -= 3  # "Oslan Junaidi nomor urut 56 (Staf Ahli ...)"
            bracketed = True
        elif not linked:
            return
        j = self._skip_trailing_titles(doc, j, sent_start)
        if j - 3 >= sent_start and doc[j - 1].text == ")" and doc[j - 2].like_num:
            j -= 3  # "RS (34), guru ..."
        end = j
        while j > sent_start and end - j < 4 and self._is_name_token(doc[j - 1], headline):
            j -= 1
        if j == end:
            return
        before = doc[j - 1] if j > sent_start else None
        if (
            before is not None
            and before.text[:1].isupper()
            and before.is_alpha
            and not linked
            and not (
                bracketed and before.lower_ in self.adverbs | self.not_names - self.speaker_words
            )
        ):
            return  # a bracketed post may follow a sentence opener: "Sementara Oslan Junaidi (...)"
        if bracketed and mention.name:
            mention.name = None  # the bracket names the post of the name before it
        self._set_name(mention, doc.span(j, end))

    def _skip_trailing_titles(self, doc: Doc, j: int, sent_start: int) -> int:
        """'Yusnidar, S.Pd, pengajar ...': step back over the titles to the name."""
        k = j
        while k - 1 >= sent_start and doc[k - 1].lower_.replace(".", "") in self.titles:
            k -= 1
            if k - 1 >= sent_start and doc[k - 1].text == ",":
                k -= 1
        return k if k < j else j

    def _set_name(self, mention: Mention, span: TokSpan) -> None:
        words = self._name_words(span)
        if not words or all(t.lower_.rstrip(".") in self.not_names for t in span):
            return
        if all(w.lower() in self.region_words or w in self.place_names for w in words):
            return  # "Kapolres Kupang", "Kapus Sakra": a region or a place of this article
        name = _clean_name(words)
        mention.name = name
        mention.initials = all(INITIALS.match(w) for w in words) and len(name.replace(".", "")) <= 4

    def _marker_at(self, doc: Doc, i: int) -> int:
        size = self.markers.length_at(self.lowers, i)
        return i + size if size else 0

    # --- context ----------------------------------------------------------------------

    def _modifiers_before(self, doc: Doc, start: int, mention: Mention, title_end: int) -> None:
        sent_start = doc[start].sent.start
        window = [t.lower_ for t in doc.span(max(sent_start, start - 3), start)]
        mention.oknum = "oknum" in window or mention.rule.aliases[0].startswith("oknum")
        mention.group = bool(window) and window[-1] in self.group_words
        mention.indefinite = bool(window) and window[-1] == "seorang"
        mention.counted = bool(window) and (
            window[-1] in self.counting_words or window[-1].isdigit()
        )
        mention.former = any(word in self.former_words for word in window)
        after = self.lowers[title_end : title_end + 2]  # "pejabat tersebut adalah X"
        mention.anaphoric = bool(after) and (after[0] in ANAPHORA or after == ["yang", "dimaksud"])

    def _case_verb_before(self, doc: Doc, mention: Mention) -> str | None:
        """'Warga melaporkan tiga perangkat desa ...': the verb whose object this mention is."""
        sent_start = doc[mention.start].sent.start
        k = mention.start
        while k > sent_start and (self.lowers[k - 1] in self.object_fillers or doc[k - 1].like_num):
            k -= 1
        size = self.case_verbs.ends_at(self.lowers, k, sent_start)
        return " ".join(self.lowers[k - size : k]) if size else None

    def _speaker_cue(self, doc: Doc, mention: Mention) -> str | None:
        """The words that make the mention a speaker (or one acting on the case), if any."""
        sent = doc[mention.start].sent
        for k in range(mention.end, min(mention.end + 16, sent.end)):
            if size := self.witness_words.length_at(self.lowers, k):
                return " ".join(
                    self.lowers[k : k + size]
                )  # "... dimintai keterangan selaku atasan"
        j = mention.end
        if j < sent.end and doc[j].text == ":":
            return ":"  # "Pj Wali Kota Padang: ASN yang ..."
        while j < sent.end and (
            doc[j].text in {",", "”", '"', "’", "'"}
            or ("." in doc[j].text and self._is_prefix(doc[j].text))  # ", M.Si., yang ..."
        ):
            j += 1
        if j < sent.end and self.lowers[j] == "yang":  # ", yang juga hadir sebagai X, menambahkan"
            close = next((k for k in range(j, min(j + 14, sent.end)) if self.lowers[k] == ","), 0)
            unclosed = min(j + 4, sent.end) if self.lowers[j + 1 : j + 2] != ["dimaksud"] else j
            for k in range(j + 1, close or unclosed):
                if size := self.speech_before.length_at(self.lowers, k):
                    return " ".join(self.lowers[k : k + size])  # "X, yang dikonfirmasi, ..."
                if self.alleged.length_at(self.lowers, k):
                    return None  # "X, yang diduga ..."
            j = close + 1 if close else j
        for k in range(j, min(j + 10, sent.end)):
            if self.alleged.length_at(self.lowers, k):
                return None  # "X diduga menerbitkan ...": the subject of an allegation
            if size := self.speech_before.length_at(self.lowers, k):
                return " ".join(self.lowers[k : k + size])
            text = doc[k].text
            adverb = self.lowers[k] in self.adverbs  # "Kapolsek X langsung memanggil ..."
            if (
                text in {".", "“", '"'}
                and k > j
                or (text.isalpha() and text.islower() and not adverb)
            ):
                break  # past an apposition (", Iptu Heriyanto,") the clause goes on
        k = mention.start
        while k > sent.start and doc[k - 1].text in {",", "”", '"', "’", "'"}:
            k -= 1
        while k > sent.start and doc[k - 1].lower_ in {"seorang", "sang", "oleh"}:
            k -= 1
        size = self.speech_after.ends_at(self.lowers, k, sent.start)
        return " ".join(self.lowers[k - size : k]) if size else None

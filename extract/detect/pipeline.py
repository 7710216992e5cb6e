"""The spaCy pipeline: blank Indonesian, abbreviation-aware tokens, sentences, position spans.

No trained model exists (or may be downloaded), so everything is rules: the tokenizer keeps
"Kab." or "S.Pd." whole so they do not end sentences, one component (spaCy's Sentencizer rule
plus line breaks) splits sentences, and a SpanRuler built from config/rules/positions.yaml
marks every position ("Sekda", "Kepala Dinas", "oknum ASN" ...) under
``doc.spans["positions"]``.
"""

from __future__ import annotations

import numpy
import spacy
from spacy.attrs import IS_PUNCT, IS_SPACE, ORTH, SENT_START
from spacy.language import Language
from spacy.pipeline import Sentencizer
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc

from extract.detect.rules import RuleSet

POSITIONS_KEY = "positions"

# Abbreviations that end with a dot but never end a sentence.
ABBREVIATIONS = [
    "Kab.", "Kec.", "Kel.", "Ds.", "Desa.", "Kota.", "Prov.", "No.", "Nomor.", "Jl.", "Jln.",
    "H.", "Hj.", "Dr.", "dr.", "Drs.", "Dra.", "Ir.", "Prof.", "Pj.", "Pjs.", "Plt.", "Plh.",
    "Sdr.", "Sdri.", "Bpk.", "Ny.", "Tn.", "Muh.", "Moh.", "Moch.", "Mhd.", "Mst.", "St.",
    "S.Pd.", "M.Pd.", "S.Pd.I.", "M.Si.", "S.Si.", "S.H.", "M.H.", "S.Sos.", "S.IP.", "S.E.",
    "M.M.", "M.Ak.", "A.Md.", "S.Kom.", "S.T.", "M.T.", "S.Ag.", "M.Ag.", "S.Kep.", "S.Km.",
    "S.Hut.", "S.P.", "Amd.", "Kep.", "Adm.", "Tbk.", "dll.", "dsb.", "dkk.", "a.n.", "u.p.",
    "Kol.", "Letkol.", "Mayor.", "Kapt.", "Serda.", "Sertu.", "Bripka.", "Brigpol.", "Aipda.",
    "Aiptu.", "Ipda.", "Iptu.", "AKP.", "Kompol.", "AKBP.", "Kombes.", "Dt.", "Tgk.", "KH.",
    "Rd.", "S.K.M.", "S.Kes.", "M.Kes.", "S.IP.", "M.AP.", "S.Sos.I.", "M.Pd.I.",
]  # fmt: skip


# spaCy's Sentencizer punctuation: a sentence ends after one of these (and any closing marks).
SENTENCE_ENDS = frozenset(Sentencizer.default_punct_chars)
# "... berinisial M, AR, dan Z. Mereka ...": a one-letter initial closing a list ends the
# sentence too (the tokenizer keeps "Z." whole, as it keeps "H." of "H. Lalu").
LETTER_DOTS = tuple(f"{chr(c)}." for c in range(ord("A"), ord("Z") + 1))
LIST_CLOSERS = frozenset({"dan", "serta"})  # not ",": "..., H. Ahmad" is a title


@Language.component("pantau_sentences")
def split_sentences(doc: Doc) -> Doc:
    """spaCy's Sentencizer rule plus "a line break starts a sentence", on arrays.

    Same boundaries as `sentencizer` followed by a paragraph component (titles and paragraphs
    lack final dots), without walking Token objects one by one: a sentence starts at the
    first token after an end mark that is neither punctuation nor another end mark, and
    after every whitespace token holding a line break. Every end mark is punctuation to
    spaCy, so only punctuation and whitespace tokens are read as text.
    """
    count = len(doc)
    if not count:
        return doc
    strings = doc.vocab.strings
    orth, is_punct, is_space = doc.to_array([ORTH, IS_PUNCT, IS_SPACE]).T
    punct_at = numpy.flatnonzero(is_punct)
    end_at = punct_at[[strings[o] in SENTENCE_ENDS for o in orth[punct_at].tolist()]]
    others = numpy.flatnonzero(is_punct == 0)
    after_end = numpy.searchsorted(others, end_at, side="right")
    space_at = numpy.flatnonzero(is_space)
    breaks = space_at[["\n" in strings[o] for o in orth[space_at].tolist()]] + 1
    starts = numpy.full(count, -1, dtype="int64")
    starts[0] = 1
    starts[others[after_end[after_end < len(others)]]] = 1
    starts[breaks[breaks < count]] = 1
    starts[_list_ending_initials(doc, orth) + 1] = 1
    doc.from_array([SENT_START], starts.astype("uint64").reshape(-1, 1))  # type: ignore[arg-type]
    return doc


def _list_ending_initials(doc: Doc, orth: numpy.ndarray) -> numpy.ndarray:
    """Positions of a one-letter initial ending a list, before a capitalised word."""
    letters = [doc.vocab.strings.add(text) for text in LETTER_DOTS]
    found = numpy.flatnonzero(numpy.isin(orth[1:-1], letters)) + 1
    return numpy.array(
        [
            i
            for i in found.tolist()
            if doc[i - 1].lower_ in LIST_CLOSERS and doc[i + 1].text[:1].isupper()
        ],
        dtype="int64",
    )


def _add_abbreviations(nlp: Language) -> None:
    tokenizer: Tokenizer = nlp.tokenizer
    for abbreviation in ABBREVIATIONS:
        for form in {abbreviation, abbreviation.upper(), abbreviation.lower()}:
            tokenizer.add_special_case(form, [{"ORTH": form}])


def build_nlp(rules: RuleSet) -> Language:
    nlp = spacy.blank("id")
    _add_abbreviations(nlp)
    nlp.add_pipe("pantau_sentences")
    ruler = nlp.add_pipe(
        "span_ruler",
        name="positions",
        config={
            "spans_key": POSITIONS_KEY,
            "phrase_matcher_attr": "LOWER",
            "overwrite": True,
        },
    )
    patterns = [
        {"label": position.id, "pattern": alias}
        for position in rules.positions
        for alias in position.aliases
    ]
    ruler.add_patterns(patterns)  # type: ignore[attr-defined]
    return nlp

"""The spaCy pipeline: blank Indonesian, abbreviation-aware tokens, sentences, position spans.

No trained model exists (or may be downloaded), so everything is rules: the tokenizer keeps
"Kab." or "S.Pd." whole so they do not end sentences, a sentencizer plus a paragraph component
split sentences, and a SpanRuler built from config/rules/positions.yaml marks every position
("Sekda", "Kepala Dinas", "oknum ASN" ...) under ``doc.spans["positions"]``.
"""

from __future__ import annotations

import spacy
from spacy.attrs import IS_SPACE
from spacy.language import Language
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
    "Aiptu.", "Ipda.", "Iptu.", "AKP.", "Kompol.", "AKBP.", "Kombes.",
]  # fmt: skip


@Language.component("pantau_paragraphs")
def paragraph_breaks(doc: Doc) -> Doc:
    """A line break always starts a new sentence (titles and paragraphs lack final dots)."""
    spaces = doc.to_array(IS_SPACE).tolist() if len(doc) else []
    for i, is_space in enumerate(spaces[:-1]):
        if is_space and "\n" in doc[i].text:
            doc[i + 1].is_sent_start = True
    return doc


def _add_abbreviations(nlp: Language) -> None:
    tokenizer: Tokenizer = nlp.tokenizer
    for abbreviation in ABBREVIATIONS:
        for form in {abbreviation, abbreviation.upper(), abbreviation.lower()}:
            tokenizer.add_special_case(form, [{"ORTH": form}])


def build_nlp(rules: RuleSet) -> Language:
    nlp = spacy.blank("id")
    _add_abbreviations(nlp)
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("pantau_paragraphs")
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

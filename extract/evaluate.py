"""Score the detector against a folder of labelled articles (labels.jsonl, the seeds format).

Figures, most expensive mistake first: accused precision (people wrongly named as accused, also
per 100 articles), accused recall, breach precision/recall/F1, verdict accuracy, how many
quoted (not accused) people were reported as accused, and region accuracy. A
predicted accused matches a labelled one when the names are equal ignoring case, dots and
academic titles, when one name's words are all in the other ("Hartono" / "Hartono Wijaya"),
or, for initials, when the letters are the same ("A.B." = "AB"). Each wrongly named and each
missed person comes with the sentence that decided it: the evidence sentence that made someone
accused, or where a missed person appears and the role the detector gave them there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extract.detect import Detector, Person, load_detector
from extract.models import Finding
from extract.regions import Gazetteer, load_gazetteer
from extract.text import ExtractionError, read_document
from pantau.core.settings import PantauError

SUFFIXES = (".txt", ".html", ".htm")


class EvaluationError(PantauError):
    """The folder or its labels.jsonl cannot be read."""


@dataclass
class ItemResult:
    id: str
    path: str
    expected: str
    predicted: str
    score: float
    expected_officials: list[str]
    predicted_officials: list[str]
    missed_officials: list[str]
    wrong_officials: list[str]
    quoted_as_accused: list[str]
    expected_region: str | None
    predicted_region: str | None
    region_ok: bool
    error: str | None = None
    # "<person>: <why> | <sentence>" for each wrongly named and each missed person
    wrong_why: list[str] = field(default_factory=list)
    missed_why: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.expected == self.predicted
            and not self.missed_officials
            and not self.wrong_officials
            and self.region_ok
        )


@dataclass
class EvalReport:
    directory: str
    items: list[ItemResult] = field(default_factory=list)

    def metrics(self) -> dict[str, Any]:
        items = [i for i in self.items if i.error is None]
        tp = sum(i.expected == "breach" and i.predicted == "breach" for i in items)
        fp = sum(i.expected != "breach" and i.predicted == "breach" for i in items)
        fn = sum(i.expected == "breach" and i.predicted != "breach" for i in items)
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        expected_names = sum(len(i.expected_officials) for i in items)
        found_names = expected_names - sum(len(i.missed_officials) for i in items)
        predicted_names = sum(len(i.predicted_officials) for i in items)
        right_names = predicted_names - sum(len(i.wrong_officials) for i in items)
        wrong_names = predicted_names - right_names
        return {
            "accused_precision": _ratio(right_names, predicted_names),
            "wrongly_named": wrong_names,
            "wrongly_named_per_100": round(100 * wrong_names / len(items), 1) if items else 0.0,
            "items": len(items),
            "errors": len(self.items) - len(items),
            "breach": {
                "precision": round(precision, 3),
                "recall": round(recall, 3),
                "f1": round(f1, 3),
                "tp": tp,
                "fp": fp,
                "fn": fn,
            },
            "verdict_accuracy": _ratio(sum(i.expected == i.predicted for i in items), len(items)),
            "advisory_as_breach": sum(
                i.expected == "advisory" and i.predicted == "breach" for i in items
            ),
            "accused": {
                "recall": _ratio(found_names, expected_names),
                "precision": _ratio(right_names, predicted_names),
                "expected": expected_names,
                "predicted": predicted_names,
                "quoted_as_accused": sum(len(i.quoted_as_accused) for i in items),
            },
            "region_accuracy": _ratio(sum(i.region_ok for i in items), len(items)),
        }

    def mistakes(self) -> list[ItemResult]:
        return [i for i in self.items if not i.ok or i.error]

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": self.directory,
            "metrics": self.metrics(),
            "mistakes": [vars(i) for i in self.mistakes()],
        }


def _ratio(numerator: int, denominator: int) -> float:
    return round(numerator / denominator, 3) if denominator else 1.0


# --- matching ---------------------------------------------------------------------------

# Titles written before a name: compared without them ("Dr. H. Abdul Hafid" is "Abdul Hafid").
_PREFIX_TITLES = frozenset(
    ["dr", "drs", "dra", "ir", "prof", "h", "hj", "kh", "hm", "sdr", "bpk", "ny", "tn"]
)


def normalise_name(name: str) -> str:
    name = re.sub(r"\(.*?\)", " ", name)
    name = name.split(",")[0]  # "Yusnimar, M.Pd.": academic titles follow a comma
    words = re.sub(r"[^\w\s]", " ", name).lower().split()
    while len(words) > 1 and words[0] in _PREFIX_TITLES:
        words = words[1:]
    return " ".join(words)


def _is_initials(name: str) -> bool:
    compact = re.sub(r"[.\s]", "", name)
    return compact.isupper() and compact.isalpha() and len(compact) <= 4


def names_match(predicted: str, expected: str) -> bool:
    if _is_initials(predicted) or _is_initials(expected):
        return re.sub(r"[.\s]", "", predicted).upper() == re.sub(r"[.\s]", "", expected).upper()
    a, b = normalise_name(predicted), normalise_name(expected)
    if not a or not b:
        return False
    if a == b:
        return True
    words_a, words_b = set(a.split()), set(b.split())
    shorter, longer = sorted((words_a, words_b), key=len)
    distinctive = len(shorter) >= 2 or all(len(w) >= 3 for w in shorter)
    return distinctive and shorter <= longer


def _official_label(official: dict[str, Any]) -> str:
    return official.get("name") or official.get("position") or "?"


def officials_match(predicted: dict[str, Any], expected: dict[str, Any]) -> bool:
    p_name, e_name = predicted.get("name"), expected.get("name")
    if p_name and e_name:
        return names_match(p_name, e_name)
    p_pos = (predicted.get("position") or "").lower()
    e_pos = (expected.get("position") or "").lower()
    return bool(
        p_pos and e_pos and not p_name and not e_name and (p_pos in e_pos or e_pos in p_pos)
    )


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def _person_matches(person: Person, expected: dict[str, Any]) -> bool:
    return officials_match({"name": person.name, "position": person.position}, expected)


def _why(person: Person) -> str:
    return f"{person.label()}: {person.role}, {person.reason} | {person.sentence}"


def _missed_why(expected: dict[str, Any], people: list[Person], text: str) -> str:
    """The role the detector gave a missed person, or the sentence where they appear."""
    label = _official_label(expected)
    for person in people:
        if person.role != "accused" and _person_matches(person, expected):
            return f"{label}: read as {person.role}, {person.reason} | {person.sentence}"
    needle = str(expected.get("name") or expected.get("position") or "").split("(")[0]
    words = [w for w in re.sub(r"[^\w\s]", " ", needle).split() if len(w) >= 2]
    for sentence in _SENTENCE_END.split(text):
        if words and all(w.lower() in sentence.lower() for w in words[-2:]):
            return f"{label}: not found as a person | {' '.join(sentence.split())}"
    return f"{label}: not found in the text"


# --- running ----------------------------------------------------------------------------


def load_labels(directory: Path) -> list[dict[str, Any]]:
    path = directory / "labels.jsonl"
    if not path.is_file():
        raise EvaluationError(f"{path}: labels file not found")
    labels = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvaluationError(f"{path}: line {number}: invalid JSON ({exc.msg})") from None
        if not isinstance(item, dict) or "id" not in item or "label" not in item:
            raise EvaluationError(f"{path}: line {number}: needs 'id' and 'label'")
        labels.append(item)
    return labels


def document_for(directory: Path, item_id: str) -> Path | None:
    """DIR/<id>.txt, or DIR/articles/<id>.txt (the layout of the shared real set)."""
    for folder in (directory, directory / "articles"):
        for suffix in SUFFIXES:
            candidate = folder / f"{item_id}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def _region_ok(
    expected: dict[str, Any] | str | None, finding: Finding, gazetteer: Gazetteer
) -> tuple[bool, str | None]:
    if not expected:
        return finding.region is None, None
    if isinstance(expected, str):  # the real set writes the region's name only
        expected = {"name": expected}
    code = expected.get("code")
    name = expected.get("name") or ""
    if not code:
        region = gazetteer.lookup(name) or gazetteer.lookup(expected.get("alias") or "")
        code = region.code if region else None
    label = f"{name} ({code})" if code else name
    if finding.region is None:
        return False, label
    if code:
        return finding.region.code == code, label
    return normalise_name(finding.region.name) == normalise_name(name), label


def evaluate_item(
    directory: Path, label: dict[str, Any], detector: Detector, gazetteer: Gazetteer
) -> ItemResult:
    item_id = str(label["id"])
    expected_officials = [o for o in label.get("officials") or [] if isinstance(o, dict)]
    path = document_for(directory, item_id)
    finding: Finding
    people: list[Person] = []
    text = ""
    error = None
    if path is None:
        error = "no .txt or .html file"
        finding = Finding.not_analysed(detector.version)
    else:
        try:
            _, article = read_document(path)
            text = f"{article.title}\n{article.text}"
            finding = Finding.not_analysed()
            if article.is_indonesian:
                explanation = detector.explain(article)
                finding, people = explanation.finding, explanation.people
        except ExtractionError as exc:
            error = str(exc)
            finding = Finding.not_analysed(detector.version)
    predicted = [o.to_dict() for o in finding.officials]
    missed_expected = [
        e for e in expected_officials if not any(officials_match(p, e) for p in predicted)
    ]
    missed = [_official_label(e) for e in missed_expected]
    wrong_predicted = [
        p for p in predicted if not any(officials_match(p, e) for e in expected_officials)
    ]
    wrong = [_official_label(p) for p in wrong_predicted]
    accused_people = [p for p in people if p.role == "accused"]
    wrong_why = [
        next(
            (
                _why(q)
                for q in accused_people
                if officials_match({"name": q.name, "position": q.position}, p)
            ),
            _official_label(p),
        )
        for p in wrong_predicted
    ]
    missed_why = [_missed_why(e, people, text) for e in missed_expected]
    quoted = [
        _official_label(p)
        for p in predicted
        if p.get("name")
        and any(
            names_match(str(p["name"]), str(q).split("(")[0].strip())
            for q in label.get("not_accused") or []
            if str(q).split("(")[0].strip()
        )
    ]
    region_ok, expected_region = _region_ok(label.get("region"), finding, gazetteer)
    predicted_region = f"{finding.region.name} ({finding.region.code})" if finding.region else None
    return ItemResult(
        id=item_id,
        path=str(path) if path else item_id,
        expected=str(label["label"]),
        predicted=finding.verdict,
        score=round(finding.score, 3),
        expected_officials=[_official_label(e) for e in expected_officials],
        predicted_officials=[_official_label(p) for p in predicted],
        missed_officials=missed,
        wrong_officials=wrong,
        quoted_as_accused=quoted,
        expected_region=expected_region,
        predicted_region=predicted_region,
        region_ok=region_ok,
        error=error,
        wrong_why=wrong_why,
        missed_why=missed_why,
    )


def evaluate_directory(
    directory: Path,
    detector: Detector | None = None,
    progress: Callable[[str], None] | None = None,
) -> EvalReport:
    if not directory.is_dir():
        raise EvaluationError(f"{directory}: not a folder")
    labels = load_labels(directory)
    detector = detector or load_detector()
    gazetteer = load_gazetteer()
    report = EvalReport(directory=str(directory))
    for label in labels:
        report.items.append(evaluate_item(directory, label, detector, gazetteer))
        if progress:
            progress(str(label["id"]))
    return report

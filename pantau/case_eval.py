"""Score copy folding and case linking against a labelled folder (`pantau eval-cases`).

The folder holds article files and a labels.jsonl whose entries carry `url` (the page's
canonical URL), `copy_of` (the id of the article it copies) and `case` (the case ids it
reports). Every file goes through the real ingest pipeline into a fresh database; then the
stories and cases are compared pairwise with the labels:

- copies folded: labelled copies in the same story as their original;
- false folds: two articles in one story that are not copies of each other;
- case pairs linked: two articles of one labelled case that share a saved case;
- false links: two articles sharing a saved case without sharing a labelled one.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extract.evaluate import load_labels
from extract.text import ExtractionError, read_document
from pantau.case_threads import refresh_cases
from pantau.core import store
from pantau.core.settings import PantauError, Settings
from pantau.core.store.cases import saved_cases, story_articles
from pantau.ingest import Ingestor

SUFFIXES = (".html", ".htm", ".txt")


class CaseEvalError(PantauError):
    """The folder or its labels cannot be read."""


@dataclass
class CaseScores:
    copies: int = 0
    copies_folded: int = 0
    case_pairs: int = 0
    case_pairs_linked: int = 0
    missed_copies: list[str] = field(default_factory=list)
    false_folds: list[tuple[str, str]] = field(default_factory=list)
    missed_links: list[tuple[str, str]] = field(default_factory=list)
    false_links: list[tuple[str, str]] = field(default_factory=list)
    not_stored: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        return {
            "copies_folded": f"{self.copies_folded}/{self.copies}",
            "false_folds": len(self.false_folds),
            "case_pairs_linked": f"{self.case_pairs_linked}/{self.case_pairs}",
            "false_links": len(self.false_links),
            "not_stored": len(self.not_stored),
        }


def load_case_labels(directory: Path) -> list[dict[str, Any]]:
    """The evaluator's labels.jsonl, each entry also naming its article's canonical URL."""
    labels = load_labels(directory)
    for number, item in enumerate(labels, start=1):
        if not item.get("url"):
            raise CaseEvalError(f"{directory / 'labels.jsonl'}: entry {number}: needs 'url'")
    return labels


def evaluate_cases(
    directory: Path, settings: Settings, progress: Callable[[str], None] | None = None
) -> CaseScores:
    labels = load_case_labels(directory)
    with tempfile.TemporaryDirectory(prefix="pantau-eval-cases-") as tmp:
        db = store.open_db(Path(tmp) / "eval.db")
        ingestor = Ingestor(db, settings)
        for label in labels:
            path = next(
                (
                    directory / f"{label['id']}{s}"
                    for s in SUFFIXES
                    if (directory / f"{label['id']}{s}").is_file()
                ),
                None,
            )
            if path is None:
                raise CaseEvalError(f"{directory}: no article file for {label['id']!r}")
            try:
                page, article = read_document(path, site=label.get("outlet") or "local")
                ingestor.ingest_article(page, article)
            except ExtractionError:
                pass  # counted below as not stored
            if progress:
                progress(label["id"])
        refresh_cases(db)
        story_of, cases_of = stored_groups(db)
        db.close()
    return score(labels, story_of, cases_of)


def stored_groups(db: Any) -> tuple[dict[str, int], dict[str, set[int]]]:
    """URL -> its story; URL -> the saved cases it belongs to."""
    story_of = {
        row["url"]: row["cluster_id"]
        for row in db.query("select url, cluster_id from articles where cluster_id is not null")
    }
    cases_of: dict[str, set[int]] = {}
    for case in saved_cases(db):
        for cluster_id in case.cluster_ids:
            for row in story_articles(db, cluster_id):
                cases_of.setdefault(row["url"], set()).add(int(case.id or 0))
    return story_of, cases_of


def score(
    labels: list[dict[str, Any]], story_of: dict[str, int], cases_of: dict[str, set[int]]
) -> CaseScores:
    by_id = {label["id"]: label for label in labels}
    scores = CaseScores(not_stored=[x["id"] for x in labels if x["url"] not in story_of])

    def original(item_id: str) -> str:
        source = by_id[item_id].get("copy_of")
        return original(str(source)) if source in by_id else item_id

    for label in labels:
        if label.get("copy_of") in by_id:
            scores.copies += 1
            source = by_id[label["copy_of"]]
            if story_of.get(label["url"]) is not None and story_of.get(
                label["url"]
            ) == story_of.get(source["url"]):
                scores.copies_folded += 1
            else:
                scores.missed_copies.append(label["id"])
    for a, b in itertools.combinations(labels, 2):
        same_story = story_of.get(a["url"]) is not None and story_of.get(a["url"]) == story_of.get(
            b["url"]
        )
        if same_story and original(a["id"]) != original(b["id"]):
            scores.false_folds.append((a["id"], b["id"]))
        labelled = set(a.get("case") or []) & set(b.get("case") or [])
        linked = bool(cases_of.get(a["url"], set()) & cases_of.get(b["url"], set()))
        if labelled:
            scores.case_pairs += 1
            if linked:
                scores.case_pairs_linked += 1
            else:
                scores.missed_links.append((a["id"], b["id"]))
        elif linked:
            scores.false_links.append((a["id"], b["id"]))
    return scores

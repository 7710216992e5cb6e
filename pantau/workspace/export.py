"""What leaves the workspace as files: the CSV of a filtered list, and reviews as eval data.

CSV: one row per accused person per story (a story naming nobody still gets one row), with
region codes, categories, outlets and review status, for an office's own reports. Cells
that a spreadsheet would run as a formula are prefixed with an apostrophe.

Feedback: every story with a decision becomes labelled articles in the folder format
`pantau eval` reads (DIR/labels.jsonl + DIR/<id>.txt, title on the first line, a blank
line, then the text), so reviews turn into evaluation data.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from alerts.categories import Catalog
from pantau.core.store import reviews, worklist
from pantau.core.store.worklist import StoryRow

CSV_COLUMNS = (
    "id_cerita",
    "judul",
    "putusan",
    "skor",
    "status_tinjauan",
    "tindak_lanjut",
    "kode_provinsi",
    "kode_wilayah",
    "wilayah",
    "provinsi",
    "nama_terduga",
    "jabatan_terduga",
    "wilayah_terduga",
    "kode_kategori",
    "kategori",
    "pertama_diberitakan",
    "jumlah_media",
    "media",
    "tautan_cerita",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_rows(rows: Iterable[StoryRow], catalog: Catalog, story_url: str) -> Iterable[list[str]]:
    """`story_url` holds `{id}`, replaced by each story's id."""
    for row in rows:
        people = row.officials or [{}]
        for person in people:
            values: list[Any] = [
                row.cluster_id,
                row.title,
                row.verdict,
                f"{row.score:.2f}",
                row.review_status,
                row.follow_up or "",
                (row.region_code or "").split(".")[0],
                row.region_code or "",
                row.region_name or "",
                row.province or "",
                person.get("name") or "",
                person.get("position") or "",
                person.get("region") or "",
                ";".join(row.violations),
                "; ".join(catalog.get(c).label for c in row.violations),
                row.first_seen or "",
                row.outlets,
                ";".join(row.sites),
                story_url.format(id=row.cluster_id),
            ]
            yield [spreadsheet_safe(v) for v in values]


def csv_text(rows: Iterable[StoryRow], catalog: Catalog, story_url: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_rows(rows, catalog, story_url))
    return buffer.getvalue()


# --- reviews as evaluation data ---------------------------------------------------------

# What a decision says about the detector's verdict. Dismissals for "other" reasons and
# duplicates say nothing about it, so they are not exported.
LABEL_FOR_REASON = {
    "not_asn": "other",
    "not_neutrality": "other",
    "advisory_only": "advisory",
    "wrong_person": "breach",
}


@dataclass
class FeedbackSummary:
    directory: Path
    stories: int = 0
    articles: int = 0
    skipped: int = 0


def feedback_label(row: StoryRow, state: reviews.ReviewState) -> dict[str, Any] | None:
    """The labels.jsonl entry (without id) a decision gives a story's articles, if any.

    Confirmed: a breach by the accused the detector named. "Wrong person": the act is real
    but the named people are not the accused, so they are listed as `not_accused` and the
    expected accused left empty (the detector should not name them).
    """
    region = (
        {"code": row.region_code, "name": row.region_name, "province": row.province}
        if row.region_code
        else None
    )
    officials = [
        {k: o.get(k) for k in ("name", "position", "region") if o.get(k)} for o in row.officials
    ]
    base: dict[str, Any] = {
        "region": region,
        "violation": row.violations[0] if row.violations else None,
        "review": {"status": state.status, "reason": state.reason, "story": row.cluster_id},
    }
    if state.status == "confirmed":
        return {"label": "breach", "officials": officials, "not_accused": [], **base}
    label = LABEL_FOR_REASON.get(state.reason or "")
    if state.status != "dismissed" or label is None:
        return None
    if state.reason == "wrong_person":
        named = [_person_text(o) for o in officials]
        return {"label": label, "officials": [], "not_accused": named, **base}
    return {"label": label, "officials": [], "not_accused": [], **base}


def _person_text(official: dict[str, Any]) -> str:
    name = official.get("name") or official.get("position") or "?"
    position = official.get("position")
    return f"{name} ({position})" if position and position != name else str(name)


def export_feedback(db: Database, directory: Path) -> FeedbackSummary:
    """Write DIR/labels.jsonl and one DIR/a<article id>.txt per article of a reviewed story."""
    directory.mkdir(parents=True, exist_ok=True)
    summary = FeedbackSummary(directory=directory)
    lines = []
    for cluster_id, state in reviews.reviewed_clusters(db).items():
        row = worklist.story(db, cluster_id)
        entry = feedback_label(row, state) if row else None
        if row is None or entry is None:
            summary.skipped += 1
            continue
        summary.stories += 1
        for article in worklist.story_articles(db, cluster_id):
            if not (article["text"] or "").strip():
                continue
            item_id = f"a{article['id']}"
            title = " ".join((article["title"] or "").split())
            (directory / f"{item_id}.txt").write_text(
                f"{title}\n\n{article['text'].strip()}\n", encoding="utf-8"
            )
            lines.append(
                json.dumps(
                    {"id": item_id, **entry, "notes": f"review of story {cluster_id}"},
                    ensure_ascii=False,
                )
            )
            summary.articles += 1
    (directory / "labels.jsonl").write_text(
        "".join(line + "\n" for line in lines), encoding="utf-8"
    )
    return summary

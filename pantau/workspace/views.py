"""Stories shaped for the pages: Indonesian words, local times, marked evidence.

Everything here is plain text; the templates escape it (Jinja2 autoescape), and marks are
(segment, is_marked) pairs so no scraped string ever becomes markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from alerts.categories import Catalog
from alerts.render import (
    accused_list,
    clean_text,
    format_moment,
    format_score,
    highlight,
    marked_segments,
    safe_url,
    severity,
    shorten,
)
from alerts.selection import Accused
from pantau.core.store.reviews import Review
from pantau.core.store.worklist import StoryRow
from pantau.workspace import labels

Segments = list[tuple[str, bool]]
TEXT_LIMIT = 60_000  # characters of article text shown on a story page


@dataclass
class StoryCard:
    cluster_id: int
    title: str
    verdict: str
    verdict_code: str
    score: str
    severity: str
    region: str
    accused: list[str]
    categories: list[str]
    first_seen: str
    outlets: int
    sites: list[str]
    status: str
    status_code: str
    follow_up: str | None


@dataclass
class CategoryView:
    label: str
    legal_basis: list[str]
    sanctions: list[str]


@dataclass
class OutletLine:
    name: str
    url: str | None
    shown_url: str
    time: str
    title: str


@dataclass
class HistoryLine:
    time: str
    what: str
    detail: str
    note: str | None
    reviewer: str
    office: str


@dataclass
class CaseEvent:
    label: str
    time: str
    url: str | None
    sentence: str


@dataclass
class CaseView:
    id: int
    stage: str
    stories: list[int]
    events: list[CaseEvent]


@dataclass
class StoryPage:
    card: StoryCard
    categories: list[CategoryView]
    evidence: list[Segments]
    outlets: list[OutletLine]
    text_title: str
    paragraphs: list[Segments]
    history: list[HistoryLine] = field(default_factory=list)
    duplicate_of: int | None = None
    cases: list[CaseView] = field(default_factory=list)


def region_text(row: StoryRow) -> str:
    name = clean_text(row.region_name)
    province = clean_text(row.province)
    if not name:
        return "Wilayah tidak teridentifikasi"
    return f"{name}, {province}" if province and province != name else name


def accused_people(row: StoryRow) -> list[Accused]:
    return [
        Accused(name=o.get("name"), position=o.get("position"), region=o.get("region"))
        for o in row.officials
    ]


def card(row: StoryRow, catalog: Catalog, zone: ZoneInfo) -> StoryCard:
    return StoryCard(
        cluster_id=row.cluster_id,
        title=shorten(row.title, 200) or "(tanpa judul)",
        verdict=labels.label(labels.VERDICTS, row.verdict),
        verdict_code=row.verdict,
        score=format_score(row.score),
        severity=severity(row.score),
        region=region_text(row),
        accused=accused_list(accused_people(row)),
        categories=[clean_text(catalog.get(c).label) for c in row.violations],
        first_seen=format_moment(row.first_seen, zone),
        outlets=row.outlets,
        sites=[shorten(site, 60) for site in row.sites],
        status=labels.label(labels.STATUSES, row.review_status),
        status_code=row.review_status,
        follow_up=labels.FOLLOW_UPS.get(row.follow_up or "") if row.follow_up else None,
    )


def story_page(
    row: StoryRow,
    articles: list[dict[str, Any]],
    history: list[Review],
    catalog: Catalog,
    zone: ZoneInfo,
    cases: list[dict[str, Any]] | None = None,
    office_names: dict[str, str] | None = None,
) -> StoryPage:
    names = [t for p in accused_people(row) for t in (p.name, p.position) if t]
    cues = catalog.cues(row.violations)
    best = next((a for a in articles if a["id"] == row.best_article_id), articles[0])
    return StoryPage(
        card=card(row, catalog, zone),
        categories=[
            CategoryView(
                label=clean_text(catalog.get(c).label),
                legal_basis=list(catalog.get(c).legal_basis),
                sanctions=list(catalog.get(c).sanctions),
            )
            for c in row.violations
        ],
        evidence=[highlight(clean_text(s), names, cues) for s in row.evidence if clean_text(s)],
        outlets=[outlet_line(a, zone) for a in articles],
        text_title=shorten(best.get("title"), 300),
        paragraphs=marked_paragraphs(best.get("text") or "", row.evidence),
        history=[history_line(r, zone, office_names or {}) for r in reversed(history)],
        duplicate_of=history[-1].duplicate_of if history else None,
        cases=[case_view(case, zone) for case in cases or []],
    )


def case_view(case: dict[str, Any], zone: ZoneInfo) -> CaseView:
    events = [
        CaseEvent(
            label=clean_text(event.get("label") or event.get("stage")),
            time=format_moment(event.get("date"), zone),
            url=safe_url(event.get("url")),
            sentence=shorten(event.get("sentence"), 400),
        )
        for event in case["events"]
    ]
    stage = next(
        (clean_text(e["label"]) for e in case["events"] if e.get("stage") == case["stage"]),
        clean_text(case["stage"]),
    )
    return CaseView(id=int(case["id"]), stage=stage, stories=case["stories"], events=events)


def outlet_line(article: dict[str, Any], zone: ZoneInfo) -> OutletLine:
    return OutletLine(
        name=shorten(article.get("sitename") or article.get("site"), 100),
        url=safe_url(article.get("url")),
        shown_url=shorten(article.get("url"), 120),
        time=format_moment(article.get("published") or article.get("fetched_at"), zone),
        title=shorten(article.get("title"), 200),
    )


def history_line(review: Review, zone: ZoneInfo, office_names: dict[str, str]) -> HistoryLine:
    detail = ""
    if review.action == "dismiss":
        detail = labels.label(labels.REASONS, review.reason, "")
    elif review.action == "duplicate":
        detail = f"duplikat dari cerita {review.duplicate_of}"
    elif review.action == "follow_up":
        detail = labels.label(labels.FOLLOW_UPS, review.follow_up, "")
    return HistoryLine(
        time=format_moment(review.created_at, zone),
        what=labels.label(labels.ACTIONS, review.action),
        detail=detail,
        note=review.note,
        reviewer=clean_text(review.reviewer) or "-",
        office=clean_text(office_names.get(review.office or "", review.office)) or "-",
    )


def marked_paragraphs(text: str, evidence: list[str]) -> list[Segments]:
    """The article's paragraphs, with its evidence sentences marked where they occur."""
    sentences = [clean_text(s) for s in evidence if len(clean_text(s)) >= 12]
    paragraphs = []
    for raw in re.split(r"\n\s*\n|\n", text[:TEXT_LIMIT]):
        paragraph = clean_text(raw)
        if paragraph:
            paragraphs.append(_mark_sentences(paragraph, sentences))
    return paragraphs


def _mark_sentences(paragraph: str, sentences: list[str]) -> Segments:
    spans = []
    for sentence in sentences:
        start = paragraph.find(sentence)
        if start >= 0:
            spans.append((start, start + len(sentence)))
    return marked_segments(paragraph, spans)

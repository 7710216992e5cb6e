"""Keep the saved case threads in step with the stored breach stories.

Wires the store (breach stories, saved cases) to the linker in `extract.cases`; run by
`pantau cases` and before each digest, so both see the same cases.
"""

from __future__ import annotations

from dataclasses import asdict

from sqlite_utils import Database

from extract.cases import Accused, CaseThread, ReportArticle, StoryReport, link_cases
from pantau.core.store.cases import CaseRecord, StoryRow, breach_stories, save_cases


def refresh_cases(db: Database) -> list[CaseRecord]:
    """Link every breach story into cases and save them; returns the cases, oldest first."""
    rows = {row.cluster_id: row for row in breach_stories(db)}
    threads = link_cases([story_report(row) for row in rows.values()])
    return save_cases(db, [case_record(thread, rows) for thread in threads])


def story_report(row: StoryRow) -> StoryReport:
    accused: list[Accused] = []
    for official in row.officials:
        person = Accused(official.get("name"), official.get("position"))
        if person not in accused:
            accused.append(person)
    return StoryReport(
        story_id=row.cluster_id,
        region_code=row.region_code,
        accused=tuple(accused),
        violations=tuple(row.violations),
        articles=tuple(
            ReportArticle(
                article_id=a["id"],
                url=a["url"],
                site=a["site"],
                published=a["published"],
                title=a["title"] or "",
                text=a["text"] or "",
            )
            for a in row.articles
        ),
    )


def case_record(thread: CaseThread, rows: dict[int, StoryRow]) -> CaseRecord:
    region = next(
        (
            rows[s.story_id]
            for s in thread.stories
            if rows[s.story_id].region_code == thread.region_code
        ),
        None,
    )
    dates = [a.published for s in thread.stories for a in s.articles if a.published]
    return CaseRecord(
        id=None,
        cluster_ids=thread.story_ids,
        region_code=thread.region_code,
        region_name=region.region_name if region else None,
        province=region.province if region else None,
        accused=[asdict(person) for person in thread.accused],
        violations=thread.violations,
        stage=thread.stage,
        first_seen=min(dates) if dates else None,
        updated_at=max(dates) if dates else None,
        events=[
            {
                "stage": e.stage,
                "label": e.label,
                "date": e.date,
                "article_id": e.article_id,
                "url": e.url,
                "sentence": e.sentence,
            }
            for e in thread.timeline
        ],
    )

"""Queries of case threads: the breach stories to link, and the cases with stable ids."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from pantau.core.store.connection import region_clause, utcnow
from pantau.core.store.findings import LATEST_FINDING


@dataclass
class StoryRow:
    """A story with a breach finding, as the case linker needs it."""

    cluster_id: int
    region_code: str | None
    region_name: str | None
    province: str | None
    officials: list[dict[str, Any]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    articles: list[dict[str, Any]] = field(default_factory=list)


def breach_stories(db: Database) -> list[StoryRow]:
    """Every story whose articles' latest findings include a breach, oldest first.

    The accused and categories are the union over its breach findings; the region is the
    one its breach findings name most often (ties: the more specific code).
    """
    rows = db.query(
        f"""
        select a.cluster_id, f.officials, f.violations, f.region_code, f.region_name,
               f.province
        from articles a join findings f on f.article_id = a.id
        where {LATEST_FINDING} and f.verdict = 'breach' and a.cluster_id is not null
        order by a.cluster_id, a.id
        """
    )
    stories: dict[int, StoryRow] = {}
    regions: dict[int, list[tuple[str, str, str]]] = {}
    for row in rows:
        story = stories.setdefault(row["cluster_id"], StoryRow(row["cluster_id"], None, None, None))
        story.officials.extend(json.loads(row["officials"] or "[]"))
        story.violations.extend(
            v for v in json.loads(row["violations"] or "[]") if v not in story.violations
        )
        if row["region_code"]:
            regions.setdefault(story.cluster_id, []).append(
                (row["region_code"], row["region_name"], row["province"])
            )
    for cluster_id, named in regions.items():
        code, name, province = max(named, key=lambda r: (named.count(r), len(r[0])))
        story = stories[cluster_id]
        story.region_code, story.region_name, story.province = code, name, province
    for story in stories.values():
        story.articles = story_articles(db, story.cluster_id)
    return sorted(stories.values(), key=lambda s: s.cluster_id)


def story_articles(db: Database, cluster_id: int) -> list[dict[str, Any]]:
    return list(
        db.query(
            "select id, url, site, title, text, coalesce(published, fetched_at) as published "
            "from articles where cluster_id = ? order by coalesce(published, fetched_at), id",
            [cluster_id],
        )
    )


def case_memberships(db: Database) -> dict[int, set[int]]:
    """Case id -> its story (cluster) ids, as last saved."""
    members: dict[int, set[int]] = {}
    for row in db.query("select case_id, cluster_id from case_stories"):
        members.setdefault(row["case_id"], set()).add(row["cluster_id"])
    return members


@dataclass
class CaseRecord:
    """A case as stored: what `pantau cases` prints and the digest reads."""

    id: int | None
    cluster_ids: list[int]
    region_code: str | None
    region_name: str | None
    province: str | None
    accused: list[dict[str, Any]]
    violations: list[str]
    stage: str
    first_seen: str | None
    updated_at: str | None
    events: list[dict[str, Any]] = field(default_factory=list)


def save_cases(db: Database, cases: Iterable[CaseRecord]) -> list[CaseRecord]:
    """Replace the saved cases, keeping each id with the case that grew from it.

    A new case takes the id of the saved case it shares the most stories with (each id
    once, the older first); a case with no such ancestor gets a new id, and ids of cases
    that merged into another are never reused.
    """
    old = case_memberships(db)
    cases = list(cases)
    claimed: set[int] = set()
    order = sorted(range(len(cases)), key=lambda i: -len(cases[i].cluster_ids))
    for i in order:
        case = cases[i]
        shared = [
            (len(members & set(case.cluster_ids)), -case_id)
            for case_id, members in old.items()
            if case_id not in claimed and members & set(case.cluster_ids)
        ]
        if shared:
            case.id = -max(shared)[1]
            claimed.add(case.id)
    now = utcnow()
    with db.conn:
        db.execute("delete from case_events")
        db.execute("delete from case_stories")
        db.execute(
            f"delete from cases where id not in ({','.join('?' * len(claimed))})", list(claimed)
        )
        for case in cases:
            write_case(db, case, now)
    return cases


def write_case(db: Database, case: CaseRecord, now: str) -> None:
    record = {
        "region_code": case.region_code,
        "region_name": case.region_name,
        "province": case.province,
        "accused": json.dumps(case.accused, ensure_ascii=False),
        "violations": json.dumps(case.violations),
        "stage": case.stage,
        "first_seen": case.first_seen,
        "updated_at": case.updated_at,
    }
    if case.id is None:
        case.id = db.table("cases").insert({**record, "created_at": now}).last_rowid
    else:
        db.table("cases").upsert({"id": case.id, **record, "created_at": now}, pk="id")
    db.table("case_stories").insert_all(
        ({"case_id": case.id, "cluster_id": c} for c in case.cluster_ids), pk=None
    )
    db.table("case_events").insert_all(
        {"case_id": case.id, "seq": seq, **event} for seq, event in enumerate(case.events)
    )


def saved_cases(
    db: Database,
    region_prefix: str | None = None,
    since: str | None = None,
    cluster_id: int | None = None,
) -> Iterator[CaseRecord]:
    """Saved cases, oldest first; `region_prefix` a province or kabupaten/kota code,
    `cluster_id` a story the cases must hold."""
    where: list[str] = ["1 = 1"]
    params: list[Any] = []
    if cluster_id is not None:
        where.append("id in (select case_id from case_stories where cluster_id = ?)")
        params.append(cluster_id)
    if region_prefix:
        clause, values = region_clause([region_prefix])
        where.append(clause)
        params += values
    if since:
        where.append("updated_at >= ?")
        params.append(since)
    members = case_memberships(db)
    for row in db.query(
        f"select * from cases where {' and '.join(where)} order by first_seen, id", params
    ):
        yield CaseRecord(
            id=row["id"],
            cluster_ids=sorted(members.get(row["id"], ())),
            region_code=row["region_code"],
            region_name=row["region_name"],
            province=row["province"],
            accused=json.loads(row["accused"] or "[]"),
            violations=json.loads(row["violations"] or "[]"),
            stage=row["stage"],
            first_seen=row["first_seen"],
            updated_at=row["updated_at"],
            events=list(
                db.query(
                    "select stage, label, date, article_id, url, sentence from case_events "
                    "where case_id = ? order by seq",
                    [row["id"]],
                )
            ),
        )


@dataclass(frozen=True)
class StoryInCase:
    """Where one story stands in one case: the furthest stage its own articles report."""

    case_id: int
    stage: str
    label: str
    date: str | None


def cases_of_stories(db: Database, cluster_ids: Iterable[int]) -> dict[int, list[StoryInCase]]:
    """Story id -> the saved cases it belongs to, with the stage it reports in each."""
    ids = list(cluster_ids)
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    found: dict[int, list[StoryInCase]] = {}
    for row in db.query(
        f"""
        select cs.cluster_id, cs.case_id, c.stage as case_stage,
          (select e.stage || char(31) || e.label || char(31) || coalesce(e.date, '')
           from case_events e join articles a on a.id = e.article_id
           where e.case_id = cs.case_id and a.cluster_id = cs.cluster_id
           order by e.seq desc limit 1) as reached
        from case_stories cs join cases c on c.id = cs.case_id
        where cs.cluster_id in ({marks})
        order by cs.cluster_id, cs.case_id
        """,
        ids,
    ):
        stage, label, date = (row["reached"] or "reported\x1fDilaporkan\x1f").split("\x1f")
        found.setdefault(row["cluster_id"], []).append(
            StoryInCase(row["case_id"], stage, label, date or None)
        )
    return found

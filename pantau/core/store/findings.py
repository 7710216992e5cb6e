"""Findings: one per article and analyzer version, and which of them is the article's latest.

"The latest finding of an article" is defined here once, as the most recent analysis
(`analyzed_at`, then the row id for analyses within the same second). Not the highest id:
re-analysis upserts the row of its analyzer version, so after a rollback to an earlier
detector and `pantau reanalyze`, the earlier version's row (older id) holds the newest
verdict. Every query that needs an article's current verdict (the findings list, stories,
the digest, the demo summary) uses `LATEST_FINDING`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlite_utils import Database

from pantau.core.store.connection import placeholders, region_clause, utcnow

# For a query over `articles a join findings f on f.article_id = a.id`: keep only each
# article's latest finding.
LATEST_FINDING = """
    f.id = (select f2.id from findings f2 where f2.article_id = a.id
            order by f2.analyzed_at desc, f2.id desc limit 1)
"""

_FINDING_KEY = ("article_id", "analyzer_version")


def save_finding(
    db: Database, article_id: int, finding: dict[str, Any], analyzer_version: str
) -> None:
    """One finding per article and analyzer version; re-analysis replaces it."""
    region = finding.get("region") or {}
    row = {
        "article_id": article_id,
        "analyzer_version": analyzer_version,
        "verdict": finding["verdict"],
        "score": finding["score"],
        "officials": json.dumps(finding.get("officials", []), ensure_ascii=False),
        "region_code": region.get("code"),
        "region_name": region.get("name"),
        "province": region.get("province"),
        "violations": json.dumps(finding.get("violations", []), ensure_ascii=False),
        "evidence": json.dumps(finding.get("evidence", []), ensure_ascii=False),
        "analyzed_at": utcnow(),
    }
    # Plain SQL: sqlite-utils' upsert reads the table's schema on every call.
    updates = ", ".join(f"{k} = excluded.{k}" for k in row if k not in _FINDING_KEY)
    db.execute(
        f"insert into findings ({', '.join(row)}) values ({', '.join('?' for _ in row)}) "
        f"on conflict (article_id, analyzer_version) do update set {updates}",
        list(row.values()),
    )


def _decode_finding(row: dict[str, Any]) -> dict[str, Any]:
    region = None
    if row.get("region_code"):
        region = {
            "code": row["region_code"],
            "name": row["region_name"],
            "province": row["province"],
        }
    return {
        "verdict": row["verdict"],
        "score": row["score"],
        "officials": json.loads(row["officials"] or "[]"),
        "region": region,
        "violations": json.loads(row["violations"] or "[]"),
        "evidence": json.loads(row["evidence"] or "[]"),
        "analyzer_version": row["analyzer_version"],
    }


def latest_findings(
    db: Database,
    *,
    verdicts: tuple[str, ...] | None = None,
    region_prefix: str | None = None,
    since: str | None = None,
) -> Iterator[dict[str, Any]]:
    """The latest finding per article, joined with its article and story cluster."""
    where = [LATEST_FINDING]
    params: list[Any] = []
    if verdicts:
        where.append(f"f.verdict in ({placeholders(verdicts)})")
        params.extend(verdicts)
    if region_prefix:
        clause, values = region_clause([region_prefix], "f.region_code")
        where.append(clause)
        params.extend(values)
    if since:
        where.append("coalesce(a.published, a.fetched_at) >= ?")
        params.append(since)
    sql = f"""
        select a.id as article_id, a.url, a.site, a.title, a.published, a.fetched_at,
               a.cluster_id, f.*
        from articles a join findings f on f.article_id = a.id
        where {" and ".join(where)}
        order by coalesce(a.published, a.fetched_at), a.id
    """
    for row in db.query(sql, params):
        finding = _decode_finding(row)
        finding.update(
            article_id=row["article_id"],
            url=row["url"],
            site=row["site"],
            title=row["title"],
            published=row["published"],
            fetched_at=row["fetched_at"],
            cluster_id=row["cluster_id"],
        )
        yield finding


def cluster_verdicts(db: Database, cluster_id: int) -> list[dict[str, Any]]:
    """The latest verdict and score of every article of a story."""
    return list(
        db.query(
            "select f.verdict, f.score, f.article_id from articles a join findings f "
            f"on f.article_id = a.id and {LATEST_FINDING} where a.cluster_id = ?",
            [cluster_id],
        )
    )


def verdict_counts(db: Database, sites: list[str]) -> dict[str, int]:
    """The latest verdict of every article of these sites, counted."""
    rows = db.execute(
        "select f.verdict, count(*) from articles a join findings f on f.article_id = a.id "
        f"where a.site in ({placeholders(sites)}) and {LATEST_FINDING} group by f.verdict",
        sites,
    )
    return dict(rows.fetchall())


def articles_to_analyze(
    db: Database, analyzer_version: str, *, every: bool = False
) -> list[dict[str, Any]]:
    """Indonesian (or unknown-language) articles whose latest finding is not by this
    analyzer version (all of them with `every`): after an upgrade or a rollback,
    `pantau reanalyze` brings exactly these up to the running detector."""
    where = "(a.lang is null or a.lang = 'id')"
    params: list[Any] = []
    if not every:
        where += (
            " and not exists (select 1 from findings f where f.article_id = a.id "
            f"and f.analyzer_version = ? and {LATEST_FINDING})"
        )
        params.append(analyzer_version)
    return list(
        db.query(
            "select a.id, a.url, a.site, a.title, a.text, a.published, a.lang, a.cluster_id "
            f"from articles a where {where} order by a.id",
            params,
        )
    )

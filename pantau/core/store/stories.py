"""Stories (dedup clusters): which exist, how their articles joined, which one is serious."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from pantau.core.store.connection import insert_returning_id, placeholders, utcnow
from pantau.core.store.findings import LATEST_FINDING
from pantau.core.store.reviews import LATEST_REVIEW

# A story whose latest review dismissed it is reported to nobody.
DISMISSED_CLUSTERS = f"""
    select r.cluster_id from reviews r where {LATEST_REVIEW} and r.status = 'dismissed'
"""


def new_story(db: Database, article_id: int, title: str, first_seen: str) -> int:
    """A story started by one article; returns its id."""
    now = utcnow()
    return insert_returning_id(
        db,
        "clusters",
        {
            "first_article_id": article_id,
            "first_seen": first_seen,
            "title": title,
            "created_at": now,
            "updated_at": now,
        },
    )


def first_article(db: Database, cluster_id: int) -> tuple[int, str | None] | None:
    """A story's first (original) article and when it came out."""
    row = db.execute(
        "select first_article_id, first_seen from clusters where id = ?", [cluster_id]
    ).fetchone()
    return (row[0], row[1]) if row else None


def set_first_article(
    db: Database, cluster_id: int, article_id: int, title: str, first_seen: str | None
) -> None:
    """Make an article the story's original: the story takes its title and time."""
    db.execute(
        "update clusters set first_article_id = ?, first_seen = ?, title = ? where id = ?",
        [article_id, first_seen, title, cluster_id],
    )


def earliest_article_but(
    db: Database, cluster_id: int, article_id: int
) -> tuple[int, str, str | None] | None:
    """The story's earliest article other than this one: (id, title, when it came out)."""
    row = db.execute(
        "select id, title, coalesce(published, fetched_at) as seen from articles "
        "where cluster_id = ? and id != ? order by seen, id limit 1",
        [cluster_id, article_id],
    ).fetchone()
    return (row[0], row[1], row[2]) if row else None


def touch_story(db: Database, cluster_id: int, moment: str | None = None) -> None:
    """The story changed (an article joined or left) at this moment, else now."""
    db.execute("update clusters set updated_at = ? where id = ?", [moment or utcnow(), cluster_id])


def stories_with(db: Database, min_articles: int = 1) -> list[dict[str, Any]]:
    """Every story with at least `min_articles` articles, most recently grown first."""
    return list(
        db.query(
            "select c.id, c.title, c.first_article_id, c.first_seen, c.created_at, "
            "c.updated_at, count(a.id) as size from clusters c "
            "join articles a on a.cluster_id = c.id group by c.id having count(a.id) >= ? "
            "order by c.updated_at desc, c.id desc",
            [min_articles],
        )
    )


def dedup_matches(db: Database, cluster_id: int) -> dict[int, dict[str, Any]]:
    """How each article joined the story (method, similarity), by article id."""
    return {
        row["article_id"]: row
        for row in db.query(
            "select m.* from dedup_matches m join articles a on a.id = m.article_id "
            "where a.cluster_id = ?",
            [cluster_id],
        )
    }


def copy_sources(db: Database, cluster_id: int) -> dict[int, int]:
    """Per article of a story but the earliest, the article it copied: the one it was
    verified against when that one came out no later, else the story's earliest article."""
    rows = list(
        db.query(
            "select a.id, m.matched_article_id from articles a "
            "left join dedup_matches m on m.article_id = a.id where a.cluster_id = ? "
            "order by coalesce(a.published, a.fetched_at), a.id",
            [cluster_id],
        )
    )
    rank = {row["id"]: n for n, row in enumerate(rows)}
    sources: dict[int, int] = {}
    for n, row in enumerate(rows[1:], start=1):
        matched = row["matched_article_id"]
        sources[row["id"]] = matched if rank.get(matched, n) < n else rows[0]["id"]
    return sources


def clear_dedup_index(db: Database) -> None:
    """Forget the copy-finding index's parameters, so it is rebuilt from stored texts."""
    db.execute("delete from dedup_meta")


def shared_clusters(db: Database, sites: list[str]) -> list[int]:
    """Stories carried by more than one of these sites."""
    rows = db.execute(
        f"select cluster_id from articles where site in ({placeholders(sites)}) "
        "and cluster_id is not null group by cluster_id having count(distinct site) > 1 "
        "order by cluster_id",
        sites,
    ).fetchall()
    return [cluster_id for (cluster_id,) in rows]


def best_breach_findings(
    db: Database,
    *,
    threshold: float,
    exclude_sent_to: str | None = None,
    cluster_ids: list[int] | None = None,
) -> dict[int, dict[str, Any]]:
    """Per story not dismissed, the highest-scoring latest breach finding at or above the
    threshold. Ties go to a finding that names a region, then to the earliest article."""
    where = ["a.cluster_id is not null", "f.verdict = 'breach'", "f.score >= ?", LATEST_FINDING]
    params: list[Any] = [threshold]
    where.append(f"a.cluster_id not in ({DISMISSED_CLUSTERS})")
    if exclude_sent_to is not None:
        where.append(
            "a.cluster_id not in (select cluster_id from deliveries "
            "where office = ? and status not in ('failed', 'withdrawn'))"
        )
        params.append(exclude_sent_to)
    if cluster_ids is not None:
        where.append(f"a.cluster_id in ({placeholders(cluster_ids)})")
        params.extend(cluster_ids)
    sql = f"""
        select a.id as article_id, a.cluster_id, a.title, f.score, f.officials, f.region_code,
               f.region_name, f.province, f.violations, f.evidence,
               coalesce(a.published, a.fetched_at) as seen
        from articles a join findings f on f.article_id = a.id
        where {" and ".join(where)}
        order by a.cluster_id, f.score desc, (f.region_code is null), seen, a.id
    """
    best: dict[int, dict[str, Any]] = {}
    for row in db.query(sql, params):
        best.setdefault(row["cluster_id"], row)
    return best

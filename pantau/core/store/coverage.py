"""Queries behind `pantau coverage`: recent articles by detected region and by outlet."""

from __future__ import annotations

from collections import Counter

from sqlite_utils import Database

from pantau.core.store.findings import LATEST_FINDING


def recent_articles_by_region(db: Database, since: str) -> Counter[str]:
    """Articles first seen since `since`, counted under the region their finding names."""
    rows = db.query(
        f"select f.region_code as code, count(*) as n from articles a join findings f "
        f"on f.article_id = a.id where {LATEST_FINDING} and f.region_code is not null "
        "and coalesce(a.published, a.fetched_at) >= ? group by f.region_code",
        [since],
    )
    return Counter({row["code"]: row["n"] for row in rows})


def recent_articles_by_site(db: Database, since: str) -> Counter[str]:
    rows = db.query(
        "select site, count(*) as n from articles "
        "where coalesce(published, fetched_at) >= ? group by site",
        [since],
    )
    return Counter({row["site"]: row["n"] for row in rows})

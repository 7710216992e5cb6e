"""Every query about crawls: runs, per-URL errors, source validators, Retry-After, known
articles; and what the application reads about past and running runs.

The crawler writes these tables (its spider, store extension and run recorder hold no SQL);
the service, `status`, `sites check` and the workspace read them through the same module,
so "a run still open" and "closing a dead process's run" have one definition each.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from pantau.core.calendar import parse_iso
from pantau.core.store import insert_returning_id, utcnow

MAX_DETAIL = 500
MAX_URL = 2000


@dataclass(frozen=True)
class RunTotals:
    """What a crawl_runs row says about a run so far (or at its end)."""

    pages_fetched: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    articles_skipped: int = 0
    failure_causes: Mapping[str, int] | None = None

    def as_row(self) -> dict[str, Any]:
        causes = dict(self.failure_causes or {})
        return {
            "pages_fetched": self.pages_fetched,
            "articles_new": self.articles_new,
            "articles_updated": self.articles_updated,
            "articles_skipped": self.articles_skipped,
            "failures": sum(causes.values()),
            "failure_causes": json.dumps(causes, sort_keys=True),
        }


@dataclass(frozen=True)
class KnownArticle:
    """A stored article and what decides whether to fetch it again."""

    id: int
    changed: str | None  # the feed/sitemap date stored, else when it was fetched
    etag: str | None
    last_modified: str | None
    url: str  # the URL it is stored under


# --- runs -----------------------------------------------------------------------------

# A run is open until it records its end; a row from before `status` existed counts as running.
_OPEN = "finished_at is null and coalesce(status, 'running') = 'running'"


def start_run(db: Database, site: str, pid: int, error: str | None = None) -> int:
    return insert_returning_id(
        db,
        "crawl_runs",
        {
            "site": site,
            "started_at": utcnow(),
            "status": "running",
            "pid": pid,
            **RunTotals().as_row(),
            "error": error,
        },
    )


def close_stale_runs(db: Database, site: str, alive: Callable[[int], bool]) -> list[int]:
    """Close a site's open runs whose process is gone: they were killed."""
    stale = [row for row in open_runs(db, site=site) if not (row["pid"] and alive(row["pid"]))]
    for row in stale:
        close_as_interrupted(db, row["id"], row["pid"])
    return [row["id"] for row in stale]


def record_progress(db: Database, run_id: int, totals: RunTotals) -> None:
    """The counts of a run still going, so a killed run shows what it did."""
    db.table("crawl_runs").update(run_id, totals.as_row())


def finish_run(
    db: Database, run_id: int, status: str, totals: RunTotals, error: str | None
) -> None:
    db.table("crawl_runs").update(
        run_id, {"finished_at": utcnow(), "status": status, **totals.as_row(), "error": error}
    )


def open_runs(
    db: Database, pid: int | None = None, site: str | None = None
) -> list[dict[str, Any]]:
    """Runs not closed yet (their id and pid), optionally only one process's or one site's."""
    where = _OPEN
    params: list[Any] = []
    for column, value in (("pid", pid), ("site", site)):
        if value is not None:
            where += f" and {column} = ?"
            params.append(value)
    return list(db.query(f"select id, pid from crawl_runs where {where} order by id", params))


def close_as_interrupted(db: Database, run_id: int, pid: int | None) -> None:
    """A run whose process ended without closing it (killed, or a power cut)."""
    db.execute(
        "update crawl_runs set status = 'interrupted', finished_at = ?, error = ? where id = ?",
        [utcnow(), f"interrupted: process {pid} ended without closing the run", run_id],
    )


def open_run_pids(db: Database, site: str) -> list[int]:
    """Processes with an open run of this site, newest first."""
    rows = db.execute(
        f"select pid from crawl_runs where site = ? and {_OPEN} order by id desc", [site]
    ).fetchall()
    return [int(pid) for (pid,) in rows if pid is not None]


def recent_runs(db: Database, site: str, limit: int = 50) -> list[dict[str, Any]]:
    """A site's latest runs, newest first."""
    return list(
        db.query(
            "select started_at, finished_at, status, error, failure_causes from crawl_runs "
            "where site = ? order by id desc limit ?",
            [site, limit],
        )
    )


def crawled_sites(db: Database) -> list[str]:
    return [row[0] for row in db.execute("select distinct site from crawl_runs order by site")]


def last_run_per_site(db: Database) -> dict[str, dict[str, Any]]:
    return {
        row["site"]: row
        for row in db.query(
            "select site, status, started_at, finished_at, failures from crawl_runs where id in "
            "(select max(id) from crawl_runs group by site)"
        )
    }


def record_error(
    db: Database, run_id: int | None, site: str, url: str, cause: str, detail: str
) -> None:
    db.table("crawl_errors").insert(
        {
            "run_id": run_id or None,
            "site": site,
            "url": url[:MAX_URL],
            "cause": cause,
            "detail": detail[:MAX_DETAIL],
            "at": utcnow(),
        }
    )


# --- source validators (conditional requests) -------------------------------------------


def source_validators(db: Database, url: str) -> tuple[str | None, str | None]:
    """(ETag, Last-Modified) a source answered with at the last good crawl."""
    row = db.execute("select etag, last_modified from http_cache where url = ?", [url]).fetchone()
    return (row[0], row[1]) if row else (None, None)


def save_source_validators(
    db: Database, site: str, validators: Mapping[str, Mapping[str, str | None]]
) -> None:
    rows = [
        {"url": url, "site": site, **values, "checked_at": utcnow()}
        for url, values in validators.items()
    ]
    if rows:
        db.table("http_cache").upsert_all(rows, pk="url")


# --- Retry-After ----------------------------------------------------------------------


def set_retry_after(db: Database, site: str, not_before: datetime) -> None:
    """Remember the latest moment a site asked us to stay away until."""
    current = retry_after(db, site)
    if current is not None and current >= not_before:
        return
    db.table("crawl_retry_after").upsert(
        {"site": site, "not_before": not_before.isoformat(), "noted_at": utcnow()}, pk="site"
    )


def retry_after(db: Database, site: str) -> datetime | None:
    row = db.execute("select not_before from crawl_retry_after where site = ?", [site]).fetchone()
    return parse_iso(row[0]) if row else None


# --- known articles -------------------------------------------------------------------


def known_article(db: Database, variants: Sequence[str]) -> KnownArticle | None:
    """The stored article behind any of `variants` (in order of preference).

    One query for all variants (every sitemap and listing link is looked up); the
    earliest variant wins, a stored URL before an alias.
    """
    marks = ", ".join("?" for _ in variants)
    rows = db.execute(
        "select a.id, coalesce(a.source_date, a.fetched_at), a.etag, a.last_modified, "
        f"a.url, a.url, 0 from articles a where a.url in ({marks}) union all "
        "select a.id, coalesce(a.source_date, a.fetched_at), a.etag, a.last_modified, "
        "a.url, u.url, 1 from article_urls u join articles a on a.id = u.article_id "
        f"where u.url in ({marks})",
        [*variants, *variants],
    ).fetchall()
    if not rows:
        return None
    rank = {variant: n for n, variant in enumerate(variants)}
    row = min(rows, key=lambda r: (rank.get(r[5], len(rank)), r[6]))
    return KnownArticle(id=row[0], changed=row[1], etag=row[2], last_modified=row[3], url=row[4])


def set_source_date(db: Database, article_id: int, source_date: str) -> None:
    """A 304 to a re-fetch: the article is unchanged, but its source date moved on."""
    db.table("articles").update(article_id, {"source_date": source_date})


# --- crawls requested of the service ---------------------------------------------------
# `pantau crawl SITE` asks the running service for a crawl; every change of a request's
# status is conditional on the one before, so the service and the command never both act.


def request_crawl(db: Database, site: str, pid: int) -> int:
    return insert_returning_id(
        db,
        "crawl_requests",
        {"site": site, "requested_at": utcnow(), "requested_by": pid, "status": "pending"},
    )


def crawl_request(db: Database, request_id: int) -> dict[str, Any] | None:
    rows = list(db.query("select * from crawl_requests where id = ?", [request_id]))
    return rows[0] if rows else None


def pending_crawl_requests(db: Database) -> list[dict[str, Any]]:
    return list(db.query("select * from crawl_requests where status = 'pending' order by id"))


def _move_request(db: Database, request_id: int, old: str, new: dict[str, Any]) -> bool:
    sets = ", ".join(f"{column} = ?" for column in new)
    cursor = db.execute(
        f"update crawl_requests set {sets} where id = ? and status = ?",
        [*new.values(), request_id, old],
    )
    return cursor.rowcount == 1


def take_crawl_request(db: Database, request_id: int) -> bool:
    """The service takes a pending request (False: the command withdrew it first)."""
    return _move_request(db, request_id, "pending", {"status": "taken", "taken_at": utcnow()})


def abandon_crawl_request(db: Database, request_id: int, taken: bool = False) -> bool:
    """The command gives up waiting: only a pending request (or, with `taken`, one the
    service took and can no longer answer, being gone) is withdrawn."""
    return _move_request(db, request_id, "taken" if taken else "pending", {"status": "abandoned"})


def answer_crawl_requests(
    db: Database, request_ids: Sequence[int], run_id: int | None, status: str
) -> None:
    """Taken requests answered by a run (`done`), or not crawled (`skipped`)."""
    for request_id in request_ids:
        _move_request(
            db, request_id, "taken", {"status": status, "run_id": run_id, "done_at": utcnow()}
        )


def run_row(db: Database, run_id: int) -> dict[str, Any] | None:
    rows = list(db.query("select * from crawl_runs where id = ?", [run_id]))
    return rows[0] if rows else None

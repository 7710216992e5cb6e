"""Bookkeeping of one site's crawl: the crawl_runs row, per-URL errors, live counters.

`pantau status` reads these tables to show which sites fail and since when, so every
fetch and every failure is counted here with its cause.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from dataclasses import dataclass, field

from sqlite_utils import Database

from pantau.core.store import insert_returning_id, utcnow

log = logging.getLogger(__name__)

# Causes that describe the crawler being polite or a link leaving the site: counted and
# logged, but they do not make a run "partial".
BENIGN_CAUSES = frozenset({"robots-forbidden", "offsite"})
MAX_DETAIL = 500


@dataclass
class RunCounts:
    pages_fetched: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    articles_skipped: int = 0
    failures: Counter[str] = field(default_factory=Counter)

    @property
    def serious_failures(self) -> int:
        return sum(n for cause, n in self.failures.items() if cause not in BENIGN_CAUSES)


class RunRecorder:
    """Opens a crawl_runs row at the start, records errors as they happen, closes it."""

    def __init__(self, db: Database, site: str):
        self.db = db
        self.site = site
        self.counts = RunCounts()
        self.run_id = 0
        self.status = "running"
        self.sources_ok = 0
        self.sources_failed = 0

    def start(self, resumed: bool = False) -> int:
        interrupted = self.mark_interrupted()
        self.run_id = insert_returning_id(
            self.db,
            "crawl_runs",
            {
                "site": self.site,
                "started_at": utcnow(),
                "status": "running",
                "pid": os.getpid(),
                "pages_fetched": 0,
                "articles_new": 0,
                "articles_updated": 0,
                "articles_skipped": 0,
                "failures": 0,
                "failure_causes": "{}",
                "error": f"resumed after run(s) {interrupted}" if resumed and interrupted else None,
            },
        )
        return self.run_id

    def mark_interrupted(self) -> list[int]:
        """Runs of this site still 'running' whose process is gone were killed."""
        stale = []
        for row in self.db.query(
            "select id, pid from crawl_runs where site = ? and status = 'running'", [self.site]
        ):
            if row["pid"] and row["pid"] != os.getpid() and process_alive(row["pid"]):
                continue
            stale.append(row["id"])
            self.db.table("crawl_runs").update(
                row["id"], {"status": "interrupted", "finished_at": utcnow()}
            )
        return stale

    def fetched(self) -> None:
        self.counts.pages_fetched += 1

    def article(self, status: str) -> None:
        if status == "new":
            self.counts.articles_new += 1
        elif status == "updated":
            self.counts.articles_updated += 1
        else:
            self.counts.articles_skipped += 1

    def skipped(self, n: int = 1) -> None:
        self.counts.articles_skipped += n

    def error(self, url: str, cause: str, detail: str = "") -> None:
        self.counts.failures[cause] += 1
        log.info("%s: %s %s (%s)", self.site, cause, url, detail)
        self.db.table("crawl_errors").insert(
            {
                "run_id": self.run_id or None,
                "site": self.site,
                "url": url[:2000],
                "cause": cause,
                "detail": detail[:MAX_DETAIL],
                "at": utcnow(),
            }
        )

    def decide_status(self) -> str:
        if self.counts.pages_fetched == 0 or (self.sources_failed and not self.sources_ok):
            return "failed" if self.counts.failures else "ok"
        return "partial" if self.counts.serious_failures else "ok"

    def finish(self, reason: str = "finished") -> str:
        """Close the run; a crawl stopped by a signal is 'interrupted' (resume it)."""
        self.status = "interrupted" if reason == "shutdown" else self.decide_status()
        error = None if reason == "finished" else f"closed: {reason}"
        if self.status == "failed" and error is None:
            causes = ", ".join(f"{c} x{n}" for c, n in self.counts.failures.most_common(3))
            error = f"nothing fetched ({causes})"
        self.db.table("crawl_runs").update(
            self.run_id,
            {
                "finished_at": utcnow(),
                "status": self.status,
                "pages_fetched": self.counts.pages_fetched,
                "articles_new": self.counts.articles_new,
                "articles_updated": self.counts.articles_updated,
                "articles_skipped": self.counts.articles_skipped,
                "failures": sum(self.counts.failures.values()),
                "failure_causes": json.dumps(dict(self.counts.failures), sort_keys=True),
                "error": error,
            },
        )
        return self.status


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

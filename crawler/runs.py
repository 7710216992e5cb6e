"""Bookkeeping of one site's crawl: the crawl_runs row, per-URL errors, its status.

The counts live in the crawl's Scrapy stats collector (keys below); the recorder turns
them into the crawl_runs row that `pantau status` reads to show which sites fail and
since when. The store extension (crawler/extensions.py) drives it from Scrapy signals.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from pantau.core.store import crawls

log = logging.getLogger(__name__)

# Stats keys: everything a run counts, kept by Scrapy's stats collector.
PAGES_FETCHED = "pantau/pages_fetched"
ARTICLES = "pantau/articles/"  # + new | updated | skipped
SOURCES_OK = "pantau/sources/ok"
SOURCES_FAILED = "pantau/sources/failed"
FAILURES = "pantau/failures/"  # + cause

# Causes that describe the crawler being polite or a link leaving the site: counted and
# logged, but they do not make a run "partial".
BENIGN_CAUSES = frozenset({"robots-forbidden", "offsite"})


@dataclass
class CrawlSummary:
    """What `pantau crawl` prints of a run (here, not in crawler.run, so that reading one
    back needs no Scrapy)."""

    site: str
    run_id: int
    status: str  # "ok" | "partial" | "failed"
    pages_fetched: int
    articles_new: int
    articles_updated: int
    articles_skipped: int
    failures: dict[str, int] = field(default_factory=dict)


@dataclass
class RunCounts:
    pages_fetched: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    articles_skipped: int = 0
    sources_ok: int = 0
    sources_failed: int = 0
    failures: Counter[str] = field(default_factory=Counter)

    @classmethod
    def from_stats(cls, stats: Mapping[str, Any]) -> RunCounts:
        return cls(
            pages_fetched=int(stats.get(PAGES_FETCHED, 0)),
            articles_new=int(stats.get(ARTICLES + "new", 0)),
            articles_updated=int(stats.get(ARTICLES + "updated", 0)),
            articles_skipped=int(stats.get(ARTICLES + "skipped", 0)),
            sources_ok=int(stats.get(SOURCES_OK, 0)),
            sources_failed=int(stats.get(SOURCES_FAILED, 0)),
            failures=Counter(
                {
                    key.removeprefix(FAILURES): int(value)
                    for key, value in stats.items()
                    if key.startswith(FAILURES) and value
                }
            ),
        )

    @property
    def serious_failures(self) -> int:
        return sum(n for cause, n in self.failures.items() if cause not in BENIGN_CAUSES)

    def totals(self) -> crawls.RunTotals:
        return crawls.RunTotals(
            pages_fetched=self.pages_fetched,
            articles_new=self.articles_new,
            articles_updated=self.articles_updated,
            articles_skipped=self.articles_skipped,
            failure_causes=dict(self.failures),
        )


class StatsLike:
    """The part of Scrapy's StatsCollector the recorder uses (a plain dict until attached)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get_stats(self) -> dict[str, Any]:
        return self.values

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] = self.values.get(key, start) + count


class RunRecorder:
    """Opens a crawl_runs row at the start, records errors as they happen, closes it."""

    def __init__(self, db: Database, site: str):
        self.db = db
        self.site = site
        self.stats: Any = StatsLike()
        self.run_id = 0
        self.status = "running"

    def attach(self, stats: Any) -> None:
        """Count in the crawl's Scrapy stats collector from now on."""
        for key, value in self.stats.get_stats().items():
            if isinstance(value, int):
                stats.inc_value(key, value)
        self.stats = stats

    @property
    def counts(self) -> RunCounts:
        return RunCounts.from_stats(self.stats.get_stats())

    def count(self, key: str, n: int = 1) -> None:
        self.stats.inc_value(key, n, start=0)

    def start(self, resumed: bool = False) -> int:
        interrupted = crawls.close_stale_runs(self.db, self.site, alive=other_process_alive)
        note = f"resumed after run(s) {interrupted}" if resumed and interrupted else None
        self.run_id = crawls.start_run(self.db, self.site, os.getpid(), note)
        return self.run_id

    def error(self, url: str, cause: str, detail: str = "") -> None:
        self.count(FAILURES + cause)
        log.info("%s: %s %s (%s)", self.site, cause, url, detail)
        crawls.record_error(self.db, self.run_id, self.site, url, cause, detail)

    def progress(self) -> None:
        if self.run_id and self.status == "running":
            crawls.record_progress(self.db, self.run_id, self.counts.totals())

    def decide_status(self, counts: RunCounts) -> str:
        if counts.pages_fetched == 0 or (counts.sources_failed and not counts.sources_ok):
            return "failed" if counts.failures else "ok"
        return "partial" if counts.serious_failures else "ok"

    def finish(self, reason: str = "finished") -> str:
        """Close the run; a crawl stopped by a signal is 'interrupted' (resume it)."""
        counts = self.counts
        self.status = "interrupted" if reason == "shutdown" else self.decide_status(counts)
        error = None if reason == "finished" else f"closed: {reason}"
        if self.status == "failed" and error is None:
            causes = ", ".join(f"{c} x{n}" for c, n in counts.failures.most_common(3))
            error = f"nothing fetched ({causes})"
        crawls.finish_run(self.db, self.run_id, self.status, counts.totals(), error)
        return self.status


def other_process_alive(pid: int) -> bool:
    return pid != os.getpid() and process_alive(pid)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

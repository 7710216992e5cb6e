"""What every Pantau spider does whatever it reads: count, report failures, read sources.

A spider counts in Scrapy's stats collector and says that something failed with the
`failure_noted` signal; the store extension (crawler/extensions.py) turns both into the
crawl_runs row. Source requests (feeds, sitemaps, listings) are sent conditionally with
the validators of the last good crawl and queued before any article.

Request metadata holds only plain values so the queue can be persisted in JOBDIR and a
killed crawl resumed.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler import runs
from crawler.failures import OverBudget, classify
from crawler.runs import RunRecorder
from crawler.signals import failure_noted
from crawler.urls import SiteScope, fold_key
from pantau.core.settings import Settings, SiteConfig
from pantau.core.store import crawls

log = logging.getLogger(__name__)

SOURCE_PRIORITY = 1_000_000
BUDGET_CAUSE = OverBudget.cause


class BaseSpider(scrapy.Spider):
    def __init__(
        self,
        site: SiteConfig,
        recorder: RunRecorder,
        settings_model: Settings,
        since: date | None = None,
        max_pages: int = 500,
        backfill: bool = False,
        conditional: bool = True,
        **kwargs: Any,
    ):
        super().__init__(name=f"news:{site.id}", **kwargs)
        self.site = site
        self.recorder = recorder
        self.settings_model = settings_model
        self.db = recorder.db
        self.since = since
        self.max_pages = max_pages
        self.backfill = backfill
        self.conditional = conditional
        declared = [site.url, *site.feeds, *site.sitemaps, *site.listings]
        self.scope = SiteScope.of(declared, site.allowed_domains)  # every request
        self.article_scope = SiteScope.of([site.url], site.allowed_domains)
        self.validators: dict[str, dict[str, str | None]] = {}
        self.sources_requested: set[str] = set()  # a source is read once a run

    # --- counting and failures ---------------------------------------------------------

    def count(self, key: str, n: int = 1) -> None:
        self.recorder.count(key, n)

    def fail(self, url: str, cause: str, detail: str = "") -> None:
        self.crawler.signals.send_catch_log(
            signal=failure_noted, spider=self, url=url, cause=cause, detail=detail
        )

    def asked_wait(self, now: datetime | None = None) -> float:
        """Seconds the site's last Retry-After still asks for (bounded by the setting)."""
        until = crawls.retry_after(self.db, self.site.id)
        if until is None:
            return 0.0
        left = (until - (now or datetime.now(UTC))).total_seconds()
        return max(0.0, min(left, self.settings_model.crawl.max_retry_after))

    async def wait_as_asked(self) -> None:
        """A site that asked for a pause (Retry-After) in an earlier crawl is not hit before."""
        if (seconds := self.asked_wait()) > 0:
            log.info("%s: waiting %.0f s, as its Retry-After asked", self.site.id, seconds)
            await asyncio.sleep(seconds)

    # --- sources ----------------------------------------------------------------------

    def source_request(
        self,
        url: str,
        callback: Any,
        meta: dict[str, Any] | None = None,
        priority: int = 0,
        conditional: bool = True,
    ) -> scrapy.Request | None:
        """The request for a source, or None when this run has requested it already.

        A sitemap index that lists itself, a cycle of indexes, a listing whose "next"
        link points back: each would be fetched for ever without this visited set.
        """
        key = fold_key(url)
        if key in self.sources_requested:
            return None
        self.sources_requested.add(key)
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.source_failed,
            meta={"source": True, "handle_httpstatus_list": [304], **(meta or {})},
            headers=self.cached_validators(url) if conditional else {},
            priority=SOURCE_PRIORITY + priority,
            dont_filter=True,
        )

    def cached_validators(self, url: str) -> dict[str, str]:
        """Conditional-request headers for a source unchanged since the last good crawl."""
        if not self.conditional:
            return {}
        etag, last_modified = crawls.source_validators(self.db, url)
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return headers

    def source_fetched(self, response: Response) -> bool:
        """Count a source; False when it answered 304 (nothing new since last time)."""
        self.count(runs.PAGES_FETCHED)
        self.count(runs.SOURCES_OK)
        if response.status == 304:
            return False
        etag, last_modified = header(response, "ETag"), header(response, "Last-Modified")
        if etag or last_modified:
            url = first_url(response.request) if response.request else response.url
            self.validators[url] = {"etag": etag, "last_modified": last_modified}
        return True

    def source_failed(self, failure: Failure) -> None:
        cause, detail = classify(failure)
        if cause == BUDGET_CAUSE:
            return  # the run closes; the store extension records the budget once
        self.count(runs.SOURCES_FAILED)
        self.fail(first_url(failed_request(failure)), cause, detail)


def day_number(moment: datetime | date | None) -> int:
    """Newer items first: the scheduler pops higher priorities earlier."""
    if moment is None:
        return 0
    day = moment.date() if isinstance(moment, datetime) else moment
    return (day - date(2000, 1, 1)).days


def header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def first_url(request: scrapy.Request) -> str:
    """The URL as first requested, before any redirect: what the operator knows it by."""
    return str(request.meta.get("redirect_urls", [request.url])[0])


def failed_request(failure: Failure) -> scrapy.Request:
    """Scrapy attaches the request to the failure it hands an errback."""
    request: scrapy.Request = failure.request  # type: ignore[attr-defined]
    return request

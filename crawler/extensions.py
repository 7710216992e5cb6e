"""The store extension: a crawl's run row kept from Scrapy signals, kingfisher-style.

Spiders and pipelines only count (Scrapy's stats collector) and signal; this extension
records: each failure (`failure_noted`, spider and item errors, failed drops) as a
crawl_errors row, the stored articles by status, the counts so far every few seconds
(a killed crawl still shows what it did), and at the close the run's status and, after
a good run, the sources' validators for the next conditional crawl.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from scrapy import signals
from twisted.python.failure import Failure

from crawler import runs
from crawler.failures import Dropped
from crawler.middlewares import BUDGET_REASON, BUDGET_SETTING
from crawler.signals import failure_noted, retry_after_noted
from pantau.core.store import crawls

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

PROGRESS_SECONDS = 2.0
TRACEBACK_TAIL = 1500


def recorder_of(spider: Any) -> runs.RunRecorder | None:
    return getattr(spider, "recorder", None)


class RunStore:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.last_progress = 0.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunStore:
        extension = cls(crawler)
        connect = crawler.signals.connect
        connect(extension.spider_opened, signal=signals.spider_opened)
        connect(extension.failure_noted, signal=failure_noted)
        connect(extension.retry_after_noted, signal=retry_after_noted)
        connect(extension.spider_error, signal=signals.spider_error)
        connect(extension.item_error, signal=signals.item_error)
        connect(extension.item_scraped, signal=signals.item_scraped)
        connect(extension.item_dropped, signal=signals.item_dropped)
        connect(extension.response_received, signal=signals.response_received)
        connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Any) -> None:
        if recorder := recorder_of(spider):
            recorder.attach(self.crawler.stats)

    def failure_noted(self, spider: Any, url: str, cause: str, detail: str) -> None:
        if recorder := recorder_of(spider):
            recorder.error(url, cause, detail)

    def retry_after_noted(self, spider: Any, seconds: float) -> None:
        """The site asked for a pause: its next crawl waits too."""
        if recorder_of(spider) is not None:
            until = datetime.now(UTC) + timedelta(seconds=seconds)
            crawls.set_retry_after(spider.db, spider.site.id, until)

    def spider_error(self, failure: Failure, response: Any, spider: Any) -> None:
        """A bug in a callback is counted like any failure, with its traceback kept."""
        if recorder := recorder_of(spider):
            recorder.error(response.url, "spider-error", failure.getTraceback()[-TRACEBACK_TAIL:])

    def item_error(self, item: Any, response: Any, spider: Any, failure: Failure) -> None:
        """A page that broke a pipeline stage (detection, storage) is counted, not lost."""
        if recorder := recorder_of(spider):
            url = (item.get("url") if isinstance(item, dict) else None) or response.url
            recorder.error(url, "store-failed", failure.getTraceback()[-TRACEBACK_TAIL:])

    def item_scraped(self, item: Any, spider: Any) -> None:
        status = item.get("status") if isinstance(item, dict) else None
        if status and (recorder := recorder_of(spider)):
            recorder.count(runs.ARTICLES + (status if status in ("new", "updated") else "skipped"))
            recorder.progress()  # a stored article is on the run's row at once

    def item_dropped(self, item: Any, exception: BaseException, spider: Any) -> None:
        recorder = recorder_of(spider)
        if recorder is None or not isinstance(exception, Dropped):
            return
        if exception.failed:
            url = item.get("url", "") if isinstance(item, dict) else ""
            recorder.error(url, exception.cause, exception.detail)
        else:
            recorder.count(runs.ARTICLES + "skipped")

    def response_received(self, spider: Any) -> None:
        now = time.monotonic()
        if now - self.last_progress >= PROGRESS_SECONDS and (recorder := recorder_of(spider)):
            self.last_progress = now
            recorder.progress()

    def spider_closed(self, spider: Any, reason: str) -> None:
        recorder = recorder_of(spider)
        if recorder is None:
            return
        if reason == BUDGET_REASON:  # RequestBudgetMiddleware closed the run
            budget = self.crawler.settings.getint(BUDGET_SETTING)
            recorder.error(spider.site.url, BUDGET_REASON, f"stopped after {budget} requests")
            reason = "finished"
        if recorder.finish(reason) == "ok":
            crawls.save_source_validators(spider.db, spider.site.id, spider.validators)

"""Downloader middlewares: the checks that must happen right before a request leaves.

- SchemeGuardMiddleware: only http(s) goes out (a feed may link ftp:// or data:), and only
  to the site's own scheme+host+port or its declared domains, redirects and robots.txt
  included (Scrapy's offsite check lets dont_filter
  requests through, and the spider needs dont_filter for --resume).
- KnownUrlMiddleware: an article already stored is not fetched again, even when its
  request was queued before a kill and comes back on --resume.
- BackoffRetryMiddleware: Scrapy's retry, waiting longer after each failed attempt, or as
  long as a 429/503's Retry-After asks (bounded by crawl.max_retry_after).
- RobotsMiddleware, RedirectMiddleware, DecompressionMiddleware: Scrapy's, refusing with
  an exception whose type names the cause (crawler/failures.py).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware as ScrapyRedirect
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro

from crawler.failures import (
    KnownArticle,
    NotHttp,
    Offsite,
    OverBudget,
    Oversize,
    RedirectLoop,
    RobotsForbidden,
)
from crawler.signals import failure_noted, retry_after_noted
from crawler.urls import is_http_url, origin_of

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class SchemeGuardMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SchemeGuardMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if not is_http_url(request.url):
            raise NotHttp("not an http(s) URL")
        spider: Any = self.crawler.spider
        scope = getattr(spider, "article_scope" if request.meta.get("article") else "scope", None)
        if scope is not None and not scope.allows(request.url):
            raise Offsite(f"not the site's scheme, host and port: {origin_of(request.url)}")


BUDGET_SETTING = "PANTAU_REQUEST_BUDGET"
BUDGET_REASON = "request-budget"


class RequestBudgetMiddleware:
    """A hard cap on the requests one site's run sends: sources, articles, retries, robots.

    Counted as requests enter the downloader (before they queue for a slot), so the
    server never sees more than the budget. The first request over it closes the run
    with reason `request-budget`, which the store extension records once as a cause.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.budget = crawler.settings.getint(BUDGET_SETTING, 0)
        self.sent = 0
        self.closing = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RequestBudgetMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if not self.budget:
            return
        if self.sent < self.budget:
            self.sent += 1
            return
        if not self.closing:
            self.closing = True
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=BUDGET_REASON))
        raise OverBudget(f"over the run's budget of {self.budget} requests")


class KnownUrlMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> KnownUrlMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if not request.meta.get("article") or request.meta.get("refetch"):
            return
        spider: Any = self.crawler.spider
        if spider is not None and spider.known_article(request.url) is not None:
            raise KnownArticle("already stored")


class BackoffRetryMiddleware(RetryMiddleware):
    """Exponential backoff between retries (base from PANTAU_RETRY_BACKOFF seconds)."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler.settings)
        self.backoff = crawler.settings.getfloat("PANTAU_RETRY_BACKOFF", 0.5)
        self.max_retry_after = crawler.settings.getfloat("PANTAU_MAX_RETRY_AFTER", 300.0)
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        return cls(crawler)

    def delay(self, retry: Request, asked: float | None = None) -> float:
        if asked is not None:
            return min(asked, self.max_retry_after)
        attempt = int(retry.meta.get("retry_times", 1))
        return min(self.backoff * 2 ** (attempt - 1), 60.0)

    async def _wait(self, result: Any, asked: float | None = None) -> Any:
        if isinstance(result, Request):
            await asyncio.sleep(self.delay(result, asked))
        return result

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        asked = retry_after(response)
        if asked is not None:
            self.crawler.signals.send_catch_log(
                signal=retry_after_noted, spider=self.crawler.spider, seconds=asked
            )
        return await self._wait(super().process_response(request, response), asked)

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception
    ) -> Request | Response | None:
        return await self._wait(super().process_exception(request, exception))


ROBOTS_MAX_BYTES = 500 * 1024  # RFC 9309: a crawler must parse at least the first 500 KiB
ROBOTS_OVERSIZE = "robots-oversize"


def is_robots_request(request: Request) -> bool:
    return bool(request.meta.get("dont_obey_robotstxt")) and urlsplit(request.url).path == (
        "/robots.txt"
    )


class RobotsMiddleware(RobotsTxtMiddleware):
    """Scrapy's, with a typed refusal and a robots.txt read up to 500 KiB whatever its size.

    A robots.txt over the body cap used to be cancelled and then treated as allow-all.
    Its download is now stopped at 500 KiB (RFC 9309's minimum), the truncated file is
    parsed (the parser reads the lines it got), and the run records robots-oversize.
    """

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.received: dict[int, int] = {}
        crawler.signals.connect(self.bytes_received, signal=signals.bytes_received)

    async def process_request(  # type: ignore[override]
        self, request: Request
    ) -> None:
        if is_robots_request(request):
            request.meta["download_maxsize"] = 0  # bounded by bytes_received below
            return
        await super().process_request(request)

    def bytes_received(self, data: bytes, request: Request) -> None:
        if not is_robots_request(request):
            return
        total = self.received.get(id(request), 0) + len(data)
        self.received[id(request)] = total
        if total > ROBOTS_MAX_BYTES:
            self.received.pop(id(request), None)
            self.crawler.signals.send_catch_log(
                signal=failure_noted,
                spider=self.crawler.spider,
                url=request.url,
                cause=ROBOTS_OVERSIZE,
                detail=f"over {ROBOTS_MAX_BYTES} bytes: the first {ROBOTS_MAX_BYTES} parsed",
            )
            raise StopDownload(fail=False)

    def process_request_2(self, rp: Any, request: Request) -> None:
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest as exc:
            raise RobotsForbidden(str(exc)) from None


class RedirectMiddleware(ScrapyRedirect):
    def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        try:
            result = super().process_response(request, response)
        except IgnoreRequest as exc:  # the only refusal: more redirects than allowed
            raise RedirectLoop(str(exc)) from None
        location = response.headers.get("Location")
        if result is response and response.status in REDIRECTS and location:
            # Scrapy hands on a redirect it will not follow (ftp:, mailto:...) as a page.
            target = location.decode("latin-1")
            if not is_http_url(target) and urlsplit(target).scheme:
                raise NotHttp(f"a redirect to {target[:200]}")
        return result


REDIRECTS = frozenset({301, 302, 303, 307, 308})


class DecompressionMiddleware(HttpCompressionMiddleware):
    def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        try:
            return super().process_response(request, response)
        except IgnoreRequest as exc:  # the only refusal: it inflates past DOWNLOAD_MAXSIZE
            raise Oversize(str(exc)) from None


RETRY_AFTER_STATUSES = (429, 503)


def retry_after(response: Response) -> float | None:
    """Seconds a 429/503 asks to wait (Retry-After: seconds or an HTTP date), else None."""
    if response.status not in RETRY_AFTER_STATUSES:
        return None
    value = (response.headers.get("Retry-After") or b"").decode("latin-1").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())

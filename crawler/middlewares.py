"""Downloader middlewares: the checks that must happen right before a request leaves.

- SchemeGuardMiddleware: only http(s) goes out (a feed may link ftp:// or data:), and only
  to the site's domains, redirects included (Scrapy's offsite check lets dont_filter
  requests through, and the spider needs dont_filter for --resume).
- KnownUrlMiddleware: an article already stored is not fetched again, even when its
  request was queued before a kill and comes back on --resume.
- BackoffRetryMiddleware: Scrapy's retry, waiting longer after each failed attempt.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from crawler.urls import in_domains, is_http_url

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

KNOWN_REASON = "already stored"
SCHEME_REASON = "not an http(s) URL"
OFFSITE_REASON = "offsite: not one of the site's domains"


class SchemeGuardMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SchemeGuardMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if not is_http_url(request.url):
            raise IgnoreRequest(SCHEME_REASON)
        spider: Any = self.crawler.spider
        domains = getattr(
            spider, "article_domains" if request.meta.get("article") else "domains", None
        )
        if domains and not in_domains(request.url, domains):
            raise IgnoreRequest(f"{OFFSITE_REASON}: {urlsplit(request.url).hostname}")


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
            raise IgnoreRequest(KNOWN_REASON)


class BackoffRetryMiddleware(RetryMiddleware):
    """Exponential backoff between retries (base from PANTAU_RETRY_BACKOFF seconds)."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler.settings)
        self.backoff = crawler.settings.getfloat("PANTAU_RETRY_BACKOFF", 0.5)
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        return cls(crawler)

    async def _wait(self, result: Any) -> Any:
        if isinstance(result, Request):
            attempt = int(result.meta.get("retry_times", 1))
            await asyncio.sleep(min(self.backoff * 2 ** (attempt - 1), 60.0))
        return result

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        return await self._wait(super().process_response(request, response))

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception
    ) -> Request | Response | None:
        return await self._wait(super().process_exception(request, exception))

"""Downloader middlewares: the checks that must happen right before a request leaves.

- SchemeGuardMiddleware: only http(s) goes out (a feed may link ftp:// or data:), and only
  to the site's domains, redirects included (Scrapy's offsite check lets dont_filter
  requests through, and the spider needs dont_filter for --resume).
- KnownUrlMiddleware: an article already stored is not fetched again, even when its
  request was queued before a kill and comes back on --resume.
- BackoffRetryMiddleware: Scrapy's retry, waiting longer after each failed attempt.
- RobotsMiddleware, RedirectMiddleware, DecompressionMiddleware: Scrapy's, refusing with
  an exception whose type names the cause (crawler/failures.py).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware as ScrapyRedirect
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from crawler.failures import KnownArticle, NotHttp, Offsite, Oversize, RedirectLoop, RobotsForbidden
from crawler.urls import in_domains, is_http_url

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
        domains = getattr(
            spider, "article_domains" if request.meta.get("article") else "domains", None
        )
        if domains and not in_domains(request.url, domains):
            raise Offsite(f"not one of the site's domains: {urlsplit(request.url).hostname}")


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


class RobotsMiddleware(RobotsTxtMiddleware):
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
            return super().process_response(request, response)
        except IgnoreRequest as exc:  # the only refusal: more redirects than allowed
            raise RedirectLoop(str(exc)) from None


class DecompressionMiddleware(HttpCompressionMiddleware):
    def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        try:
            return super().process_response(request, response)
        except IgnoreRequest as exc:  # the only refusal: it inflates past DOWNLOAD_MAXSIZE
            raise Oversize(str(exc)) from None

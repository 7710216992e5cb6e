"""Article requests: canonical URL, known-article check, conditional re-fetch, page 2..N.

Every article URL is canonicalised and checked against the store before it is
requested; a known article is fetched again only when its feed or sitemap date is newer
than what was stored, and then conditionally (ETag/Last-Modified). A multi-page article
is collected page by page and handed on whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler import runs, sources
from crawler.failures import KNOWN, classify
from crawler.spiders.base import (
    BUDGET_CAUSE,
    SOURCE_PRIORITY,
    BaseSpider,
    day_number,
    failed_request,
    first_url,
    header,
)
from crawler.urls import canonicalize, fold_key, url_variants
from pantau.core.store import crawls


class ArticleSpider(BaseSpider):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.scheduled: set[str] = set()  # requested in this run
        self.known_seen: set[str] = set()  # stored already and skipped in this run
        self.article_requests = 0

    def budget_spent(self) -> bool:
        return self.article_requests >= self.max_pages

    def known_article(self, url: str) -> crawls.KnownArticle | None:
        """The stored article behind any variant of `url` (http/https, trailing slash)."""
        return crawls.known_article(self.db, url_variants(url))

    def article_request(
        self, link: sources.Link, via: str, chain: str | None = None, strict: bool = False
    ) -> scrapy.Request | None:
        url = canonicalize(link.url)
        key = fold_key(url)
        if key in self.scheduled or not self.article_scope.allows(url):
            return None
        pattern = self.site.article_pattern
        if sources.is_continuation_url(url):
            return None
        if (pattern or strict) and not sources.is_article_url(url, pattern):
            return None
        if sources.older_than(link.date, self.since):
            return None
        meta: dict[str, Any] = {"article": True, "via": via, "chain": chain}
        if link.date is not None:
            meta["source_date"] = link.date.isoformat()
        headers: dict[str, str] = {}
        known = self.known_article(url)
        if known is not None:
            if not changed_since_stored(link.date, known.changed):
                if key not in self.known_seen:  # counted once, whatever lists it
                    self.known_seen.add(key)
                    self.count(runs.ARTICLES + "skipped")
                return None
            if key in self.known_seen:  # an earlier source was older than this one
                self.known_seen.discard(key)
                self.count(runs.ARTICLES + "skipped", -1)
            meta["refetch"] = known.id
            if known.etag:
                headers["If-None-Match"] = known.etag
            if known.last_modified:
                headers["If-Modified-Since"] = known.last_modified
        if self.budget_spent():
            return None
        self.scheduled.add(key)
        self.article_requests += 1
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.article_failed,
            meta={**meta, "handle_httpstatus_list": [304]},
            headers=headers,
            priority=day_number(link.date),
            dont_filter=True,
        )

    def parse_article(self, response: Response) -> Iterator[Any]:
        self.count(runs.PAGES_FETCHED)
        if response.status == 304:
            self.count(runs.ARTICLES + "skipped")
            if response.meta.get("refetch") and response.meta.get("source_date"):
                crawls.set_source_date(
                    self.db, response.meta["refetch"], response.meta["source_date"]
                )
            return
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1").lower()
        if content_type and "html" not in content_type:
            self.fail(response.url, "not-html", content_type)
            return
        item = {
            "site": self.site.id,
            "url": response.url,
            "requested_url": first_url(response.request) if response.request else response.url,
            "bodies": [sources.utf8_page(header(response, "Content-Type"), response.body)],
            "source_date": response.meta.get("source_date"),
            "etag": header(response, "ETag"),
            "last_modified": header(response, "Last-Modified"),
            "chain": response.meta.get("chain"),
        }
        next_page = sources.continuation_page(response.body, response.url)
        if next_page:
            yield self.continuation_request(next_page, item, 2)
        else:
            yield item

    def continuation_request(self, url: str, item: dict[str, Any], number: int) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse_continuation,
            errback=self.continuation_failed,
            meta={"item": item, "number": number, "article": False},
            priority=SOURCE_PRIORITY,
            dont_filter=True,
        )

    def parse_continuation(self, response: Response) -> Iterator[Any]:
        """Page 2.. of a multi-page article: collect it, then hand over the whole article."""
        self.count(runs.PAGES_FETCHED)
        item = response.meta["item"]
        item["bodies"].append(sources.utf8_page(header(response, "Content-Type"), response.body))
        number = int(response.meta["number"])
        next_page = sources.continuation_page(response.body, item["url"], number)
        if next_page and number < self.settings_model.crawl.max_article_pages:
            yield self.continuation_request(next_page, item, number + 1)
        else:
            yield item

    def continuation_failed(self, failure: Failure) -> Iterator[Any]:
        cause, detail = classify(failure)
        if cause != BUDGET_CAUSE:
            self.fail(first_url(failed_request(failure)), cause, detail)
        yield failed_request(failure).meta["item"]

    def article_failed(self, failure: Failure) -> None:
        cause, detail = classify(failure)
        if cause == KNOWN:
            self.count(runs.ARTICLES + "skipped")
            return
        if cause == BUDGET_CAUSE:
            return
        self.fail(first_url(failed_request(failure)), cause, detail)


def changed_since_stored(link_date: datetime | None, stored: str | None) -> bool:
    if link_date is None or not stored:
        return False
    stored_moment = sources.parse_w3c_date(stored)
    return stored_moment is not None and link_date > stored_moment

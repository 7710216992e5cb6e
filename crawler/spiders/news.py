"""The one generic news spider, configured per site by its SiteConfig.

Discovery sources are read in the order a WordPress outlet offers them: feeds (newest
items, with dates), sitemaps (index -> urlset, Google News dates), listing pages (in
page order, newest first). Every article URL is canonicalised and checked against the
store before it is requested; a known article is fetched again only when its feed or
sitemap date is newer than what was stored, and then conditionally (ETag/Last-Modified).

Request metadata holds only plain values so the queue can be persisted in JOBDIR and a
killed crawl resumed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import scrapy
from scrapy import signals
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler import sources
from crawler.failures import KNOWN, classify
from crawler.runs import RunRecorder
from crawler.urls import canonicalize, fold_key, in_domains, registered_domain, url_variants
from pantau.core.settings import Settings, SiteConfig
from pantau.core.store import utcnow

SOURCE_PRIORITY = 1_000_000
NON_ARTICLE_SITEMAP = re.compile(
    r"(page|category|categories|tag|author|user|taxonom|attachment|product|video|image)"
    r"[^/]*sitemap|sitemap-(taxonomies|users|pages)|posts-page",
    re.I,
)
LISTING_DEPTH = 3
RECENT_SITEMAP_DAYS = 31
RECENT_SITEMAP_CHILDREN = 12
MAX_ARTICLE_PAGES = 10


def day_number(moment: datetime | date | None) -> int:
    """Newer items first: the scheduler pops higher priorities earlier."""
    if moment is None:
        return 0
    day = moment.date() if isinstance(moment, datetime) else moment
    return (day - date(2000, 1, 1)).days


class NewsSpider(scrapy.Spider):
    name = "news"

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
        hosts = [site.url, *site.feeds, *site.sitemaps, *site.listings]
        self.domains = sorted({registered_domain(u) for u in hosts} | set(site.allowed_domains))
        self.allowed_domains = list(self.domains)
        self.article_domains = sorted({registered_domain(site.url), *site.allowed_domains})
        self.scheduled: set[str] = set()  # requested in this run
        self.known_seen: set[str] = set()  # stored already and skipped in this run
        self.article_requests = 0
        self.old_chains: set[str] = set()
        self.validators: dict[str, dict[str, str | None]] = {}

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_spider_error, signal=signals.spider_error)
        crawler.signals.connect(spider.on_item_error, signal=signals.item_error)
        return spider

    def on_item_error(self, item: Any, response: Response, spider: Any, failure: Failure) -> None:
        """A page that broke a pipeline stage (detection, storage) is counted, not lost silently."""
        url = item.get("url") if isinstance(item, dict) else None
        self.recorder.error(url or response.url, "store-failed", failure.getTraceback()[-1500:])

    def on_spider_error(self, failure: Failure, response: Response, spider: Any) -> None:
        """A bug in a callback is counted like any failure, with its traceback kept."""
        self.recorder.error(response.url, "spider-error", failure.getTraceback()[-1500:])

    # --- start ------------------------------------------------------------------------

    async def start(self) -> Any:
        for request in self.source_requests():
            yield request

    def source_requests(self) -> Iterator[scrapy.Request]:
        site = self.site
        listings = list(site.listings)
        if not (site.feeds or site.sitemaps or listings):
            listings = [site.url]
        for url in site.feeds:
            yield self.source_request(url, self.parse_feed)
        for url in site.sitemaps:
            # Always read in full: an index can stay byte-identical while a child changes.
            yield self.source_request(url, self.parse_sitemap, conditional=False)
        for url in listings:
            yield self.source_request(url, self.parse_listing, {"chain": url, "depth": 1})

    def source_request(
        self,
        url: str,
        callback: Any,
        meta: dict[str, Any] | None = None,
        priority: int = 0,
        conditional: bool = True,
    ) -> scrapy.Request:
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
        row = self.db.execute(
            "select etag, last_modified from http_cache where url = ?", [url]
        ).fetchone()
        headers = {}
        if row and row[0]:
            headers["If-None-Match"] = row[0]
        if row and row[1]:
            headers["If-Modified-Since"] = row[1]
        return headers

    def save_validators(self) -> None:
        rows = [
            {"url": url, "site": self.site.id, **values, "checked_at": utcnow()}
            for url, values in self.validators.items()
        ]
        if rows:
            self.db.table("http_cache").upsert_all(rows, pk="url")

    # --- sources ----------------------------------------------------------------------

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        if not self.source_fetched(response):
            return
        links = sources.parse_feed(response.body, response.url)
        if not links and not sources.looks_like_feed(response.body):
            self.recorder.error(
                response.url,
                "not-a-feed",
                (response.headers.get("Content-Type") or b"").decode("latin-1"),
            )
            return
        for link in links:
            if request := self.article_request(link, "feed"):
                yield request

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        if not self.source_fetched(response):
            return
        doc = sources.parse_sitemap(response.body)
        if doc.kind == "unknown":
            self.recorder.error(response.url, "not-a-sitemap", "no <urlset> or <sitemapindex>")
            return
        if doc.kind == "index":
            yield from self.child_sitemaps(doc.links)
            return
        for link in sorted(doc.links, key=lambda lk: day_number(lk.date), reverse=True):
            if request := self.article_request(link, "sitemap", strict=not doc.is_news):
                yield request

    def child_sitemaps(self, links: list[sources.Link]) -> Iterator[scrapy.Request]:
        """Newest child sitemaps first; past ones only when backfilling or --since asks."""
        children = [lk for lk in links if not NON_ARTICLE_SITEMAP.search(lk.url)]
        children.sort(key=lambda lk: day_number(lk.date), reverse=True)
        if self.since:
            children = [lk for lk in children if not sources.older_than(lk.date, self.since)]
        elif not self.backfill:
            horizon = datetime.now(UTC) - timedelta(days=RECENT_SITEMAP_DAYS)
            recent = [lk for lk in children if lk.date is None or lk.date >= horizon]
            children = (recent or children[:1])[:RECENT_SITEMAP_CHILDREN]
        for rank, link in enumerate(children):
            yield self.source_request(link.url, self.parse_sitemap, priority=-rank)

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        if not self.source_fetched(response):
            return
        chain = response.meta.get("chain", response.url)
        depth = int(response.meta.get("depth", 1))
        if chain in self.old_chains:
            return
        urls = sources.article_links(
            response.body, response.url, self.article_domains, self.site.article_pattern
        )
        fresh = 0
        reached_old = False
        for url in urls:
            day = sources.date_in_url(url)
            if sources.older_than(day, self.since):
                reached_old = True
                continue
            request = self.article_request(sources.Link(url), "listing", chain=chain)
            if request is not None:
                fresh += 1
                yield request
        next_url = sources.next_listing_page(response.body, response.url)
        if next_url is None or reached_old or self.budget_spent():
            return
        if self.backfill or (fresh and depth < LISTING_DEPTH):
            yield self.source_request(
                next_url, self.parse_listing, {"chain": chain, "depth": depth + 1}, -depth
            )

    def source_fetched(self, response: Response) -> bool:
        """Count a source; False when it answered 304 (nothing new since last time)."""
        self.recorder.fetched()
        self.recorder.sources_ok += 1
        if response.status == 304:
            return False
        etag, last_modified = header(response, "ETag"), header(response, "Last-Modified")
        if etag or last_modified:
            url = first_url(response.request) if response.request else response.url
            self.validators[url] = {"etag": etag, "last_modified": last_modified}
        return True

    def source_failed(self, failure: Failure) -> None:
        cause, detail = classify(failure)
        self.recorder.sources_failed += 1
        self.recorder.error(first_url(failed_request(failure)), cause, detail)

    # --- articles ---------------------------------------------------------------------

    def budget_spent(self) -> bool:
        return self.article_requests >= self.max_pages

    def known_article(self, url: str) -> dict[str, Any] | None:
        """The stored article behind any variant of `url`, with what decides a re-fetch.

        One query for all variants (every sitemap and listing link is looked up); the
        earliest variant wins, a stored URL before an alias.
        """
        variants = url_variants(url)
        marks = ", ".join("?" for _ in variants)
        rows = self.db.execute(
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
        return {
            "id": row[0],
            "changed": row[1],
            "etag": row[2],
            "last_modified": row[3],
            "url": row[4],
        }

    def article_request(
        self, link: sources.Link, via: str, chain: str | None = None, strict: bool = False
    ) -> scrapy.Request | None:
        url = canonicalize(link.url)
        key = fold_key(url)
        if key in self.scheduled or not in_domains(url, self.article_domains):
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
            if not self.changed_since_stored(link.date, known["changed"]):
                if key not in self.known_seen:  # counted once, whatever lists it
                    self.known_seen.add(key)
                    self.recorder.skipped()
                return None
            if key in self.known_seen:  # an earlier source was older than this one
                self.known_seen.discard(key)
                self.recorder.skipped(-1)
            meta["refetch"] = known["id"]
            if known["etag"]:
                headers["If-None-Match"] = known["etag"]
            if known["last_modified"]:
                headers["If-Modified-Since"] = known["last_modified"]
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

    @staticmethod
    def changed_since_stored(link_date: datetime | None, stored: str | None) -> bool:
        if link_date is None or not stored:
            return False
        stored_moment = sources.parse_w3c_date(stored)
        return stored_moment is not None and link_date > stored_moment

    def parse_article(self, response: Response) -> Iterator[Any]:
        self.recorder.fetched()
        if response.status == 304:
            self.recorder.skipped()
            self.touch_source_date(response.meta)
            return
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1").lower()
        if content_type and "html" not in content_type:
            self.recorder.error(response.url, "not-html", content_type)
            return
        item = {
            "site": self.site.id,
            "url": response.url,
            "requested_url": first_url(response.request) if response.request else response.url,
            "bodies": [response.body],
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
        self.recorder.fetched()
        item = response.meta["item"]
        item["bodies"].append(response.body)
        number = int(response.meta["number"])
        next_page = sources.continuation_page(response.body, item["url"], number)
        if next_page and number < MAX_ARTICLE_PAGES:
            yield self.continuation_request(next_page, item, number + 1)
        else:
            yield item

    def continuation_failed(self, failure: Failure) -> Iterator[Any]:
        cause, detail = classify(failure)
        self.recorder.error(first_url(failed_request(failure)), cause, detail)
        yield failed_request(failure).meta["item"]

    def article_failed(self, failure: Failure) -> None:
        cause, detail = classify(failure)
        if cause == KNOWN:
            self.recorder.skipped()
            return
        self.recorder.error(first_url(failed_request(failure)), cause, detail)

    def touch_source_date(self, meta: dict[str, Any]) -> None:
        if meta.get("refetch") and meta.get("source_date"):
            self.db.table("articles").update(meta["refetch"], {"source_date": meta["source_date"]})

    def mark_old_chain(self, chain: str | None) -> None:
        """A listing reached articles older than --since: stop paging it."""
        if chain:
            self.old_chains.add(chain)

    def closed(self, reason: str) -> None:
        if self.recorder.finish(reason) == "ok":
            self.save_validators()


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

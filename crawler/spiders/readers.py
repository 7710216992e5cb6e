"""Source readers: what a feed, a sitemap and a listing page each yield.

Each reader is one callback family over the article mechanics (crawler/spiders/
articles.py); the news spider combines them. Parsing the bytes is crawler/sources.py's
job, so the same reading serves `pantau sites add|check`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import scrapy
from scrapy.http import Response

from crawler import sources
from crawler.spiders.articles import ArticleSpider
from crawler.spiders.base import day_number
from crawler.urls import fold_key

NON_ARTICLE_SITEMAP = re.compile(
    r"(page|category|categories|tag|author|user|taxonom|attachment|product|video|image)"
    r"[^/]*sitemap|sitemap-(taxonomies|users|pages)|posts-page",
    re.I,
)
# Depth limits and the recent-sitemap window: settings' crawl section (defaults.yaml).
SITEMAP_TOO_DEEP = "sitemap-depth"


class FeedReader(ArticleSpider):
    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        if not self.source_fetched(response):
            return
        links = sources.parse_feed(response.body, response.url)
        if not links and not sources.looks_like_feed(response.body):
            content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
            self.fail(response.url, "not-a-feed", content_type)
            return
        for link in links:
            if request := self.article_request(link, "feed"):
                yield request


class SitemapReader(ArticleSpider):
    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        if not self.source_fetched(response):
            return
        try:
            doc = sources.parse_sitemap(response.body)
        except sources.Oversized as exc:
            self.fail(response.url, "oversize", str(exc))
            return
        if doc.kind == "unknown":
            self.fail(response.url, "not-a-sitemap", "no <urlset> or <sitemapindex>")
            return
        if doc.kind == "index":
            depth = int(response.meta.get("sitemap_depth", 1))
            if depth >= self.settings_model.crawl.max_sitemap_depth:
                self.fail(response.url, SITEMAP_TOO_DEEP, f"an index {depth} indexes deep")
                return
            yield from self.child_sitemaps(doc.links, depth + 1)
            return
        for link in sorted(doc.links, key=lambda lk: day_number(lk.date), reverse=True):
            if request := self.article_request(link, "sitemap", strict=not doc.is_news):
                yield request

    def child_sitemaps(self, links: list[sources.Link], depth: int = 2) -> Iterator[scrapy.Request]:
        """Newest child sitemaps first; past ones only when backfilling or --since asks."""
        children = [lk for lk in links if not NON_ARTICLE_SITEMAP.search(lk.url)]
        children.sort(key=lambda lk: day_number(lk.date), reverse=True)
        if self.since:
            children = [lk for lk in children if not sources.older_than(lk.date, self.since)]
        elif not self.backfill:
            crawl = self.settings_model.crawl
            horizon = datetime.now(UTC) - timedelta(days=crawl.recent_sitemap_days)
            recent = [lk for lk in children if lk.date is None or lk.date >= horizon]
            children = (recent or children[:1])[: crawl.recent_sitemap_children]
        for rank, link in enumerate(children):
            meta = {"sitemap_depth": depth}
            if request := self.source_request(link.url, self.parse_sitemap, meta, -rank):
                yield request


class ListingReader(ArticleSpider):
    def __init__(self, *args: object, **kwargs: object):
        super().__init__(*args, **kwargs)
        self.old_chains: set[str] = set()
        self.listed: set[str] = set()  # article links seen on listing pages this run

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        if not self.source_fetched(response):
            return
        chain = response.meta.get("chain", response.url)
        depth = int(response.meta.get("depth", 1))
        if chain in self.old_chains:
            return
        urls = sources.article_links(
            response.body, response.url, self.article_scope, self.site.article_pattern
        )
        unseen = [url for url in urls if fold_key(url) not in self.listed]
        self.listed.update(fold_key(url) for url in urls)
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
        if next_url is None or reached_old or not unseen or self.budget_spent():
            return  # a page that lists nothing this run has not seen ends the walk
        if self.backfill or (fresh and depth < self.settings_model.crawl.listing_depth):
            meta = {"chain": chain, "depth": depth + 1}
            if request := self.source_request(next_url, self.parse_listing, meta, -depth):
                yield request

    def mark_old_chain(self, chain: str | None) -> None:
        """A listing reached articles older than --since: stop paging it."""
        if chain:
            self.old_chains.add(chain)

"""Item pipelines: each does one job and drops an item with the reason it was dropped.

ExtractPipeline     page bytes -> Article (multi-page articles joined), canonical URL
SinceFilterPipeline articles published before --since are not stored
StorePipeline       Article -> crawler.ingest.Ingestor (dedup, detection, store), counted
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.exceptions import DropItem

from crawler import sources
from crawler.ingest import Ingestor
from crawler.urls import canonicalize, in_domains
from extract.models import Article, Page
from extract.text import ExtractionError, extract_article, join_pages

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

log = logging.getLogger(__name__)


class _SpiderPipeline:
    """Pipelines reach the site's spider (recorder, db, options) through the crawler."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        return cls(crawler)

    @property
    def spider(self) -> Any:
        return self.crawler.spider


class ExtractPipeline(_SpiderPipeline):
    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        spider = self.spider
        url = item["url"]
        try:
            pages = [extract_article(body, url) for body in item["bodies"]]
        except ExtractionError as exc:
            spider.recorder.error(url, "extraction-failed", str(exc))
            raise DropItem(f"extraction-failed: {exc}", log_level="DEBUG") from None
        article = join_pages(pages) if len(pages) > 1 else pages[0]
        canonical = choose_canonical(url, article.canonical_url, spider)
        known = spider.known_article(canonical)
        if known is not None:  # stored under another variant (http, no slash): update that
            canonical = known["url"]
        item["article"] = replace(article, canonical_url=canonical)
        return item


def choose_canonical(fetched: str, declared: str | None, spider: Any) -> str:
    """The page's rel=canonical, unless it points off-site or at a non-article page.

    Some CMSs declare the home page or a section as every article's canonical URL;
    trusting that would store every article over the same row.
    """
    own = canonicalize(fetched)
    if not declared:
        return own
    canonical = canonicalize(declared, base=fetched)
    if not in_domains(canonical, spider.article_domains):
        return own
    if urlsplit(canonical).path.strip("/") == "" or (
        sources.is_article_url(own, spider.site.article_pattern)
        and not sources.is_article_url(canonical, spider.site.article_pattern)
    ):
        return own
    return canonical


class SinceFilterPipeline(_SpiderPipeline):
    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        spider = self.spider
        article: Article = item["article"]
        if spider.since and sources.older_than(article.published, spider.since):
            spider.mark_old_chain(item.get("chain"))
            spider.recorder.skipped()
            raise DropItem(f"older-than-since: {article.published:%Y-%m-%d}", log_level="DEBUG")
        return item


def warm_up() -> None:
    """Load the detector and the language model (seconds of work for spaCy)."""
    from extract.detect import load_detector
    from extract.text import detect_language

    load_detector()
    detect_language("Bawaslu mengawasi netralitas aparatur sipil negara.")


_warm_up: Future[None] | None = None


def start_warm_up() -> Future[None]:
    """Load models in a thread while the first feeds and sitemaps download.

    Loading them inside the first item would block the reactor for seconds and time
    out the requests in flight; items wait for it without blocking instead.
    """
    global _warm_up
    if _warm_up is None:
        future: Future[None] = Future()
        _warm_up = future

        def run() -> None:
            try:
                warm_up()
            except BaseException as exc:  # surfaced to the first item that waits
                future.set_exception(exc)
            else:
                future.set_result(None)

        # A daemon thread: a crawl that stores nothing does not wait for it to finish.
        threading.Thread(target=run, name="warm-up", daemon=True).start()
    return _warm_up


class StorePipeline(_SpiderPipeline):
    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.ingestor: Ingestor | None = None

    async def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        spider = self.spider
        if self.ingestor is None:
            await asyncio.wrap_future(start_warm_up())
            self.ingestor = Ingestor(spider.db, spider.settings_model)
        article: Article = item["article"]
        page = Page(
            url=canonicalize(item["url"]),
            html=item["bodies"][0],
            site=item["site"],
            fetched_at=datetime.now(UTC),
        )
        extra = {
            key: item[key]
            for key in ("etag", "last_modified", "source_date")
            if item.get(key) is not None
        }
        result = self.ingestor.ingest_article(page, article, extra)
        if extra and result.status == "unchanged":
            spider.db.table("articles").update(result.article_id, extra)
        for seen in {canonicalize(item["requested_url"]), canonicalize(item["url"])}:
            if seen != article.canonical_url:
                self.ingestor.db.table("article_urls").insert(
                    {"url": seen, "article_id": result.article_id}, replace=True
                )
        spider.recorder.article(result.status)
        item["status"] = result.status
        item["article_id"] = result.article_id
        item.pop("bodies", None)
        return item

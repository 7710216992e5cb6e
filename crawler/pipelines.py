"""Item pipelines: each does one job and drops an item with the reason it was dropped.

ExtractPipeline     page bytes -> Article (multi-page articles joined)
CanonicalPipeline   the URL the article is stored under (rel=canonical when trustworthy)
SinceFilterPipeline articles published before --since are not stored
StorePipeline       Article -> the application's ingest pipeline (PANTAU_INGESTOR)

A pipeline that does not pass an item on raises `Dropped` with its cause; the store
extension (crawler/extensions.py) counts and records it, and counts stored items by status.

Extraction and the store are CPU work (trafilatura, spaCy, MinHash, SQLite): with
`crawl.ingest_processes` > 0 (the default) they run in worker processes
(crawler/worker.py) and these pipelines only await the small result, so the reactor keeps
fetching. Everything that needs the spider (its domains, known articles) stays here and works
on that result. With 0 they run inside this process, as a debugging aid.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from concurrent.futures import Future
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.utils.misc import load_object

from crawler import sources
from crawler.failures import Dropped
from crawler.urls import canonicalize
from crawler.worker import (
    ArticleSink,
    Extracted,
    ExtractJob,
    IngestFailed,
    IngestPool,
    Stored,
    StoreJob,
    acquire_pool,
    extract_pages,
    extract_task,
    release_pool,
    store_article,
    store_task,
)
from extract.models import Article

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from pantau.core.settings import Settings

log = logging.getLogger(__name__)

INGEST_FAILED = "ingest-failed"


class _SpiderPipeline:
    """Pipelines reach the site's spider (db, domains, options) through the crawler."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        return cls(crawler)

    @property
    def spider(self) -> Any:
        return self.crawler.spider


class _IngestPipeline(_SpiderPipeline):
    """A pipeline whose work runs in the crawl's ingest pool when there is one."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.pool: IngestPool | None = None

    def open_spider(self) -> None:
        settings: Settings = self.spider.settings_model
        if settings.crawl.ingest_processes > 0:
            self.pool = acquire_pool(
                database_file(self.spider.db), settings, self.crawler.settings["PANTAU_INGESTOR"]
            )

    async def close_spider(self) -> None:
        if self.pool is not None:
            pool, self.pool = self.pool, None
            await release_pool(pool)

    def ingest_failed(self, exc: IngestFailed) -> Dropped:
        """The page was in a worker that died: counted, and fetched again next crawl."""
        return Dropped(INGEST_FAILED, str(exc))


def database_file(db: Any) -> str:
    """The file behind the spider's connection: each worker opens its own."""
    row = db.execute("pragma database_list").fetchone()
    return str(row[2])


class ExtractPipeline(_IngestPipeline):
    async def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        job = ExtractJob(item["url"], list(item["bodies"]))
        if self.pool is None:
            await models_loaded()
        try:
            outcome: Extracted = (
                await self.pool.run(extract_task, job) if self.pool else extract_pages(job)
            )
        except IngestFailed as exc:
            raise self.ingest_failed(exc) from None
        if outcome.article is None:
            raise Dropped("extraction-failed", outcome.error or "")
        item["article"] = outcome.article
        return item


class CanonicalPipeline(_SpiderPipeline):
    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        spider = self.spider
        article: Article = item["article"]
        canonical = choose_canonical(item["url"], article.canonical_url, spider)
        known = spider.known_article(canonical)
        if known is not None:  # stored under another variant (http, no slash): update that
            canonical = known.url
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
    if not spider.article_scope.allows(canonical):
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
            raise Dropped("older-than-since", f"{article.published:%Y-%m-%d}", failed=False)
        return item


def warm_up() -> None:
    """Load the detector and the language model (seconds of work for spaCy)."""
    from extract.detect import load_detector
    from extract.text import detect_language

    load_detector()
    detect_language("Bawaslu mengawasi netralitas aparatur sipil negara.")


_warm_up: Future[None] | None = None


async def models_loaded() -> None:
    """In-process mode: load the models in a thread, once, when the first page needs them.

    Loading them inside the first item would block the reactor for seconds and time
    out the requests in flight; items wait for the thread without blocking instead.
    Nothing loads before a page needs it: a crawl that finds nothing new loads nothing.
    """
    global _warm_up
    if _warm_up is None:
        future: Future[None] = Future()
        _warm_up = future

        def run() -> None:
            try:
                warm_up()
            except BaseException as exc:  # surfaced to every item that waits
                future.set_exception(exc)
            else:
                future.set_result(None)

        threading.Thread(target=run, name="warm-up", daemon=True).start()
    await asyncio.wrap_future(_warm_up)


class StorePipeline(_IngestPipeline):
    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.ingestor: ArticleSink | None = None

    async def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        article: Article = item["article"]
        fetched = canonicalize(item["url"])
        job = StoreJob(
            url=fetched,
            html=item["bodies"][0],
            site=item["site"],
            fetched_at=datetime.now(UTC),
            article=article,
            extra={
                key: item[key]
                for key in ("etag", "last_modified", "source_date")
                if item.get(key) is not None
            },
            aliases=tuple(
                seen
                for seen in sorted({canonicalize(item["requested_url"]), fetched})
                if seen != article.canonical_url
            ),
        )
        try:
            result: Stored = (
                await self.pool.run(store_task, job)
                if self.pool
                else store_article(await self.in_process_ingestor(), job)
            )
        except IngestFailed as exc:
            raise self.ingest_failed(exc) from None
        item["status"] = result.status
        item["article_id"] = result.article_id
        item.pop("bodies", None)
        return item

    async def in_process_ingestor(self) -> ArticleSink:
        if self.ingestor is None:
            await models_loaded()
            factory = load_object(self.crawler.settings["PANTAU_INGESTOR"])
            self.ingestor = factory(self.spider.db, self.spider.settings_model)
        return self.ingestor

    async def close_spider(self) -> None:
        log.info(
            "%s: pages ingested %s; spacy loaded in the crawl process: %s",
            self.spider.site.id,
            "by worker processes" if self.pool else "in process",
            "spacy" in sys.modules,
        )
        await super().close_spider()

"""One page through the whole chain: extract -> dedup -> detect -> store.

The Scrapy item pipeline (in an ingest worker process or in the crawl process) and
`pantau ingest` all call `Ingestor`, so a local file and a crawled page are treated
exactly alike.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from sqlite_utils import Database

from extract.dedup import StoryIndex
from extract.detect import Detector, load_detector
from extract.models import Article, Finding, Page
from extract.text import extract_article
from pantau.core import store
from pantau.core.settings import Settings

log = logging.getLogger(__name__)

Status = Literal["new", "updated", "unchanged"]


@dataclass(frozen=True)
class IngestResult:
    article_id: int
    status: Status
    cluster_id: int | None
    finding: Finding | None


class Ingestor:
    def __init__(self, db: Database, settings: Settings, detector: Detector | None = None):
        self.db = db
        self.index = StoryIndex(db, settings.dedup)
        self.detector = detector or load_detector()

    def ingest_page(self, page: Page, extra: dict[str, Any] | None = None) -> IngestResult:
        """Extract a fetched page and ingest it; raises ExtractionError on an unusable page."""
        return self.ingest_article(page, extract_article(page.html, page.url), extra)

    def ingest_article(
        self,
        page: Page,
        article: Article,
        extra: dict[str, Any] | None = None,
        aliases: Iterable[str] = (),
    ) -> IngestResult:
        """Store the article with its story and finding; `aliases`: other URLs it was reached by.

        The CPU work (MinHash, detection) runs before the write transaction, so the database
        is locked for a few milliseconds of SQL a page, not for the detector: ingest workers
        and the crawl process write side by side. An unchanged text costs no analysis.
        """
        record = self._record(page, article, extra)
        if store.stored_text_hash(self.db, record["url"]) == store.content_hash(article.text):
            fingerprint = finding = None
        else:
            fingerprint = self.index.fingerprint(article.text)
            finding = self.analyze(article)
        with store.write_transaction(self.db):
            article_id, status = store.save_article(self.db, record)
            for url in {page.url, *aliases} - {record["url"]}:
                store.add_url_alias(self.db, url, article_id)
            if status == "unchanged":
                return self._unchanged(article_id, extra)
            if fingerprint is None or finding is None:  # changed by another process meanwhile
                fingerprint = self.index.fingerprint(article.text)
                finding = self.analyze(article)
            first_seen = record["published"] or record["fetched_at"]
            cluster_id = self.index.assign_fingerprint(
                article_id, article.title, fingerprint, first_seen
            )
            store.save_finding(self.db, article_id, finding.to_dict(), finding.analyzer_version)
        log.debug("%s %s -> cluster %s, %s", status, record["url"], cluster_id, finding.verdict)
        return IngestResult(article_id, status, cluster_id, finding)

    def analyze(self, article: Article) -> Finding:
        """Non-Indonesian pages are kept but not analysed."""
        if not article.is_indonesian:
            return Finding.not_analysed(self.detector.version)
        return self.detector.analyze(article)

    @staticmethod
    def _record(page: Page, article: Article, extra: dict[str, Any] | None) -> dict[str, Any]:
        return {
            "url": article.canonical_url or page.url,
            "site": page.site,
            "source": page.source,
            "title": article.title,
            "text": article.text,
            "published": article.published.isoformat() if article.published else None,
            "author": article.author,
            "sitename": article.sitename,
            "lang": article.lang,
            "fetched_at": page.fetched_at.isoformat(timespec="seconds"),
            "html_gz": store.compress_html(page.html),
            **(extra or {}),
        }

    def _unchanged(self, article_id: int, extra: dict[str, Any] | None) -> IngestResult:
        """The same text again: only the fetch validators (ETag, dates) are refreshed."""
        if extra:
            store.update_article(self.db, article_id, extra)
        return IngestResult(article_id, "unchanged", store.cluster_of(self.db, article_id), None)

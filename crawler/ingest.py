"""One page through the whole chain: extract -> dedup -> detect -> store.

The Scrapy item pipeline and `pantau ingest` both call `Ingestor`, so a local
file and a crawled page are treated exactly alike.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from sqlite_utils import Database

from extract.dedup import StoryIndex
from extract.detect import Detector, load_detector
from extract.models import Article, Finding, Page
from extract.text import extract_article
from pantau import store
from pantau.settings import Settings

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
        self, page: Page, article: Article, extra: dict[str, Any] | None = None
    ) -> IngestResult:
        record = {
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
        with self.db.atomic():
            article_id, status = store.save_article(self.db, record)
            if page.url != record["url"]:
                store.add_url_alias(self.db, page.url, article_id)
            if status == "unchanged":
                row = self.db.execute(
                    "select cluster_id from articles where id = ?", [article_id]
                ).fetchone()
                return IngestResult(article_id, status, row[0] if row else None, None)
            first_seen = record["published"] or record["fetched_at"]
            cluster_id = self.index.assign(article_id, article.title, article.text, first_seen)
            finding = self.analyze(article)
            store.save_finding(self.db, article_id, finding.to_dict(), finding.analyzer_version)
        log.debug("%s %s -> cluster %s, %s", status, record["url"], cluster_id, finding.verdict)
        return IngestResult(article_id, status, cluster_id, finding)

    def analyze(self, article: Article) -> Finding:
        """Non-Indonesian pages are kept but not analysed."""
        if not article.is_indonesian:
            return Finding.not_analysed(self.detector.version)
        return self.detector.analyze(article)

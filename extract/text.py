"""HTML -> Article with trafilatura. (Interface placeholder: the crawler helper deepens it.)"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import py3langid
import trafilatura
from trafilatura.settings import Document

from extract.models import Article, Page
from pantau.settings import PantauError


class ExtractionError(PantauError):
    """A page or file yields no usable article; the message names the URL or file."""


def detect_language(text: str) -> str:
    lang, _ = py3langid.classify(text[:5000])
    return str(lang)


def extract_article(html: str | bytes, url: str) -> Article:
    doc = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, as_dict=False
    )
    if not isinstance(doc, Document) or not doc.text:
        raise ExtractionError(f"{url}: no article text found")
    published = None
    if doc.date:
        try:
            published = datetime.fromisoformat(doc.date)
        except ValueError:
            published = None
    return Article(
        url=url,
        title=doc.title or "",
        text=doc.text,
        published=published,
        author=doc.author,
        sitename=doc.sitename,
        lang=detect_language(doc.text),
    )


def read_document(path: Path, site: str = "local") -> tuple[Page, Article]:
    """A local .html file, or a .txt file: title line, blank line, body."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ExtractionError(f"{path}: cannot read ({exc.strerror})") from None
    url = path.resolve().as_uri()
    page = Page(url=url, html=raw, site=site, fetched_at=datetime.now(UTC), source="file")
    if path.suffix.lower() in {".html", ".htm"}:
        return page, extract_article(raw, url)
    if path.suffix.lower() != ".txt":
        raise ExtractionError(f"{path}: not an .html or .txt file")
    text = raw.decode("utf-8", errors="replace").replace("\r\n", "\n")
    title, _, body = text.strip().partition("\n")
    body = body.strip() or title
    if not text.strip():
        raise ExtractionError(f"{path}: empty file")
    return page, Article(url=url, title=title.strip(), text=body, lang=detect_language(body))

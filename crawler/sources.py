"""Reading discovery sources: RSS/Atom feeds, sitemaps (index, urlset, Google News), listings.

Pure functions over bytes, shared by the spider and by `pantau sites add/check`, so the
same reading is tested once without Scrapy or a network.
"""

from __future__ import annotations

import io
import re
from collections.abc import Container, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal
from urllib.parse import urljoin, urlsplit

import feedparser
import lxml.etree
import lxml.html
from scrapy.utils.gz import gunzip
from w3lib.encoding import html_to_unicode

from crawler.urls import canonicalize, is_http_url
from pantau.core.calendar import parse_iso

MAX_SITEMAP_BYTES = 50 * 1024 * 1024
URL_DATE = re.compile(r"/(20\d{2})[/-](0[1-9]|1[0-2])[/-](0[1-9]|[12]\d|3[01])(?:/|-|$)")
PAGINATION_TEXT = re.compile(
    r"^\s*(next|selanjutnya|berikutnya|berikut|lanjut|older|lebih lama)?\s*(page|halaman)?"
    r"\s*(»|›|>>|>|→)?\s*$",
    re.I,
)
PAGE_IN_URL = re.compile(r"(?:/page/(\d+)/?$)|(?:[?&](?:page|paged|p|hal|halaman)=(\d+))")
NON_ARTICLE_PATH = re.compile(
    r"/(tag|tags|category|kategori|author|penulis|page|search|cari|feed|indeks|index|"
    r"topik|topic|wp-content|wp-json|wp-admin|login|iklan|karir)(/|$)"
    r"|/(about|tentang|kontak|contact|hubungi|redaksi|pedoman|privacy|kebijakan|"
    r"syarat|disclaimer|info-iklan|susunan-redaksi|kode-etik)[^/]*/?$",
    re.I,
)
MIN_SLUG_WORDS = 3


@dataclass(frozen=True)
class Link:
    url: str
    date: datetime | None = None
    title: str | None = None


@dataclass(frozen=True)
class SitemapDoc:
    kind: Literal["index", "urlset", "unknown"]
    links: list[Link]
    is_news: bool = False


# --- dates --------------------------------------------------------------------------


def parse_w3c_date(value: str | None) -> datetime | None:
    """Sitemap/feed dates: `2024-04-24`, `2024-04-24T13:00:00+07:00`, `...Z`."""
    return parse_iso(value, day_prefix=True)


def date_in_url(url: str) -> date | None:
    """Many outlets put the publication day in the path: /2024/04/24/slug."""
    match = URL_DATE.search(urlsplit(url).path)
    if not match:
        return None
    try:
        return date(*map(int, match.groups()))
    except ValueError:
        return None


def older_than(moment: datetime | date | None, since: date | None) -> bool:
    if moment is None or since is None:
        return False
    day = moment.date() if isinstance(moment, datetime) else moment
    return day < since


# --- feeds --------------------------------------------------------------------------


def looks_like_feed(body: bytes) -> bool:
    head = body[:2000].lstrip().lower()
    return b"<rss" in head or b"<feed" in head or b"<rdf:rdf" in head


def parse_feed(body: bytes, base_url: str) -> list[Link]:
    """Entries of an RSS/Atom feed, with their published (or updated) date."""
    parsed = feedparser.parse(io.BytesIO(body))
    links: list[Link] = []
    for entry in parsed.entries:
        href = entry.get("link") or entry.get("id")
        if not href:
            continue
        url = urljoin(base_url, href)
        if not is_http_url(url):
            continue
        stamp = entry.get("updated_parsed") or entry.get("published_parsed")
        moment = (
            datetime(stamp[0], stamp[1], stamp[2], stamp[3], stamp[4], stamp[5], tzinfo=UTC)
            if stamp
            else None
        )
        links.append(Link(url=url, date=moment, title=entry.get("title")))
    return links


# --- sitemaps -----------------------------------------------------------------------


class Oversized(ValueError):
    """A compressed source inflates past the size cap (a decompression bomb)."""


def maybe_gunzip(body: bytes, limit: int = MAX_SITEMAP_BYTES) -> bytes:
    """A `.xml.gz` sitemap inflated, refusing one that grows past `limit` bytes."""
    if body[:2] != b"\x1f\x8b":
        return body
    try:
        return gunzip(body, max_size=limit)
    except ValueError as exc:  # Scrapy's only ValueError here: past max_size
        raise Oversized(f"inflates past {limit} bytes") from exc
    except (OSError, EOFError):
        return b""


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def parse_sitemap(body: bytes) -> SitemapDoc:
    """A sitemap index or urlset; a Google News entry's publication_date beats lastmod.

    Raises Oversized for a gzipped sitemap that inflates past MAX_SITEMAP_BYTES.
    """
    body = maybe_gunzip(body)
    try:
        root = lxml.etree.fromstring(
            body,
            parser=lxml.etree.XMLParser(recover=True, resolve_entities=False, no_network=True),
        )
    except lxml.etree.XMLSyntaxError:
        return SitemapDoc("unknown", [])
    if root is None:
        return SitemapDoc("unknown", [])
    kind_tag = _local(root.tag)
    kind: Literal["index", "urlset", "unknown"] = (
        "index" if kind_tag == "sitemapindex" else "urlset" if kind_tag == "urlset" else "unknown"
    )
    links: list[Link] = []
    is_news = False
    for node in root:
        if _local(node.tag) not in ("url", "sitemap"):
            continue
        loc = lastmod = published = title = None
        for child in node.iter():
            name = _local(child.tag)
            text = (child.text or "").strip()
            if name == "loc" and loc is None:
                loc = text
            elif name == "lastmod":
                lastmod = text
            elif name == "publication_date":
                published, is_news = text, True
            elif name == "title" and child is not node:
                title = text or None
        if loc and is_http_url(loc):
            moment = parse_w3c_date(published) or parse_w3c_date(lastmod)
            links.append(Link(url=loc, date=moment, title=title))
    return SitemapDoc(kind, links, is_news)


# --- page bytes -----------------------------------------------------------------------

NON_ASCII = re.compile("[^\x00-\x7f\ufffd]")


def utf8_page(content_type: str | None, body: bytes) -> bytes:
    """A page's bytes as valid UTF-8, whatever it was sent in, for extraction and the store.

    Valid UTF-8 passes untouched. A UTF-8 page with a few bad bytes (most of its
    non-ASCII characters valid) keeps its text and loses only those bytes, instead of
    being read whole as cp1252 ("â€“"). Anything else is decoded as a browser would
    (w3lib's html_to_unicode: BOM, the HTTP charset, the <meta> charset), cp1252 when
    nothing is declared, bad bytes replaced.
    """
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return body
    text = body.decode("utf-8", errors="replace")
    if len(NON_ASCII.findall(text)) <= text.count("\ufffd"):
        _, text = html_to_unicode(content_type, body, auto_detect_fun=lambda _: "cp1252")
    return text.encode("utf-8")


# --- listing pages ------------------------------------------------------------------


def parse_html(body: bytes | str, base_url: str) -> lxml.html.HtmlElement | None:
    try:
        doc = lxml.html.fromstring(body, base_url=base_url)
    except (lxml.etree.ParserError, ValueError):
        return None
    return doc


def anchors(doc: lxml.html.HtmlElement, base_url: str) -> Iterable[tuple[str, str, str]]:
    """(absolute url, link text, rel) of every <a href> in the document."""
    for element in doc.iter("a"):
        href = element.get("href")
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "whatsapp:")):
            continue
        url = urljoin(base_url, href.strip())
        if is_http_url(url):
            yield url, (element.text_content() or "").strip(), (element.get("rel") or "").lower()


def looks_like_article(url: str) -> bool:
    """A guess for sites without a learnt pattern: a dated path or a long slug, not a section."""
    path = urlsplit(url).path
    if NON_ARTICLE_PATH.search(path):
        return False
    if date_in_url(url):
        return True
    last = [segment for segment in path.split("/") if segment]
    if not last:
        return False
    slug = re.sub(r"\.(html?|php)$", "", last[-1])
    return len([w for w in re.split(r"[-_]", slug) if w]) >= MIN_SLUG_WORDS and len(slug) >= 15


def is_continuation_url(url: str) -> bool:
    """Page 2.. of a multi-page article (`/slug/2/`, `?page=2`): fetched with page 1 only."""
    parts = urlsplit(url)
    if re.search(r"(^|&)(page|halaman|hal|p)=\d+($|&)", parts.query):
        return True
    return re.search(r"/[^/]*-[^/]*/\d{1,2}/?$", parts.path) is not None


def is_article_url(url: str, pattern: str | None) -> bool:
    if is_continuation_url(url):
        return False
    if pattern:
        return re.search(pattern, url) is not None
    return looks_like_article(url)


def article_links(
    body: bytes | str, base_url: str, scope: Container[str], pattern: str | None
) -> list[str]:
    """Article URLs linked from a listing page, canonical, in page order, once each."""
    doc = parse_html(body, base_url)
    if doc is None:
        return []
    seen: set[str] = set()
    found: list[str] = []
    for url, _, _ in anchors(doc, base_url):
        canonical = canonicalize(url)
        if canonical in seen or canonical not in scope:
            continue
        if is_article_url(canonical, pattern):
            seen.add(canonical)
            found.append(canonical)
    return found


def page_number(url: str) -> int:
    match = PAGE_IN_URL.search(url)
    if not match:
        return 1
    return int(match.group(1) or match.group(2))


def next_listing_page(body: bytes | str, url: str) -> str | None:
    """The next page of a listing: rel=next, a 'Selanjutnya'/'Next'/'»' link, or page N+1."""
    doc = parse_html(body, url)
    if doc is None:
        return None
    for element in doc.iter("link"):
        if (element.get("rel") or "").lower() == "next" and element.get("href"):
            return urljoin(url, element.get("href"))
    current = page_number(url)
    numbered: str | None = None
    for href, text, rel in anchors(doc, url):
        if "next" in rel.split():
            return href
        if text.strip() and PAGINATION_TEXT.match(text) and page_number(href) > current:
            return href
        if text.strip() == str(current + 1) and page_number(href) == current + 1:
            numbered = href
    return numbered


def feed_links_in_html(body: bytes | str, base_url: str) -> list[str]:
    """`<link rel="alternate" type="application/rss+xml">` feeds a page advertises."""
    doc = parse_html(body, base_url)
    if doc is None:
        return []
    found = []
    for element in doc.iter("link"):
        kind = (element.get("type") or "").lower()
        rel = (element.get("rel") or "").lower()
        if "alternate" in rel and kind in ("application/rss+xml", "application/atom+xml"):
            href = element.get("href")
            if href:
                found.append(urljoin(base_url, href))
    return found


HREFS = lxml.etree.XPath("//a/@href", smart_strings=False)


def page_number_token(number: int) -> re.Pattern[str]:
    """The page number standing alone (`/2/`, `=2`), not inside `2024` or `12`."""
    return re.compile(rf"(?<![0-9]){number}(?![0-9])")


def continuation_page(body: bytes | str, article_url: str, current: int = 1) -> str | None:
    """Page `current + 1` of a multi-page article (`/slug/2/` or `?page=2`), when linked.

    `article_url` is always the first page's URL. A furniture-heavy page links hundreds
    of other URLs; only hrefs that carry the wanted page number and, when they name a path,
    the article's slug (or a %-escape that might hide either) are resolved and canonicalised.
    """
    wanted = current + 1
    base = urlsplit(canonicalize(article_url))
    stem = base.path.rstrip("/")
    paths = {f"{stem}/{wanted}", f"{stem}/{wanted}/"}
    page_query = re.compile(rf"(page|halaman|hal|p)={wanted}")
    token = page_number_token(wanted)
    slug = stem.rsplit("/", 1)[-1]
    doc = parse_html(body, article_url)
    if doc is None:
        return None
    for raw in HREFS(doc):
        href = raw.strip()
        if "%" not in href and (
            not token.search(href) or (slug not in href and href.startswith(("/", "http")))
        ):
            continue
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "whatsapp:")):
            continue
        url = urljoin(article_url, href)
        if not is_http_url(url):
            continue
        canonical = canonicalize(url)
        candidate = urlsplit(canonical)
        if candidate.netloc != base.netloc:
            continue
        if candidate.path in paths and not candidate.query:
            return canonical
        same_page = candidate.path.rstrip("/") == stem
        if same_page and page_query.fullmatch(candidate.query):
            return canonical
    return None

"""HTML -> Article: trafilatura for the body, plus what Indonesian news pages need on top.

trafilatura finds the main text (on the page's <article> subtree when there is exactly one);
title, author and site name are read with trafilatura's metadata helpers. Regional outlets
add things it does not know: dates printed as "Rabu, 24 April 2024 13:00 WIB" or "24/04/24", JSON-LD
NewsArticle blocks with the exact publication time, "Baca juga:" links and share widgets
inside the body, the same body printed twice (print versions), wrong charset
declarations. The knowledge for that lives in config/extraction.yaml (month names, zones) and
config/furniture.yaml (furniture lines).
"""

from __future__ import annotations

import codecs
import contextlib
import json
import re
import sys
from collections.abc import Iterator
from copy import deepcopy
from dataclasses import replace
from datetime import UTC, datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import lxml.etree
import lxml.html
import numpy as np
import py3langid
import trafilatura
from htmldate import find_date
from pydantic import Field
from trafilatura.metadata import (
    examine_meta,
    extract_author,
    extract_meta_json,
    extract_sitename,
    extract_title,
)
from trafilatura.settings import Document, set_date_params
from trafilatura.utils import HTML_PARSER, INVALID_XML_CHARS, load_html, repair_faulty_html

from extract.models import Article, Page
from pantau.core.calendar import Zones, load_zones, parse_iso
from pantau.core.knowledge import config_file, is_furniture, load_furniture
from pantau.core.settings import PantauError, StrictModel, load_model

ARTICLE_TYPES = {
    "newsarticle",
    "article",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "blogposting",
    "webpage",
}
PUBLISHED_META = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "dc.date.issued",
    "dc.date",
    "date",
    "content_publishedtime",
)
DATE_CLASS = re.compile(r"date|time|tanggal|waktu|posted|publish|meta|byline|jam", re.I)
CHARSET_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([a-zA-Z0-9_\-]+)""", re.I)
MAX_HTML_CHARS = 3_000_000
# py3langid's cost grows with the text; two paragraphs tell Indonesian from the rest (800
# characters give the same language as 1,500 on all 450 fixture and corpus pages, in a third
# of the time).
LANGUAGE_SAMPLE_CHARS = 800
# What extract_article asks of trafilatura for the body (benchmarks/bench_pipeline.py times
# trafilatura alone with these options, with and without its metadata). `fast` skips its
# second extractor (readability), whose comparison cost a third of trafilatura's time without
# changing a golden page. Metadata is read by `page_metadata` below, not by bare_extraction.
TRAFILATURA_OPTIONS: dict[str, Any] = {
    "with_metadata": False,
    "include_comments": False,
    "include_tables": False,
    "fast": True,
}


class ExtractionError(PantauError):
    """A page or file yields no usable article; the message names the URL or file."""


# --- knowledge ----------------------------------------------------------------------


class ExtractionConfig(StrictModel):
    months: dict[int, list[str]]
    min_repeated_chars: int = Field(40, ge=1)
    min_text_chars: int = Field(80, ge=0)


class ExtractionRules:
    """Compiled form of config/extraction.yaml, with the time zones and furniture patterns."""

    def __init__(
        self, config: ExtractionConfig, zones: Zones, furniture: tuple[re.Pattern[str], ...] = ()
    ):
        self.config = config
        self.zones = zones
        self.furniture = furniture
        self.month_of = {name: n for n, names in config.months.items() for name in names}
        months = "|".join(sorted(self.month_of, key=len, reverse=True))
        names = "|".join(sorted(zones.offsets, key=len, reverse=True))
        clock = (
            r"(?:\s*[,|/\-–]?\s*(?:pukul|jam|pkl\.?)?\s*"
            r"(?<![\d.:])(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?(?![\d]))?"
        )
        zone = rf"\s*(?:({names})\b)?"
        self.named_date = re.compile(
            rf"\b(\d{{1,2}})\s+({months})\.?,?\s+(\d{{4}}){clock}{zone}", re.I
        )
        self.numeric_date = re.compile(
            rf"(?<![\d/.-])(\d{{1,2}})[/.-](\d{{1,2}})[/.-](\d{{4}}|\d{{2}})(?![\d/.-]){clock}{zone}",
            re.I,
        )
        self.iso_date = re.compile(
            rf"\b(\d{{4}})-(\d{{2}})-(\d{{2}})(?:[T\s](\d{{2}}):(\d{{2}}))?{zone}"
        )

    def zone(self, name: str | None) -> timezone:
        return self.zones.of(name)

    def is_furniture(self, line: str) -> bool:
        return is_furniture(line, self.furniture)


@lru_cache(maxsize=4)
def load_rules(directory: Path | None = None) -> ExtractionRules:
    config = load_model(config_file("extraction.yaml", directory), ExtractionConfig)
    return ExtractionRules(config, load_zones(directory), load_furniture(directory).article)


# --- language -----------------------------------------------------------------------


def detect_language(text: str) -> str:
    lang, _ = py3langid.classify(text[:LANGUAGE_SAMPLE_CHARS])
    return str(lang)


# --- dates --------------------------------------------------------------------------


def _build(
    rules: ExtractionRules,
    year: int,
    month: int,
    day: int,
    hour: str | None,
    minute: str | None,
    second: str | None,
    zone: str | None,
) -> datetime | None:
    if year < 100:
        year += 2000
    try:
        return datetime(
            year,
            month,
            day,
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=rules.zone(zone),
        )
    except ValueError:
        return None


def parse_indonesian_date(text: str, rules: ExtractionRules | None = None) -> datetime | None:
    """The first date in visible text: "Rabu, 24 April 2024 13:00 WIB", "24/04/24", ISO.

    Numeric dates are day/month/year, as Indonesian outlets print them. A date without a
    zone is taken in the default zone (WIB).
    """
    rules = rules or load_rules()
    candidates: list[tuple[int, datetime]] = []
    if match := rules.named_date.search(text):
        day, month_name, year, hour, minute, second, zone = match.groups()
        month = rules.month_of[month_name.lower()]
        if moment := _build(rules, int(year), month, int(day), hour, minute, second, zone):
            candidates.append((match.start(), moment))
    if match := rules.numeric_date.search(text):
        d, m, y, hour, minute, second, zone = match.groups()
        if moment := _build(rules, int(y), int(m), int(d), hour, minute, second, zone):
            candidates.append((match.start(), moment))
    if match := rules.iso_date.search(text):
        y, m, d, hour, minute, zone = match.groups()
        if moment := _build(rules, int(y), int(m), int(d), hour, minute, None, zone):
            candidates.append((match.start(), moment))
    return min(candidates, key=lambda c: c[0])[1] if candidates else None


# --- decoding -----------------------------------------------------------------------


# Byte-order marks, longest first (the UTF-32 LE mark starts with the UTF-16 LE one).
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# How much of a file is looked at to tell text from binary data, and the share of control
# or undecodable characters in it beyond which it is not text.
SNIFF_CHARS = 8192
MAX_NON_TEXT_SHARE = 0.1
_NON_TEXT = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f\ufffd]")


def decode_html(raw: bytes) -> str:
    """Bytes -> text: a byte-order mark decides; else valid UTF-8 beats a declaration
    (which is often wrong), and the declaration beats cp1252."""
    for bom, encoding in BOMS:
        if raw.startswith(bom):
            return raw[len(bom) :].decode(encoding, errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = CHARSET_META.search(raw[:4096])
    for encoding in ([declared.group(1).decode("ascii")] if declared else []) + ["cp1252"]:
        try:
            return raw.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return raw.decode("utf-8", errors="replace")


# --- page metadata ------------------------------------------------------------------


def parse_tree(html: str) -> lxml.html.HtmlElement | None:
    """The page parsed once, exactly as trafilatura parses it, for it and for our readers.

    trafilatura's `load_html` first deletes XML-invalid control characters with a regular
    expression over the whole page: about 1 ms for a 115 KB page, twice lxml's own parse,
    and almost no page has any. A page that needs none of its repairs is parsed directly,
    with its parser; any other page, or one that parses to a dubious tree, goes through
    `load_html` itself, so the tree is the same either way.
    """
    html = html[:MAX_HTML_CHARS]
    tree = None if needs_repair(html) else parse_unrepaired(html)
    if tree is not None:
        return tree
    try:
        return load_html(html)
    except (lxml.etree.ParserError, ValueError, TypeError):
        return None


def needs_repair(html: str) -> bool:
    """Whether trafilatura's `repair_faulty_html` would change the page.

    Its DOCTYPE and `<html/>` repairs only look at the first line and the first 4 KB, so
    trying them on the first 4 KB tells; control characters are looked for one by one,
    each a C-speed substring search.
    """
    if any(char in html for char in invalid_xml_chars()):
        return True
    head = html[:4096]
    return repair_faulty_html(head, head[:50].lower()) != head


@lru_cache(maxsize=1)
def invalid_xml_chars() -> tuple[str, ...]:
    """The characters trafilatura's INVALID_XML_CHARS deletes, read off its own pattern.

    Every code point is run through the pattern once (~20 ms a process), so the check
    follows whatever list the installed trafilatura has.
    """
    every = np.arange(sys.maxunicode + 1, dtype="<u4").tobytes()
    return tuple(sorted(set(INVALID_XML_CHARS.findall(every.decode("utf-32-le", "surrogatepass")))))


def parse_unrepaired(html: str) -> lxml.html.HtmlElement | None:
    """`load_html`'s first attempt; None where it would go on to its fallbacks."""
    try:
        tree = lxml.html.fromstring(html, parser=HTML_PARSER)
    except (lxml.etree.LxmlError, ValueError):
        return None
    return tree if len(tree) >= 2 else None


def iter_json_ld(tree: lxml.html.HtmlElement) -> Iterator[dict[str, Any]]:
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text_content() or "null", strict=False)
        except ValueError:
            continue
        yield from _flatten_ld(data)


def _flatten_ld(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for entry in data:
            yield from _flatten_ld(entry)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _flatten_ld(data["@graph"])


def _types(entry: dict[str, Any]) -> set[str]:
    kind = entry.get("@type", [])
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).lower() for k in kinds}


def _author_names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return _author_names(value.get("name"))
    if isinstance(value, list):
        return [name for entry in value for name in _author_names(entry)]
    return []


def json_ld_article(tree: lxml.html.HtmlElement) -> dict[str, Any]:
    """Headline, datePublished and author of the page's (News)Article JSON-LD, if any."""
    best: dict[str, Any] = {}
    for entry in iter_json_ld(tree):
        kinds = _types(entry)
        if not kinds & ARTICLE_TYPES:
            continue
        found = {
            "headline": entry.get("headline") or entry.get("name"),
            "published": parse_iso(entry.get("datePublished"), naive=None),
            "author": ", ".join(dict.fromkeys(_author_names(entry.get("author")))) or None,
        }
        if kinds - {"webpage"} or not best:
            best = {k: v for k, v in found.items() if v} | {
                k: v for k, v in best.items() if v and not found.get(k)
            }
    return best


def meta_contents(tree: lxml.html.HtmlElement) -> dict[str, str]:
    """Each <meta> name/property/itemprop (lower-cased) -> its first non-empty content."""
    found: dict[str, str] = {}
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        content = meta.get("content")
        if key and content and key not in found:
            found[key] = str(content).strip()
    return found


def meta_published(tree: lxml.html.HtmlElement) -> datetime | None:
    contents = meta_contents(tree)
    for name in PUBLISHED_META:
        if moment := parse_iso(contents.get(name), naive=None):
            return moment
    for element in tree.iter("time"):
        if moment := parse_iso(element.get("datetime"), naive=None):
            return moment
    return None


def visible_published(tree: lxml.html.HtmlElement, rules: ExtractionRules) -> datetime | None:
    """A date printed near the headline: date-ish elements first, then the page top."""
    body = tree.find("body")
    if body is None:
        return None
    for element in body.iter():
        if not isinstance(element.tag, str) or element.tag in ("script", "style"):
            continue
        marker = f"{element.get('class') or ''} {element.get('id') or ''}"
        if DATE_CLASS.search(marker):
            text = " ".join(element.text_content().split())
            if len(text) < 200 and (moment := parse_indonesian_date(text, rules)):
                return moment
    return None


def page_metadata(tree: lxml.html.HtmlElement) -> Document:
    """Title, author and site name, read the way trafilatura's `extract_metadata` reads them.

    trafilatura's own pass also collects categories, tags and the licence and runs htmldate:
    about 3 of its 4 ms a page, for fields Pantau never uses or reads better itself
    (Indonesian dates). So only the parts we use run, in trafilatura's order; the date is
    asked of htmldate only when our readers find none (`extract_article`).
    """
    metadata = examine_meta(tree)
    if metadata.author and " " not in metadata.author:
        metadata.author = None  # a handle, not a name
    # A broken JSON-LD block: the meta tags still count.
    with contextlib.suppress(ValueError, TypeError, KeyError, AttributeError):
        metadata = extract_meta_json(tree, metadata)
    metadata.title = metadata.title or extract_title(tree)
    metadata.author = metadata.author or extract_author(tree)
    metadata.sitename = (metadata.sitename or extract_sitename(tree) or "").lstrip("@") or None
    if metadata.sitename and "." not in metadata.sitename and not metadata.sitename[0].isupper():
        metadata.sitename = metadata.sitename.title()
    metadata.clean_and_trim()
    return metadata


def htmldate_published(tree: lxml.html.HtmlElement, url: str) -> str | None:
    """htmldate's reading of the page date (a day): the last resort after our own readers."""
    return find_date(tree, **{**set_date_params(True), "url": url})


def canonical_link(tree: lxml.html.HtmlElement, url: str) -> str | None:
    for link in tree.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        if "canonical" in rel and link.get("href"):
            href = str(link.get("href")).strip()
            if href.startswith(("http://", "https://", "/")):
                from urllib.parse import urljoin

                return urljoin(url, href)
    return None


def clean_title(title: str, sitename: str | None) -> str:
    title = " ".join(title.split())
    if sitename:
        for separator in (" - ", " | ", " – ", " — ", " :: "):
            suffix = f"{separator}{sitename}"
            if title.lower().endswith(suffix.lower()):
                return title[: -len(suffix)].strip()
    return title


# --- text ---------------------------------------------------------------------------


def clean_text(text: str, rules: ExtractionRules | None = None) -> str:
    """Drop furniture lines and paragraphs repeated on the page; keep order."""
    rules = rules or load_rules()
    seen: set[str] = set()
    kept: list[str] = []
    for line in text.splitlines():
        paragraph = " ".join(line.split())
        if not paragraph or rules.is_furniture(paragraph):
            continue
        key = paragraph.lower()
        if len(paragraph) >= rules.config.min_repeated_chars:
            if key in seen:
                continue
            seen.add(key)
        kept.append(paragraph)
    return "\n".join(kept)


def article_element_tree(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """The page's one <article> element alone in a small document, if it has exactly one.

    Regional news pages are mostly furniture (menus, tickers, sidebars, related posts, ad
    slots): trafilatura spends most of its time pruning and scoring that. Where the page
    marks its story with a single <article>, trafilatura gets only that subtree, about a
    quarter of the work for the same text. Listing-like pages with several <article>
    teasers, or none, go to trafilatura whole.
    """
    found = tree.xpath("//body//article")
    if len(found) != 1:
        return None
    document = lxml.html.Element("html")
    lxml.etree.SubElement(document, "body").append(deepcopy(found[0]))
    return document


def main_text(tree: lxml.html.HtmlElement, url: str, rules: ExtractionRules) -> str:
    """The article body: trafilatura on the <article> subtree, else on the whole page."""
    focused = article_element_tree(tree)
    for candidate in (focused, tree) if focused is not None else (tree,):
        try:
            # trafilatura works on its own copy of the tree: ours stays intact for the readers.
            doc = trafilatura.bare_extraction(candidate, url=url, **TRAFILATURA_OPTIONS)
        except (ValueError, TypeError, lxml.etree.LxmlError) as exc:
            raise ExtractionError(f"{url}: cannot parse page ({exc})") from None
        text = clean_text(doc.text, rules) if isinstance(doc, Document) and doc.text else ""
        if len(text) >= rules.config.min_text_chars:
            return text
    if not text:
        raise ExtractionError(f"{url}: no article text found")
    raise ExtractionError(f"{url}: too little article text ({len(text)} characters)")


def extract_article(html: str | bytes, url: str) -> Article:
    rules = load_rules()
    text_html = decode_html(html) if isinstance(html, bytes) else html
    if not text_html.strip():
        raise ExtractionError(f"{url}: empty page")
    tree = parse_tree(text_html)
    if tree is None:
        raise ExtractionError(f"{url}: no article text found")
    text = main_text(tree, url, rules)
    ld = json_ld_article(tree)
    metadata = page_metadata(tree)
    sitename = metadata.sitename
    title = ld.get("headline") or metadata.title or ""
    published = (
        ld.get("published")
        or meta_published(tree)
        or visible_published(tree, rules)
        or _day_date(htmldate_published(tree, url), rules)
    )
    return Article(
        url=url,
        title=clean_title(str(title), sitename),
        text=text,
        published=published,
        author=ld.get("author") or metadata.author,
        sitename=sitename,
        lang=detect_language(text),
        canonical_url=canonical_link(tree, url),
    )


def _day_date(value: str | None, rules: ExtractionRules) -> datetime | None:
    """htmldate gives a day only: noon in the default zone keeps the day right."""
    day = parse_iso(value, naive=None)
    if day is None:
        return None
    return day.replace(hour=day.hour or 12, tzinfo=day.tzinfo or rules.zone(None))


def join_pages(pages: list[Article]) -> Article:
    """A multi-page article: metadata of the first page, texts in order, repeats dropped."""
    first = pages[0]
    return replace(first, text=clean_text("\n".join(page.text for page in pages)))


def is_binary(text: str) -> bool:
    """Decoded bytes that are not text: a NUL, or many control or undecodable characters.

    A text file (in any encoding `decode_html` reads) has neither; an executable, an image
    or an archive has NULs or, decoded as text, a control character every few bytes.
    """
    sample = text[:SNIFF_CHARS]
    if "\x00" in sample:
        return True
    return len(_NON_TEXT.findall(sample)) > MAX_NON_TEXT_SHARE * len(sample)


def read_document(path: Path, site: str = "local") -> tuple[Page, Article]:
    """A local .html file, or a .txt file: title line, blank line, body.

    Binary content and empty files are refused with the file's name, before any of the
    costlier work (the caller may not have loaded the detector yet).
    """
    suffix = path.suffix.lower()
    if suffix not in {".html", ".htm", ".txt"}:
        raise ExtractionError(f"{path}: not an .html or .txt file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ExtractionError(f"{path}: cannot read ({exc.strerror})") from None
    text = decode_html(raw)
    if not text.strip():
        raise ExtractionError(f"{path}: empty file")
    if is_binary(text):
        raise ExtractionError(f"{path}: binary content, not a text or HTML file")
    url = path.resolve().as_uri()
    page = Page(url=url, html=raw, site=site, fetched_at=datetime.now(UTC), source="file")
    if suffix in {".html", ".htm"}:
        return page, extract_article(text, url)
    title, _, body = text.replace("\r\n", "\n").strip().partition("\n")
    body = body.strip() or title
    return page, Article(url=url, title=title.strip(), text=body, lang=detect_language(body))

"""Probing a news site for discovery sources: what `pantau sites add|check` report.

A short sequence of plain HTTP requests (robots.txt obeyed, the deployment's User-Agent):
the home page (title, advertised feeds, links), robots.txt `Sitemap:` lines, the usual
WordPress/Yoast/core/news sitemap and feed paths. From the article URLs found it learns
an article-URL pattern, and proposes a sites.yaml entry. Runs without Scrapy's reactor
so `pantau crawl URL` can probe first and crawl after in the same process.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from crawler import sources
from crawler.naming import site_id_for, site_name
from crawler.prober import Fetched, Prober
from crawler.urls import SiteScope, canonicalize, fold_key
from pantau.core.settings import PantauError, Settings, SiteConfig

log = logging.getLogger(__name__)

FEED_PATHS = ("/feed/", "/rss/", "/rss.xml", "/feed.xml", "/atom.xml")
SITEMAP_PATHS = (
    "/sitemap_index.xml",
    "/sitemap.xml",
    "/wp-sitemap.xml",
    "/news-sitemap.xml",
    "/sitemap-news.xml",
    "/sitemap_news.xml",
)
LISTING_HINT = re.compile(r"/(kategori|category|rubrik|kanal|berita|news|indeks)(/|$)", re.I)
MIN_PATTERN_SHARE = 0.8


class DiscoveryError(PantauError):
    """The site cannot be probed at all (unreachable, not HTML)."""


@dataclass
class Discovery:
    url: str
    name: str
    feeds: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    news_sitemaps: list[str] = field(default_factory=list)
    listings: list[str] = field(default_factory=list)
    article_urls: list[str] = field(default_factory=list)
    article_pattern: str | None = None
    region: str | None = None
    problems: list[str] = field(default_factory=list)


def learn_article_pattern(urls: Iterable[str]) -> str | None:
    """The most specific URL shape most known article URLs share, as a regex."""
    paths = [urlsplit(u).path for u in urls]
    if len(paths) < 2:
        return None
    candidates: list[str] = [r"/20\d{2}/\d{2}/\d{2}/[^/?#]+"]
    first_segments = Counter(p.strip("/").split("/")[0] for p in paths if p.count("/") >= 2)
    if first_segments:
        segment, count = first_segments.most_common(1)[0]
        if count / len(paths) >= MIN_PATTERN_SHARE and segment and not segment.isdigit():
            candidates.append(rf"://[^/]+/{re.escape(segment)}/[^?#]+")
    candidates += [
        r"/\d{5,}(?:/|-|$)",
        r"/[a-z0-9]+(?:-[a-z0-9]+){2,}(?:\.html?)?/?$",
    ]
    for pattern in candidates:
        matching = sum(1 for u in urls if re.search(pattern, u))
        if matching / len(paths) >= MIN_PATTERN_SHARE:
            return pattern
    return None


def probe_site(url: str, settings: Settings) -> Discovery:
    prober = Prober(settings, SiteScope.of([url]))
    home = prober.fetch(url)
    if home is None or not 200 <= home.status < 300:
        status = f"HTTP {home.status}" if home else "unreachable or forbidden by robots.txt"
        if home is not None and 300 <= home.status < 400:
            status += ", a redirect off the site: not followed"
        raise DiscoveryError(f"{url}: cannot fetch the home page ({status})")
    base = home.url
    scope = prober.scope
    found = Discovery(url=base, name=site_name(home.body, base))
    probe_feeds(prober, home, found)
    probe_sitemaps(prober, base, found)
    home_articles = sources.article_links(home.body, base, scope, None)
    samples = found.article_urls + home_articles
    found.article_urls = list(dict.fromkeys(u for u in samples if scope.allows(u)))
    found.article_pattern = learn_article_pattern(found.article_urls[:200])
    if not (found.feeds or found.sitemaps):
        found.listings = [base] + live_listings(prober, listing_pages(home.body, base, scope))
        if not home_articles:
            found.problems.append("no feed, no sitemap and no article links on the home page")
    found.region = guess_region(found.name)
    found.problems += prober.problems
    return found


def probe_feeds(prober: Prober, home: Fetched, found: Discovery) -> None:
    candidates = sources.feed_links_in_html(home.body, home.url)
    candidates += [urljoin(home.url, path) for path in FEED_PATHS]
    for candidate in dict.fromkeys(candidates):
        if found.feeds and candidate not in sources.feed_links_in_html(home.body, home.url):
            break  # one working feed is enough unless the page advertises more
        fetched = prober.fetch(candidate)
        if fetched and fetched.status == 200 and sources.looks_like_feed(fetched.body):
            links = sources.parse_feed(fetched.body, fetched.url)
            if "comments" in candidate.lower():
                continue
            found.feeds.append(canonicalize(candidate))
            found.article_urls += [canonicalize(lk.url) for lk in links]


def probe_sitemaps(prober: Prober, base: str, found: Discovery) -> None:
    declared = [urljoin(base, url) for url in prober.robots_for(base).sitemaps]
    candidates = declared + [urljoin(base, path) for path in SITEMAP_PATHS]
    covered: set[str] = set()  # fold keys: one sitemap whatever spelling of the host names it
    for candidate in dict.fromkeys(candidates):
        if fold_key(candidate) in covered:
            continue
        fetched = prober.fetch(candidate)
        if not fetched or fetched.status != 200:
            continue
        doc = read_sitemap(fetched.body)
        if doc.kind == "unknown":
            continue
        found.sitemaps.append(canonicalize(candidate))
        covered.add(fold_key(candidate))
        if doc.kind == "index":
            covered.update(fold_key(lk.url) for lk in doc.links)
            first = next((lk for lk in doc.links if "post" in lk.url or "news" in lk.url), None)
            if first and (child := prober.fetch(first.url)) and child.status == 200:
                sample = read_sitemap(child.body)
                if sample.is_news:
                    found.news_sitemaps.append(first.url)
                found.article_urls += [canonicalize(lk.url) for lk in sample.links[:100]]
        else:
            if doc.is_news:
                found.news_sitemaps.append(candidate)
            found.article_urls += [canonicalize(lk.url) for lk in doc.links[:100]]
        if len(found.sitemaps) >= 2:
            break


def read_sitemap(body: bytes) -> sources.SitemapDoc:
    """A probe skips a sitemap it cannot read, a decompression bomb included."""
    try:
        return sources.parse_sitemap(body)
    except sources.Oversized:
        return sources.SitemapDoc("unknown", [])


def live_listings(prober: Prober, candidates: list[str], wanted: int = 3) -> list[str]:
    """Listing pages that answer now: a category link that 404s is not proposed."""
    live = []
    for url in candidates:
        fetched = prober.fetch(url)
        if fetched is not None and fetched.status == 200:
            live.append(url)
            if len(live) >= wanted:
                break
    return live


def listing_pages(body: bytes, base: str, scope: SiteScope) -> list[str]:
    doc = sources.parse_html(body, base)
    if doc is None:
        return []
    found = []
    for href, _, _ in sources.anchors(doc, base):
        url = canonicalize(href)
        if scope.allows(url) and LISTING_HINT.search(urlsplit(url).path):
            found.append(url)
    return list(dict.fromkeys(found))


def guess_region(name: str) -> str | None:
    """A local outlet names its area ('Radar Kepahiang'): use the gazetteer when present."""
    try:
        from extract.regions import load_gazetteer
    except ImportError:
        return None
    try:
        mentions = load_gazetteer().find_in_text(name)
    except Exception:  # noqa: BLE001 - the gazetteer is optional for probing
        return None
    for mention in mentions:
        region = getattr(mention, "region", None)
        code = getattr(region, "code", None) or getattr(mention, "code", None)
        if isinstance(code, str):
            return code
    return None


def propose_site(found: Discovery, taken_ids: Iterable[str] = ()) -> SiteConfig:
    base_id = site_id_for(found.url)
    site_id, n = base_id, 2
    taken = set(taken_ids)
    while site_id in taken:
        site_id, n = f"{base_id}-{n}", n + 1
    feeds = found.feeds
    sitemaps = found.news_sitemaps or found.sitemaps
    return SiteConfig(
        id=site_id,
        name=found.name,
        url=found.url,
        feeds=feeds,
        sitemaps=sitemaps,
        listings=found.listings,
        article_pattern=found.article_pattern,
        region=found.region,
    )


def adhoc_site(url: str, settings: Settings, taken_ids: Iterable[str] = ()) -> SiteConfig:
    """A site entry for `pantau crawl URL`, probed now and not written anywhere.

    Its id avoids the configured ones, so its runs and crawl state never mix with theirs.
    """
    return propose_site(probe_site(url, settings), taken_ids)

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
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urljoin, urlsplit

import tldextract
from protego import Protego

from crawler import sources
from crawler.urls import SiteScope, canonicalize, registered_domain
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
PROBE_MAX_BYTES = 5 * 1024 * 1024
MIN_PATTERN_SHARE = 0.8


class DiscoveryError(PantauError):
    """The site cannot be probed at all (unreachable, not HTML)."""


@dataclass
class Fetched:
    url: str
    status: int
    body: bytes
    content_type: str


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


class Prober:
    """Plain urllib fetches with the crawler's identity, limits and robots.txt.

    robots.txt is read by Protego, the parser the crawl's RobotsTxtMiddleware uses, so a
    probe and a crawl never disagree about what a site allows. Like the crawl, it fetches
    only http(s) URLs in its scope (the probed site's scheme, host and port), redirects
    included: a page cannot send the probe to another host, port or protocol.
    """

    def __init__(self, settings: Settings, scope: SiteScope | None = None):
        self.scope = scope or SiteScope(frozenset())
        self.opener = urllib.request.build_opener(ScopedRedirects(self))
        crawl = settings.crawl
        self.user_agent = crawl.resolved_user_agent
        self.timeout = min(crawl.download_timeout, 20.0)
        self.max_bytes = min(crawl.max_body_bytes, PROBE_MAX_BYTES)
        self.obey_robots = crawl.obey_robots
        self.robots: dict[str, Protego] = {}

    def robots_for(self, url: str) -> Protego:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self.robots:
            fetched = self.fetch_raw(origin + "/robots.txt")
            body = fetched.body if fetched and fetched.status == 200 else b""
            self.robots[origin] = Protego.parse(body.decode("utf-8", errors="replace"))
        return self.robots[origin]

    def allowed(self, url: str) -> bool:
        return not self.obey_robots or self.robots_for(url).can_fetch(url, self.user_agent)

    def fetch(self, url: str) -> Fetched | None:
        if not self.allowed(url):
            log.info("robots.txt forbids %s", url)
            return None
        return self.fetch_raw(url)

    def in_scope(self, url: str) -> bool:
        if self.scope.allows(url):
            return True
        log.info("probe: %s is not the site's scheme, host and port: not fetched", url)
        return False

    def fetch_raw(self, url: str) -> Fetched | None:
        if not self.in_scope(url):
            return None
        request = urllib.request.Request(url, headers={"User-Agent": self.user_agent})
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                body = response.read(self.max_bytes + 1)
                if len(body) > self.max_bytes:
                    return None
                return Fetched(
                    response.geturl(),
                    response.status,
                    body,
                    response.headers.get("Content-Type", ""),
                )
        except urllib.error.HTTPError as exc:
            return Fetched(url, exc.code, b"", "")
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            log.info("probe %s failed: %s", url, exc)
            return None


class ScopedRedirects(urllib.request.HTTPRedirectHandler):
    """urllib follows a redirect only inside the prober's scope (else the 3xx stands)."""

    def __init__(self, prober: Prober):
        self.prober = prober

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        if not self.prober.in_scope(newurl):
            return None
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def site_name(body: bytes, fallback: str) -> str:
    doc = sources.parse_html(body, fallback)
    if doc is None:
        return fallback
    for meta in doc.iter("meta"):
        if (meta.get("property") or "").lower() == "og:site_name" and meta.get("content"):
            return str(meta.get("content")).strip()
    title = doc.find(".//title")
    if title is not None and title.text_content().strip():
        return re.split(r"\s[|\-–—:]\s", title.text_content().strip())[0].strip()
    return fallback


@cache
def public_suffixes() -> tldextract.TLDExtract:
    """The Public Suffix List snapshot tldextract ships: never fetched at run time."""
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def site_id_for(url: str) -> str:
    """The host without its public suffix (`radarkepahiang.co.id` -> `radarkepahiang`)."""
    host = registered_domain(url)
    suffix = public_suffixes()(host).suffix
    if suffix and host != suffix:
        host = host.removesuffix("." + suffix)
    slug = re.sub(r"[^a-z0-9]+", "-", host.lower()).strip("-")
    return slug or "site"


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
    found = Discovery(url=base, name=site_name(home.body, registered_domain(base)))
    probe_feeds(prober, home, found)
    probe_sitemaps(prober, base, found)
    home_articles = sources.article_links(home.body, base, scope, None)
    samples = found.article_urls + home_articles
    found.article_urls = list(dict.fromkeys(u for u in samples if scope.allows(u)))
    found.article_pattern = learn_article_pattern(found.article_urls[:200])
    if not (found.feeds or found.sitemaps):
        found.listings = [base] + listing_pages(home.body, base, scope)[:3]
        if not home_articles:
            found.problems.append("no feed, no sitemap and no article links on the home page")
    found.region = guess_region(found.name)
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
    covered: set[str] = set()
    for candidate in dict.fromkeys(candidates):
        if candidate in covered:
            continue
        fetched = prober.fetch(candidate)
        if not fetched or fetched.status != 200:
            continue
        doc = read_sitemap(fetched.body)
        if doc.kind == "unknown":
            continue
        found.sitemaps.append(candidate)
        if doc.kind == "index":
            covered.update(lk.url for lk in doc.links)
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

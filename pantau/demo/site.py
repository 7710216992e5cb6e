"""Every page of each demo outlet (home, articles, sections, feeds, sitemaps, listings),
rendered once into memory from the templates under data/demo/templates/."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from pantau.core.calendar import long_date
from pantau.demo.data import DEMO_DIR, DemoArticle, DemoData, Outlet, slugify

STATIC_PAGES = {
    "/redaksi/": (
        "Redaksi",
        [
            "{name} adalah media daring fiktif yang dibuat untuk demonstrasi Pantau.",
            "Seluruh nama orang, peristiwa, dan kutipan dalam situs ini adalah karangan.",
        ],
    ),
    "/pedoman-media-siber/": (
        "Pedoman Media Siber",
        [
            "Kemerdekaan berpendapat dan kemerdekaan pers adalah hak asasi manusia.",
            "Setiap berita harus melalui verifikasi dan mengutamakan keberimbangan.",
        ],
    ),
    "/kontak/": ("Kontak", ["Surel redaksi: redaksi@{host}. Telepon: (0736) 000000."]),
    "/iklan/": ("Pasang Iklan", ["Hubungi bagian pemasaran {name} untuk tarif iklan terbaru."]),
}


@dataclass(frozen=True)
class Resource:
    content_type: str
    body: bytes


def tanggal(moment: datetime) -> str:
    """Rabu, 24 April 2024: the way Indonesian outlets print dates."""
    return long_date(moment)


def template_env(directory: Path) -> Environment:
    env = Environment(
        loader=FileSystemLoader(directory / "templates"),
        autoescape=select_autoescape(["html", "xml"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        tanggal=tanggal,
        jam=lambda moment: f"{moment:%H:%M}",
        iso=lambda moment: moment.isoformat(timespec="seconds"),
        rfc822=format_datetime,
        slugify=slugify,
    )
    return env


@dataclass(frozen=True)
class Teaser:
    """An article as listings, feeds and page furniture show it, in the outlet's time zone."""

    title: str
    url: str
    published: datetime
    author: str
    section: str
    summary: str


def teaser(outlet: Outlet, article: DemoArticle) -> Teaser:
    meta = article.meta
    return Teaser(
        meta.title,
        outlet.article_url(article),
        outlet.local(meta.published),
        meta.author,
        meta.section,
        article.summary,
    )


class SiteBuilder:
    """Every page of one outlet, rendered once into memory: path -> Resource."""

    def __init__(self, outlet: Outlet, articles: list[DemoArticle], env: Environment):
        self.outlet = outlet
        self.env = env
        self.articles = sorted(articles, key=lambda a: a.meta.published, reverse=True)
        self.teasers = [teaser(outlet, a) for a in self.articles]
        self.sections = sorted({a.meta.section for a in self.articles})
        newest = self.teasers[0].published if self.teasers else datetime.now(UTC_PLUS_7)
        self.common = {
            "outlet": outlet,
            "sections": self.sections,
            "popular": self.teasers[:5],
            "year": newest.year,
            "today": tanggal(newest),
        }
        self.pages: dict[str, Resource] = {}

    def build(self) -> dict[str, Resource]:
        self.add_text("/robots.txt", self.outlet.style.robots.replace("{base}", self.outlet.base))
        self.add_html("/", "index.html", heading="Berita Terbaru", items=self.teasers[:10])
        for article, item in zip(self.articles, self.teasers, strict=True):
            self.add_article(article, item)
        for section in self.sections:
            items = [t for t in self.teasers if t.section == section]
            self.add_html(
                self.outlet.section_path(section), "index.html", heading=section, items=items
            )
        for path, (heading, paragraphs) in STATIC_PAGES.items():
            filled = [
                p.format(name=self.outlet.name, host=urlsplit(self.outlet.base).hostname)
                for p in paragraphs
            ]
            self.add_html(
                path, "common/static.html", heading=heading, paragraphs=filled, shared=True
            )
        style = self.outlet.style
        if style.discovery == "rss" and style.feed_path:
            self.add_xml(style.feed_path, "common/rss.xml", items=self.teasers)
        if style.discovery == "sitemap" and style.sitemap_path:
            self.add_sitemaps(style.sitemap_path)
        if style.discovery == "listing" and style.listing_path:
            self.add_listing(style.listing_path)
        return self.pages

    def render(self, template: str, **context: Any) -> bytes:
        values = {"pager": None, **self.common, **context}
        return self.env.get_template(template).render(**values).encode("utf-8")

    def add_text(self, path: str, text: str) -> None:
        self.pages[path] = Resource("text/plain; charset=utf-8", text.encode("utf-8"))

    def add_html(self, path: str, template: str, *, shared: bool = False, **context: Any) -> None:
        name = template if shared else f"{self.outlet.id}/{template}"
        self.pages[path] = Resource("text/html; charset=utf-8", self.render(name, **context))

    def add_xml(self, path: str, template: str, **context: Any) -> None:
        kind = "application/rss+xml" if "rss" in template else "application/xml"
        self.pages[path] = Resource(f"{kind}; charset=utf-8", self.render(template, **context))

    def add_article(self, article: DemoArticle, item: Teaser) -> None:
        related = self.related(article)
        page = {
            **item.__dict__,
            "slug": article.meta.slug,
            "paragraphs": article.paragraphs,
            "tags": self.tags(article),
            "json_ld": json_ld(self.outlet, item),
        }
        path = urlsplit(item.url).path
        self.add_html(path, "article.html", article=page, related=related)

    def related(self, article: DemoArticle) -> list[Teaser]:
        """'Baca juga' links: the outlet's other, non-election news nearest in time."""
        others = [
            (a, t)
            for a, t in zip(self.articles, self.teasers, strict=True)
            if a is not article and a.meta.expect == "other"
        ]
        others.sort(key=lambda pair: abs(pair[0].meta.published - article.meta.published))
        return [t for _, t in others[:3]]

    @staticmethod
    def tags(article: DemoArticle) -> list[str]:
        tags = ["Pilkada 2024", article.meta.section]
        if article.meta.expect != "other":
            tags.append("Netralitas ASN")
        return list(dict.fromkeys(tags))

    def add_sitemaps(self, index_path: str) -> None:
        posts, pages = "/sitemap-posts.xml", "/sitemap-pages.xml"
        newest = self.teasers[0].published
        children = [
            {"url": self.outlet.base + posts, "lastmod": newest},
            {"url": self.outlet.base + pages, "lastmod": newest},
        ]
        self.add_xml(index_path, "common/sitemap-index.xml", sitemaps=children)
        self.add_xml(posts, "common/sitemap.xml", items=self.teasers)
        static = [
            {"url": self.outlet.base + path, "published": newest, "title": None}
            for path in [*STATIC_PAGES, *(self.outlet.section_path(s) for s in self.sections)]
        ]
        self.add_xml(pages, "common/sitemap.xml", items=static)

    def add_listing(self, first_path: str) -> None:
        size = self.outlet.style.page_size
        chunks = [self.teasers[i : i + size] for i in range(0, len(self.teasers), size)] or [[]]
        paths = [first_path] + [
            f"{first_path.rstrip('/')}/page/{n}/" for n in range(2, len(chunks) + 1)
        ]
        for number, (path, items) in enumerate(zip(paths, chunks, strict=True), start=1):
            pager = {
                "current": number,
                "pages": list(enumerate(paths, start=1)),
                "prev": paths[number - 2] if number > 1 else None,
                "next": paths[number] if number < len(paths) else None,
            }
            self.add_html(path, "index.html", heading="Indeks Berita", items=items, pager=pager)


UTC_PLUS_7 = timezone(timedelta(hours=7))


def json_ld(outlet: Outlet, item: Teaser) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": item.title,
        "datePublished": item.published.isoformat(timespec="seconds"),
        "author": {"@type": "Person", "name": item.author},
        "publisher": {"@type": "Organization", "name": outlet.name},
        "mainEntityOfPage": item.url,
    }
    # "</" must not close the script element early.
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


def build_sites(data: DemoData, directory: Path = DEMO_DIR) -> dict[str, dict[str, Resource]]:
    env = template_env(directory)
    return {
        outlet.id: SiteBuilder(outlet, data.articles_of(outlet.id), env).build()
        for outlet in data.outlets
    }

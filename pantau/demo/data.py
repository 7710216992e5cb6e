"""The demo's own data under data/demo/: outlets (sites.yaml + how each is built and
served) and articles (Markdown with YAML front matter), validated on load."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field

from pantau.core.settings import (
    DEFAULT_DATA_DIR,
    ConfigError,
    OfficeConfig,
    OfficesFile,
    PantauError,
    Settings,
    SiteConfig,
    SitesFile,
    StrictModel,
    load_model,
)

DEMO_DIR = DEFAULT_DATA_DIR / "demo"
HOST = "127.0.0.1"
DEFAULT_PORT_BASE = 8760


class DemoError(PantauError):
    """The demo cannot run: a busy port, a broken demo file, a missing stage."""


class OutletStyle(StrictModel):
    """How the demo builds and serves one outlet; its SiteConfig is what the crawler sees."""

    port_offset: int = Field(ge=1, le=99)
    tagline: str
    timezone: str = "WIB"
    utc_offset_hours: int = Field(7, ge=7, le=9)
    article_path: str
    section_path: str = "/kategori/{section}/"
    discovery: Literal["rss", "sitemap", "listing"]
    feed_path: str | None = None
    sitemap_path: str | None = None
    listing_path: str | None = None
    page_size: int = Field(10, ge=1)
    robots: str = "User-agent: *\nDisallow: /cari\n"


class DemoSitesFile(StrictModel):
    sites: list[dict[str, Any]]
    outlets: dict[str, OutletStyle]


class ArticleMeta(StrictModel):
    outlet: str
    slug: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    title: str
    published: datetime
    author: str
    section: str
    expect: Literal["breach", "advisory", "other"]
    region: str | None = Field(None, pattern=r"^\d{2}(\.\d{2})?$")
    violation: str | None = None
    accused: list[str] = []
    quoted: list[str] = []
    copy_of: str | None = None


@dataclass(frozen=True)
class DemoArticle:
    number: int
    meta: ArticleMeta
    paragraphs: list[str]
    source: Path

    @property
    def outlet(self) -> str:
        return self.meta.outlet

    @property
    def summary(self) -> str:
        """The first sentence of the lead, without the dateline ("SAMPIT – ")."""
        lead = re.sub(r"^[A-Z ]{3,}\s+[–-]\s+", "", self.paragraphs[0])
        sentence = re.split(r"(?<=[.!?])\s", lead, maxsplit=1)[0]
        return sentence if len(sentence) <= 240 else sentence[:237] + "..."


@dataclass(frozen=True)
class Outlet:
    site: SiteConfig
    style: OutletStyle
    port: int

    @property
    def id(self) -> str:
        return self.site.id

    @property
    def name(self) -> str:
        return self.site.name

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def tagline(self) -> str:
        return self.style.tagline

    @property
    def timezone(self) -> str:
        return self.style.timezone

    @property
    def feed_path(self) -> str | None:
        return self.style.feed_path

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(timezone(timedelta(hours=self.style.utc_offset_hours)))

    def article_path(self, article: DemoArticle) -> str:
        day = self.local(article.meta.published)
        return self.style.article_path.format(
            yyyy=f"{day:%Y}",
            mm=f"{day:%m}",
            dd=f"{day:%d}",
            slug=article.meta.slug,
            number=240000 + article.number,
        )

    def article_url(self, article: DemoArticle) -> str:
        return self.base + self.article_path(article)

    def section_path(self, section: str) -> str:
        return self.style.section_path.format(section=slugify(section))


@dataclass(frozen=True)
class DemoData:
    outlets: list[Outlet]
    articles: list[DemoArticle]
    offices: list[OfficeConfig]
    settings: Settings

    def articles_of(self, outlet_id: str) -> list[DemoArticle]:
        return [a for a in self.articles if a.outlet == outlet_id]


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def split_front_matter(path: Path) -> tuple[Any, str]:
    text = path.read_text(encoding="utf-8")
    match = re.match(r"\A---\n(.*?)\n---\n(.*)\Z", text, re.S)
    if not match:
        raise ConfigError(f"{path}: no YAML front matter between '---' lines")
    try:
        return yaml.safe_load(match.group(1)), match.group(2)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid front matter: {exc}") from None


def load_articles(directory: Path) -> list[DemoArticle]:
    articles = []
    for path in sorted(directory.glob("*.md")):
        data, body = split_front_matter(path)
        meta = load_model(path, ArticleMeta, data)
        if meta.published.tzinfo is None:
            raise ConfigError(f"{path}: published: needs a UTC offset such as +07:00")
        prefix = path.name.split("-", 1)[0]
        number = int(prefix) if prefix.isdigit() else 0
        paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", body) if p.strip()]
        articles.append(DemoArticle(number, meta, paragraphs, path))
    slugs = Counter(a.meta.slug for a in articles)
    for article in articles:
        if slugs[article.meta.slug] > 1:
            raise ConfigError(f"{article.source}: slug {article.meta.slug!r} is used twice")
        if article.meta.copy_of and article.meta.copy_of not in slugs:
            raise ConfigError(f"{article.source}: copy_of {article.meta.copy_of!r} is no slug")
    return articles


def load_outlets(directory: Path, port_base: int) -> list[Outlet]:
    """sites.yaml with `{base}` replaced by each outlet's fixed loopback address."""
    path = directory / "sites.yaml"
    raw = load_model(path, DemoSitesFile)
    sites_data = []
    for entry in raw.sites:
        style = raw.outlets.get(str(entry.get("id")))
        if style is None:
            raise ConfigError(f"{path}: outlets: no entry for site {entry.get('id')!r}")
        base = f"http://{HOST}:{port_base + style.port_offset}"
        sites_data.append(json.loads(json.dumps(entry).replace("{base}", base)))
    sites = load_model(path, SitesFile, {"sites": sites_data}).sites
    return [
        Outlet(site, raw.outlets[site.id], port_base + raw.outlets[site.id].port_offset)
        for site in sites
    ]


def load_demo(directory: Path = DEMO_DIR, port_base: int = DEFAULT_PORT_BASE) -> DemoData:
    outlets = load_outlets(directory, port_base)
    articles = load_articles(directory / "articles")
    known = {o.id for o in outlets}
    for article in articles:
        if article.outlet not in known:
            raise ConfigError(f"{article.source}: outlet {article.outlet!r} is not in sites.yaml")
    offices = load_model(directory / "offices.yaml", OfficesFile).offices
    settings = load_model(directory / "settings.yaml", Settings)
    return DemoData(outlets, articles, offices, settings)

"""`pantau demo`: three fictional outlets on loopback, crawled, analysed and digested for real.

The demo is wiring only: it builds the outlets' pages from the articles under data/demo/,
serves them on fixed loopback ports (URLs must not change between runs, because the
database remembers them), starts an SMTP sink, and then calls the real stages, exactly as
the scheduler does: `crawler.run.crawl_sites`, then `alerts.digest.run_digests`. A second
run over the same database finds every URL known and every story delivered, so it sends
nothing again.
"""

from __future__ import annotations

import email
import email.policy
import errno
import json
import logging
import re
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from aiosmtpd.controller import Controller
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from pydantic import Field

from pantau.core import store
from pantau.core.calendar import long_date
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
    resolve_path,
)

log = logging.getLogger(__name__)

DEMO_DIR = DEFAULT_DATA_DIR / "demo"
HOST = "127.0.0.1"
DEFAULT_PORT_BASE = 8760

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


class DemoError(PantauError):
    """The demo cannot run: a busy port, a broken demo file, a missing stage."""


# --- the demo's own data -------------------------------------------------------------


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


# --- building the outlets' pages -----------------------------------------------------


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


# --- serving -------------------------------------------------------------------------


class _OutletHandler(BaseHTTPRequestHandler):
    server: _OutletServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.respond(with_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self.respond(with_body=False)

    def respond(self, *, with_body: bool) -> None:
        path = urlsplit(self.path).path or "/"
        resource = self.server.pages.get(path)
        status = 200
        if resource is None:
            status = 404
            resource = Resource("text/html; charset=utf-8", b"<h1>404 Halaman tidak ditemukan</h1>")
        self.send_response(status)
        self.send_header("Content-Type", resource.content_type)
        self.send_header("Content-Length", str(len(resource.body)))
        self.end_headers()
        if with_body:
            self.wfile.write(resource.body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log.debug("%s %s", self.server.outlet_id, format % args)


class _OutletServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, outlet_id: str, pages: dict[str, Resource]):
        self.outlet_id = outlet_id
        self.pages = pages
        super().__init__((HOST, port), _OutletHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A crawler dropping a keep-alive connection is normal: no traceback on stderr."""
        log.debug(
            "%s: connection from %s ended abruptly", self.outlet_id, client_address, exc_info=True
        )


def port_in_use(port: int, detail: str) -> DemoError:
    return DemoError(
        f"{HOST}:{port} is already in use ({detail}); is another `pantau demo` running? "
        "Stop it or choose other ports with --port-base"
    )


@contextmanager
def serving(outlets: list[Outlet], sites: dict[str, dict[str, Resource]]) -> Iterator[None]:
    """Serve every outlet on its fixed port in background threads for the block's duration."""
    servers: list[_OutletServer] = []
    try:
        for outlet in outlets:
            try:
                server = _OutletServer(outlet.port, outlet.id, sites[outlet.id])
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise port_in_use(outlet.port, outlet.name) from None
                raise DemoError(
                    f"cannot serve {outlet.name} on {HOST}:{outlet.port}: {exc}"
                ) from None
            servers.append(server)
            threading.Thread(
                target=server.serve_forever, name=f"demo-{outlet.id}", daemon=True
            ).start()
        yield
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


# --- the SMTP sink -------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message_id: str | None
    subject: str | None
    content: bytes


class _SinkHandler:
    def __init__(self) -> None:
        self.received: list[ReceivedMail] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        content = bytes(envelope.original_content or envelope.content or b"")
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        mail = ReceivedMail(
            envelope.mail_from,
            list(envelope.rcpt_tos),
            str(parsed["Message-ID"]) if parsed["Message-ID"] else None,
            str(parsed["Subject"]) if parsed["Subject"] else None,
            content,
        )
        with self.lock:
            self.received.append(mail)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_sink(port: int | None = None) -> Iterator[tuple[int, _SinkHandler]]:
    """A real SMTP server on loopback that keeps what it receives (aiosmtpd)."""
    handler = _SinkHandler()
    chosen = port or free_port()
    controller = Controller(handler, hostname=HOST, port=chosen, ready_timeout=10)
    try:
        controller.start()
    except Exception as exc:  # aiosmtpd wraps bind errors in several ways
        raise DemoError(f"cannot start the SMTP sink on {HOST}:{chosen}: {exc}") from None
    try:
        yield chosen, handler
    finally:
        controller.stop()


# --- the run -------------------------------------------------------------------------


@dataclass
class DemoOptions:
    db: Path | None = None
    outbox: Path | None = None
    port_base: int = DEFAULT_PORT_BASE
    keep_serving: bool = False
    progress: bool = False
    directory: Path = DEMO_DIR


@dataclass
class OfficeResult:
    office: OfficeConfig
    status: str
    stories: int
    recipients: list[str]
    files: list[Path]
    message_id: str | None
    received: bool
    accused: list[str]
    error: str | None
    delivered_total: int


@dataclass
class DemoResult:
    db_path: Path
    outbox: Path
    outlets: list[Outlet]
    pages_built: dict[str, int]
    crawl: list[Any]
    verdicts: dict[str, int]
    articles_per_site: dict[str, int]
    shared_stories: list[dict[str, Any]]
    offices: list[OfficeResult]
    mails_received: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)


def demo_settings(base: Settings, db_path: Path, outbox: Path, smtp_port: int) -> Settings:
    """The demo's settings, pointed at this run's database folder, outbox and SMTP sink."""
    return base.model_copy(
        update={
            "db_path": str(db_path),
            "outbox_dir": str(outbox),
            "crawl_state_dir": str(db_path.parent / f"{db_path.stem}-crawl-state"),
            "smtp": base.smtp.model_copy(update={"host": HOST, "port": smtp_port}),
        }
    )


def import_stages() -> tuple[Any, Any, Any]:
    """The stages the demo drives; a missing one is reported, not stubbed."""
    try:
        from crawler.run import CrawlOptions, crawl_sites
    except ImportError as exc:
        raise DemoError(f"the crawler stage is missing (crawler.run: {exc})") from None
    try:
        from alerts.digest import run_digests
    except ImportError as exc:
        raise DemoError(f"the alerts stage is missing (alerts.digest: {exc})") from None
    return CrawlOptions, crawl_sites, run_digests


def run_demo(
    options: DemoOptions,
    say: Callable[[str], None] = lambda _: None,
    report: Callable[[DemoResult], None] = lambda _: None,
) -> DemoResult:
    """Serve, crawl, digest; `report` sees the result while the outlets are still up."""
    started = time.monotonic()
    timings: dict[str, float] = {}
    CrawlOptions, crawl_sites, run_digests = import_stages()  # noqa: N806
    data = load_demo(options.directory, options.port_base)
    # Only --db or the demo's own settings: PANTAU_DB may name a production database.
    db_path = options.db or resolve_path(data.settings.db_path)
    outbox = options.outbox or resolve_path(data.settings.outbox_dir)
    sites = build_sites(data, options.directory)
    timings["build"] = time.monotonic() - started
    with serving(data.outlets, sites), smtp_sink() as (smtp_port, sink):
        settings = demo_settings(data.settings, db_path, outbox, smtp_port)
        ports = [o.port for o in data.outlets]
        say(
            f"serving {', '.join(o.name for o in data.outlets)} on {HOST}:{min(ports)}-"
            f"{max(ports)} and an SMTP sink on :{smtp_port}; crawling them"
        )
        mark = time.monotonic()
        crawl = crawl_sites(
            [o.site for o in data.outlets],
            db_path,
            settings,
            CrawlOptions(backfill=True, progress=options.progress),
        )
        timings["crawl"] = time.monotonic() - mark
        say("building and delivering each office's digest")
        mark = time.monotonic()
        db = store.open_db(db_path)
        try:
            reports = run_digests(db, settings, data.offices)
            timings["digest"] = time.monotonic() - mark
            result = DemoResult(
                db_path=db_path,
                outbox=outbox,
                outlets=data.outlets,
                pages_built={site: len(pages) for site, pages in sites.items()},
                crawl=crawl,
                verdicts=verdict_counts(db, data.outlets),
                articles_per_site=articles_per_site(db, data.outlets),
                shared_stories=shared_stories(db, data.outlets),
                offices=office_results(db, data.offices, reports, sink.received),
                mails_received=len(sink.received),
                seconds=time.monotonic() - started,
                timings=timings,
            )
        finally:
            db.close()
        report(result)
        if options.keep_serving:
            say_serving(data.outlets, smtp_port, say)
            wait_for_interrupt()
    return result


def say_serving(outlets: list[Outlet], smtp_port: int, say: Callable[[str], None]) -> None:
    for outlet in outlets:
        say(f"{outlet.name}: {outlet.base}/")
    say(f"SMTP sink: {HOST}:{smtp_port}. Press Ctrl-C to stop.")


def wait_for_interrupt() -> None:
    """Scrapy took over SIGINT for its reactor; give Ctrl-C back to Python first."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return


# --- what the summary shows (read from the store the stages wrote) -------------------


def _site_filter(outlets: list[Outlet]) -> tuple[str, list[str]]:
    ids = [o.id for o in outlets]
    return f"a.site in ({', '.join('?' for _ in ids)})", ids


def verdict_counts(db: Any, outlets: list[Outlet]) -> dict[str, int]:
    """The newest verdict of every demo article, counted."""
    where, params = _site_filter(outlets)
    rows = db.execute(
        "select f.verdict, count(*) from articles a join findings f on f.article_id = a.id "
        f"where {where} and f.id = (select max(id) from findings where article_id = a.id) "
        "group by f.verdict",
        params,
    )
    return dict(rows.fetchall())


def articles_per_site(db: Any, outlets: list[Outlet]) -> dict[str, int]:
    where, params = _site_filter(outlets)
    rows = db.execute(f"select site, count(*) from articles a where {where} group by site", params)
    return dict(rows.fetchall())


def shared_stories(db: Any, outlets: list[Outlet]) -> list[dict[str, Any]]:
    """Stories (clusters) carried by more than one demo outlet, with their outlets."""
    where, params = _site_filter(outlets)
    rows = db.execute(
        f"select a.cluster_id from articles a where {where} and a.cluster_id is not null "
        "group by a.cluster_id having count(distinct a.site) > 1 order by a.cluster_id",
        params,
    ).fetchall()
    stories = []
    for (cluster_id,) in rows:
        articles = store.cluster_articles(db, cluster_id)
        stories.append(
            {
                "cluster_id": cluster_id,
                "title": articles[0]["title"] if articles else "",
                "sites": [a["site"] for a in articles],
            }
        )
    return stories


def accused_in_digest(db: Any, message_id: str | None) -> list[str]:
    """Who the digest names as accused: the best finding of every story it carried."""
    if not message_id:
        return []
    from alerts.selection import best_findings

    clusters = [
        row[0]
        for row in db.execute(
            "select d.cluster_id from deliveries d join digests g on g.id = d.digest_id "
            "where g.message_id = ?",
            [message_id],
        ).fetchall()
    ]
    if not clusters:
        return []
    names: list[str] = []
    for row in best_findings(db, threshold=0.0, cluster_ids=clusters).values():
        for official in json.loads(row["officials"] or "[]"):
            label = official.get("name") or official.get("position") or "?"
            names.append(str(label))
    return sorted(dict.fromkeys(names))


def office_results(
    db: Any, offices: list[OfficeConfig], reports: list[Any], received: list[ReceivedMail]
) -> list[OfficeResult]:
    by_office = {o.id: o for o in offices}
    seen_ids = {mail.message_id for mail in received if mail.message_id}
    results = []
    for report in reports:
        results.append(
            OfficeResult(
                office=by_office[report.office],
                status=report.status,
                stories=report.stories,
                recipients=list(report.recipients),
                files=list(report.files),
                message_id=report.message_id,
                received=report.message_id in seen_ids,
                accused=accused_in_digest(db, report.message_id) if report.status == "sent" else [],
                error=report.error,
                delivered_total=stories_delivered(db, report.office),
            )
        )
    return results


def stories_delivered(db: Any, office_id: str) -> int:
    """Stories this office has been sent so far, by this run or earlier ones."""
    row = db.execute(
        "select count(*) from deliveries where office = ? and status = 'sent'", [office_id]
    ).fetchone()
    return int(row[0]) if row else 0

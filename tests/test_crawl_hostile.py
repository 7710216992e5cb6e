"""A hostile probe of the crawler, bounded: loopback sites built to trap, mislead or flood it.

Issue 14's crawl items, each reproduced by a site of its own on 127.0.0.1 and crawled
once for the module by a real `pantau crawl --all --backfill` subprocess with small
limits (max_pages 5, max_requests 10 -> a budget of 15 requests a site, a 3 s timeout,
at most 240 s in all). Each test then reads what the crawl did: the requests every
server answered and what the database recorded.
"""

from __future__ import annotations

import gzip
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from loopback import Fault, LoopbackSite, run_pantau, serve_site, write_config

from crawler.discovery import probe_site
from pantau.core.settings import CrawlSettings, Settings

pytestmark = pytest.mark.slow

MAX_PAGES = 5
MAX_REQUESTS = 10  # the run's budget is max(max_requests, 3 x max_pages) = 15 requests
BUDGET = max(MAX_REQUESTS, 3 * MAX_PAGES)
ARTICLE = (
    "<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
    + "<p>Camat di Kabupaten Sukamaju diduga hadir dalam deklarasi relawan pasangan calon "
    "bupati; Bawaslu menelusuri dugaan pelanggaran netralitas aparatur sipil negara.</p>"
    * 4
    + "</article></body></html>"
)


def sitemap_index(*locs: str) -> bytes:
    entries = "".join(f"<sitemap><loc>{{{{BASE}}}}{loc}</loc></sitemap>" for loc in locs)
    return (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{entries}</sitemapindex>"
    ).encode()


def rss(*links: str) -> bytes:
    items = "".join(
        f"<item><title>{n}</title><link>{link}</link></item>" for n, link in enumerate(links)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode()


def deep_index(query: str) -> bytes:
    """?n=N lists ?n=N+1: an index generator, as deep as anyone will follow."""
    number = int(query.partition("=")[2] or 1)
    return sitemap_index(f"/deep-sitemap.xml?n={number + 1}")


def fan_out_index(query: str) -> bytes:
    """Every index lists twenty new indexes: only the request budget ends it."""
    name = query.partition("=")[2] or "0"
    return sitemap_index(*(f"/fan-sitemap.xml?n={name}-{i}" for i in range(20)))


def endless_listing(query: str) -> bytes:
    """?page=N lists the same two articles and links ?page=N+1, for ever."""
    number = int(query.partition("=")[2] or 1)
    return (
        f'<html><head><link rel="next" href="/indeks/?page={number + 1}"></head><body>'
        '<a href="/read/pj-bupati-larang-pejabat-pasang-foto-bersama-calon/">a</a>'
        '<a href="/read/kepala-kampung-diminta-tidak-berpihak/">b</a></body></html>'
    ).encode()


def gzip_bomb() -> bytes:
    return gzip.compress(b"<html><body>" + b" " * 5_000_000 + b"</body></html>", 9)


@dataclass
class Hostile:
    db: Path
    servers: dict[str, LoopbackSite]
    elsewhere: LoopbackSite  # another port of 127.0.0.1: nothing may reach it
    output: str

    def rows(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.db) as conn:
            return list(conn.execute(sql, params))

    def causes(self, site: str) -> dict[str, int]:
        return dict(
            self.rows(  # type: ignore[arg-type]
                "select cause, count(*) from crawl_errors where site = ? group by cause", (site,)
            )
        )

    def run(self, site: str) -> tuple[object, ...]:
        (row,) = self.rows(
            "select status, pages_fetched, failure_causes from crawl_runs where site = ?", (site,)
        )
        return row

    def stored_text(self, site: str) -> str:
        return " ".join(
            str(r[0]) for r in self.rows("select text from articles where site = ?", (site,))
        )


def hostile_sites(elsewhere: str) -> dict[str, tuple[dict[str, str | bytes], dict[str, Fault]]]:
    article = ARTICLE.format(title="Camat Sukamaju Hadiri Deklarasi Relawan").encode()
    return {
        "cycle": (
            {
                "index.html": "<html></html>",
                "sitemap_index.xml": sitemap_index("/sitemap_index.xml", "/child-sitemap.xml"),
                "child-sitemap.xml": sitemap_index("/sitemap_index.xml"),
            },
            {},
        ),
        "deep": ({"index.html": "<html></html>"}, {"/deep-sitemap.xml": Fault(body=deep_index)}),
        "fan": ({"index.html": "<html></html>"}, {"/fan-sitemap.xml": Fault(body=fan_out_index)}),
        "endless": ({"index.html": "<html></html>"}, {"/indeks/": Fault(body=endless_listing)}),
        "away": (
            {
                "index.html": "<html></html>",
                "feed/index.xml": rss(
                    "{{BASE}}/2024/04/24/pindah-ke-port-lain/",
                    "{{BASE}}/2024/04/24/pindah-ke-ftp/",
                    "ftp://127.0.0.1/2024/04/24/berita-lewat-ftp/",
                    f"{elsewhere}/2024/04/24/berita-di-port-lain/",
                ),
            },
            {
                "/2024/04/24/pindah-ke-port-lain/": Fault(
                    redirect=f"{elsewhere}/2024/04/24/berita-di-port-lain/"
                ),
                "/2024/04/24/pindah-ke-ftp/": Fault(redirect="ftp://127.0.0.1/berita/"),
            },
        ),
        "mojibake": (
            {
                "index.html": "<html></html>",
                "feed/index.xml": rss("{{BASE}}/2024/04/24/camat-hadiri-deklarasi/"),
                "2024/04/24/camat-hadiri-deklarasi/index.html": article.replace(
                    b"diduga hadir", "diduga – “hadir ".encode() + b"\xff"
                ),
            },
            {},
        ),
        "retry": (
            {
                "index.html": "<html></html>",
                "feed/index.xml": rss("{{BASE}}/2024/04/24/camat-hadiri-deklarasi/"),
                "2024/04/24/camat-hadiri-deklarasi/index.html": article,
            },
            {"/feed/": Fault(status=503, times=1, headers={"Retry-After": "2"})},
        ),
        "bomb": (
            {
                "index.html": "<html></html>",
                "feed/index.xml": rss("{{BASE}}/2024/04/24/berita-bom/"),
            },
            {
                "/2024/04/24/berita-bom/": Fault(
                    body=gzip_bomb(), headers={"Content-Encoding": "gzip"}
                )
            },
        ),
        "bigrobots": (
            {
                "index.html": "<html></html>",
                "robots.txt": "User-agent: *\nDisallow: /rahasia/\n" + "# catatan\n" * 60_000,
                "feed/index.xml": rss("{{BASE}}/rahasia/2024/04/24/berita-tertutup/"),
                "rahasia/2024/04/24/berita-tertutup/index.html": article,
            },
            {},
        ),
    }


def entry(site: str, base: str) -> dict[str, object]:
    sources: dict[str, list[str]] = {
        "cycle": {"sitemaps": [base + "/sitemap_index.xml"]},
        "deep": {"sitemaps": [base + "/deep-sitemap.xml?n=1"]},
        "fan": {"sitemaps": [base + "/fan-sitemap.xml"]},
        "endless": {"listings": [base + "/indeks/"]},
    }.get(site, {"feeds": [base + "/feed/"]})
    return {"id": site, "name": site.title(), "url": base + "/", **sources}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    config = tmp_path_factory.mktemp("hostile")
    with ExitStack() as stack:
        elsewhere = stack.enter_context(serve_site({"index.html": "<html></html>"}))
        servers = {
            name: stack.enter_context(serve_site(files, faults))
            for name, (files, faults) in hostile_sites(str(elsewhere)).items()
        }
        write_config(
            config,
            [entry(name, str(server)) for name, server in servers.items()],
            crawl={"max_requests": MAX_REQUESTS, "max_retry_after": 5, "retry_times": 1},
        )
        db = config / "pantau.db"
        result = run_pantau(
            config,
            "crawl",
            "--all",
            "--backfill",
            "--max-pages",
            str(MAX_PAGES),
            "--db",
            str(db),
            timeout=240,
        )
        yield Hostile(db, servers, elsewhere, result.stdout + result.stderr)


# --- nothing endless -------------------------------------------------------------------


def test_a_sitemap_index_that_lists_itself_or_a_cycle_is_read_once(hostile: Hostile) -> None:
    paths = hostile.servers["cycle"].paths()
    assert paths.count("/sitemap_index.xml") == 1 and paths.count("/child-sitemap.xml") == 1


def test_a_generator_of_nested_indexes_stops_at_the_depth_limit(hostile: Hostile) -> None:
    fetched = [p for p in hostile.servers["deep"].paths() if p.startswith("/deep-sitemap")]
    assert len(fetched) == 3
    assert hostile.causes("deep") == {"sitemap-depth": 1}


def test_an_endless_listing_stops_when_a_page_brings_nothing_new(hostile: Hostile) -> None:
    listing = [p for p in hostile.servers["endless"].paths() if p.startswith("/indeks/")]
    assert listing == ["/indeks/", "/indeks/?page=2"]


def test_a_run_stops_at_its_request_budget_and_says_so(hostile: Hostile) -> None:
    answered = len(hostile.servers["fan"].requests)
    assert answered == BUDGET
    status, _, causes = hostile.run("fan")
    assert status == "partial" and "request-budget" in str(causes)


# --- nobody let in ---------------------------------------------------------------------


def test_no_request_reaches_another_port_or_protocol(hostile: Hostile) -> None:
    assert hostile.elsewhere.requests == []
    causes = hostile.causes("away")
    assert causes.get("offsite") == 1 and causes.get("not-http") == 1


def test_the_probe_fetches_nothing_off_the_site_either(hostile: Hostile) -> None:
    away = hostile.servers["away"]
    away.files["index.html"] = (
        f'<html><head><link rel="alternate" type="application/rss+xml" '
        f'href="{hostile.elsewhere}/feed/"></head></html>'
    ).encode()
    away.files["robots.txt"] = f"Sitemap: {hostile.elsewhere}/sitemap.xml\n".encode()
    probe_site(away + "/", Settings(crawl=CrawlSettings(download_timeout=3)))
    assert hostile.elsewhere.requests == []


# --- read right, record right ----------------------------------------------------------


def test_invalid_utf8_costs_only_the_bad_bytes(hostile: Hostile) -> None:
    text = hostile.stored_text("mojibake")
    assert "– “hadir" in text and "â€" not in text


def test_a_503_with_retry_after_is_retried_after_the_pause_and_remembered(
    hostile: Hostile,
) -> None:
    feed = [hit for hit in hostile.servers["retry"].requests if hit.path == "/feed/"]
    assert [hit.status for hit in feed] == [503, 200]
    assert feed[1].at - feed[0].at >= 2.0
    assert hostile.rows("select site from crawl_retry_after") == [("retry",)]


def test_a_decompression_bomb_is_recorded_as_oversize(hostile: Hostile) -> None:
    assert hostile.causes("bomb") == {"oversize": 1}


def test_a_robots_txt_over_the_size_cap_is_obeyed_and_recorded(hostile: Hostile) -> None:
    assert "/rahasia/2024/04/24/berita-tertutup/" not in hostile.servers["bigrobots"].paths()
    causes = hostile.causes("bigrobots")
    assert causes.get("robots-oversize") == 1 and causes.get("robots-forbidden") == 1


def test_every_run_ended_within_its_limits(hostile: Hostile) -> None:
    for name, server in hostile.servers.items():
        assert len(server.requests) <= BUDGET, name
    finished = hostile.rows("select count(*) from crawl_runs where finished_at is not null")
    assert finished == [(len(hostile.servers),)], hostile.output

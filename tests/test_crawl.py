"""The real spider, in a `pantau crawl` subprocess, against fixture sites on 127.0.0.1.

One crawl of every fixture kind (plus a faulty copy of the WordPress site and a dead
host) runs once for the module; each test then reads what it stored.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import FIXTURES
from loopback import Fault, Hit, LoopbackSite, load_files, run_pantau, serve_site, write_config

pytestmark = pytest.mark.slow

SITES = FIXTURES / "sites"

WORDPRESS = {
    "/2024/04/24/camat-sukamaju-hadiri-deklarasi-relawan/": (
        "Camat Sukamaju Hadiri Deklarasi Relawan, Bawaslu Lakukan Penelusuran",
        "2024-04-24T13:00:00+07:00",
    ),
    "/2024/04/22/pemkab-sukamaju-terbitkan-surat-edaran-netralitas/": (
        "Pemkab Sukamaju Terbitkan Surat Edaran Netralitas ASN Jelang Pilkada",
        "2024-04-22T09:30:00+07:00",
    ),
    "/2024/04/20/ratusan-kepala-desa-ikuti-sosialisasi/": (
        "Ratusan Kepala Desa Ikuti Sosialisasi Pengawasan Partisipatif",
        "2024-04-20T15:45:00+07:00",
    ),
    "/2024/04/18/bawaslu-sukamaju-buka-posko-pengaduan/": (
        "Bawaslu Sukamaju Buka Posko Pengaduan Netralitas ASN",
        "2024-04-18T08:00:00+07:00",
    ),
}
NEWS_ONLY = {
    "/berita/20240502101500/kadis-pendidikan-diduga-arahkan-guru.html": (
        "Kepala Dinas Pendidikan Diduga Arahkan Guru Pilih Calon Tertentu",
        "2024-05-02T10:15:00+08:00",
    ),
    "/berita/20240501140000/guru-honorer-diingatkan-jaga-netralitas.html": (
        "Guru Honorer Diingatkan Jaga Netralitas",
        "2024-05-01T14:00:00+08:00",
    ),
    "/berita/20240430192000/lurah-mandala-utara-dilaporkan-pasang-apk.html": (
        "Lurah di Mandala Utara Dilaporkan Pasang Alat Peraga Kampanye",
        "2024-04-30T19:20:00+08:00",
    ),
}
LISTING = {
    "/read/pj-bupati-larang-pejabat-pasang-foto-bersama-calon/": (
        "Pj Bupati Larang Pejabat Pasang Foto Bersama Calon",
        "2024-06-12T11:00:00+09:00",
    ),
    "/read/kepala-kampung-diminta-tidak-berpihak/": (
        "Kepala Kampung Diminta Tidak Berpihak",
        "2024-06-10T08:30:00+09:00",
    ),
    "/read/panwas-distrik-temukan-spanduk-ajakan-memilih/": (
        "Panwas Distrik Temukan Spanduk Ajakan Memilih di Kantor Distrik",
        "2024-06-05T16:10:00+09:00",
    ),
    "/read/sosialisasi-netralitas-asn-digelar-di-tiga-distrik/": (
        "Sosialisasi Netralitas ASN Digelar di Tiga Distrik",
        "2024-05-28T09:00:00+09:00",
    ),
}
AMP = {
    "/berita/kades-tepian-dipanggil-bawaslu-usai-unggah-dukungan/": (
        "Kades Tepian Dipanggil Bawaslu Usai Unggah Dukungan di Media Sosial",
        "2024-07-03T12:00:00+07:00",
    ),
    "/berita/perangkat-desa-diminta-tidak-ikut-kampanye/": (
        "Perangkat Desa Diminta Tidak Ikut Kampanye",
        "2024-07-01T07:45:00+07:00",
    ),
}
WP_PATHS = list(WORDPRESS)
SLOW = "/2024/04/25/berita-yang-lambat-sekali-dimuat/"
HUGE = "/2024/04/25/berita-dengan-badan-raksasa/"
HUGE_CHUNKED = "/2024/04/25/berita-raksasa-tanpa-panjang/"
LOOP = "/2024/04/25/berita-yang-berputar-putar/"
AWAY = "/2024/04/25/berita-pindah-ke-situs-lain/"
MB = 1024 * 1024


def faulty_wordpress() -> tuple[dict[str, bytes], dict[str, Fault]]:
    """The WordPress site with a fault on every article but the first and third."""
    files = load_files(SITES / "wordpress")
    files["robots.txt"] = (
        b"User-agent: *\nDisallow: /2024/04/18/\nSitemap: {{BASE}}/sitemap_index.xml\n"
    )
    extra = "".join(
        f"<url><loc>{{{{BASE}}}}{path}</loc><lastmod>2024-04-25T01:00:00+00:00</lastmod></url>"
        for path in (SLOW, HUGE, HUGE_CHUNKED, LOOP, AWAY)
    )
    files["post-sitemap.xml"] = files["post-sitemap.xml"].replace(
        b"</urlset>", extra.encode() + b"</urlset>"
    )
    faults = {
        "/feed/": Fault(status=503, times=1),
        WP_PATHS[0]: Fault(content_type="text/html; charset=iso-8859-1"),
        WP_PATHS[1]: Fault(status=500),
        WP_PATHS[2]: Fault(status=503, times=2),
        SLOW: Fault(delay=5.0),
        HUGE: Fault(huge_bytes=50 * MB),
        HUGE_CHUNKED: Fault(huge_bytes=50 * MB, chunked=True),
        LOOP: Fault(redirect="/putar-balik/"),
        "/putar-balik/": Fault(redirect=LOOP),
        AWAY: Fault(redirect="http://localhost:9/berita-lain/"),  # another host: not followed
    }
    return files, faults


@dataclass
class Crawled:
    db: Path
    bases: dict[str, str]
    returncode: int
    output: str
    servers: dict[str, LoopbackSite]
    config: Path

    def rows(self, sql: str, params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        with sqlite3.connect(self.db) as conn:
            conn.row_factory = sqlite3.Row
            return list(conn.execute(sql, params))

    def articles(self, site: str) -> dict[str, sqlite3.Row]:
        base = self.bases[site]
        return {
            row["url"].removeprefix(base): row
            for row in self.rows("select * from articles where site = ? order by id", (site,))
        }

    def run(self, site: str) -> sqlite3.Row:
        return self.rows("select * from crawl_runs where site = ? order by id desc", (site,))[0]

    def errors(self, site: str) -> dict[str, str]:
        base = self.bases[site]
        return {
            row["url"].removeprefix(base): row["cause"]
            for row in self.rows("select url, cause from crawl_errors where site = ?", (site,))
        }


def site_entries(bases: dict[str, str]) -> list[dict[str, object]]:
    return [
        {
            "id": "wordpress",
            "name": "Sukamaju Pos",
            "url": bases["wordpress"] + "/",
            "feeds": [bases["wordpress"] + "/feed/"],
            "sitemaps": [bases["wordpress"] + "/sitemap_index.xml"],
            "article_pattern": r"/20\d\d/\d\d/\d\d/[^/]+/$",
        },
        {
            "id": "newsonly",
            "name": "Warta Mandala",
            "url": bases["newsonly"] + "/",
            "sitemaps": [bases["newsonly"] + "/news-sitemap.xml"],
        },
        {
            "id": "listing",
            "name": "Suara Tanjung Biru",
            "url": bases["listing"] + "/",
            "listings": [bases["listing"] + "/indeks/"],
        },
        {
            "id": "ampdup",
            "name": "Tepian Today",
            "url": bases["ampdup"] + "/",
            "feeds": [bases["ampdup"] + "/feed/"],
            "listings": [bases["ampdup"] + "/"],
        },
        {
            "id": "faulty",
            "name": "Sukamaju Pos (faulty host)",
            "url": bases["faulty"] + "/",
            "feeds": [bases["faulty"] + "/feed/"],
            "sitemaps": [bases["faulty"] + "/sitemap_index.xml"],
        },
        {"id": "dead", "name": "Gone Offline", "url": "http://127.0.0.1:9/"},
    ]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    config = tmp_path_factory.mktemp("crawl-all")
    files, faults = faulty_wordpress()
    with ExitStack() as stack:
        servers = {
            kind: stack.enter_context(serve_site(SITES / kind))
            for kind in ("wordpress", "newsonly", "listing", "ampdup")
        }
        servers["faulty"] = stack.enter_context(serve_site(files, faults))
        bases = {kind: str(server) for kind, server in servers.items()}
        bases["dead"] = "http://127.0.0.1:9"
        write_config(config, site_entries(bases))
        db = config / "pantau.db"
        result = run_pantau(config, "crawl", "--all", "--db", str(db))
        yield Crawled(db, bases, result.returncode, result.stdout + result.stderr, servers, config)


def assert_stored_exactly(crawled: Crawled, site: str, expected: dict[str, tuple[str, str]]):
    stored = crawled.articles(site)
    assert sorted(stored) == sorted(expected), crawled.output
    for path, (title, published) in expected.items():
        assert stored[path]["title"] == title
        assert stored[path]["published"] == published


def test_wordpress_feed_and_yoast_sitemap_store_every_post_once(crawled: Crawled) -> None:
    assert_stored_exactly(crawled, "wordpress", WORDPRESS)


def test_pages_and_taxonomies_in_the_sitemap_index_are_not_stored(crawled: Crawled) -> None:
    urls = " ".join(crawled.articles("wordpress"))
    assert "tentang-kami" not in urls and "kategori" not in urls


def test_news_sitemap_only_site_is_crawled_with_visible_indonesian_dates(crawled: Crawled):
    assert_stored_exactly(crawled, "newsonly", NEWS_ONLY)


def test_listing_only_site_follows_pagination_and_joins_multi_page_articles(crawled: Crawled):
    assert_stored_exactly(crawled, "listing", LISTING)
    multi = crawled.articles("listing")["/read/panwas-distrik-temukan-spanduk-ajakan-memilih/"]
    assert "spanduk berisi ajakan memilih" in multi["text"]
    assert "rekaman kamera pengawas" in multi["text"]  # from page 2


def test_amp_copies_and_tracking_variants_fold_into_one_canonical_article(crawled: Crawled):
    assert_stored_exactly(crawled, "ampdup", AMP)
    aliases = [row["url"] for row in crawled.rows("select url from article_urls")]
    assert not any("utm_" in url or "fbclid" in url for url in aliases)


def test_read_also_links_are_removed_from_stored_text(crawled: Crawled) -> None:
    for site in ("wordpress", "newsonly", "listing", "ampdup"):
        for row in crawled.articles(site).values():
            assert "baca juga" not in row["text"].lower(), row["url"]
            assert not re.search(r"(?im)^(bagikan|share)\b", row["text"]), row["url"]


def test_a_repeated_body_is_stored_once(crawled: Crawled) -> None:
    text = crawled.articles("ampdup")["/berita/perangkat-desa-diminta-tidak-ikut-kampanye/"]["text"]
    assert text.count("Camat Tepian meminta seluruh perangkat desa") == 1


def test_fault_site_stores_the_healthy_articles_and_records_each_failure(crawled: Crawled):
    stored = crawled.articles("faulty")
    assert sorted(stored) == sorted([WP_PATHS[0], WP_PATHS[2]])
    assert "“Laporan itu kami kaji sesuai prosedur,”" in stored[WP_PATHS[0]]["text"]
    assert crawled.errors("faulty") == {
        WP_PATHS[1]: "http-500",
        WP_PATHS[3]: "robots-forbidden",
        SLOW: "timeout",
        HUGE: "oversize",
        HUGE_CHUNKED: "oversize",
        LOOP: "redirect-loop",
        AWAY: "offsite",
    }


def test_fault_site_run_is_partial_with_failures_counted_by_cause(crawled: Crawled) -> None:
    run = crawled.run("faulty")
    assert run["status"] == "partial"
    assert json.loads(run["failure_causes"]) == {
        "http-500": 1,
        "offsite": 1,
        "oversize": 2,
        "redirect-loop": 1,
        "robots-forbidden": 1,
        "timeout": 1,
    }
    assert run["articles_new"] == 2


def test_an_unreachable_site_fails_alone_and_the_command_exits_non_zero(crawled: Crawled):
    assert crawled.run("dead")["status"] == "failed"
    assert crawled.run("wordpress")["status"] == "ok"
    assert crawled.returncode == 1


def test_every_run_is_recorded_with_counts(crawled: Crawled) -> None:
    run = crawled.run("wordpress")
    assert run["articles_new"] == 4 and run["finished_at"] and run["pid"]
    assert run["pages_fetched"] >= 4 + 3  # articles + feed + index + post sitemap


def test_healthy_sites_record_no_errors(crawled: Crawled) -> None:
    for site in ("wordpress", "newsonly", "listing", "ampdup"):
        assert crawled.errors(site) == {}, site


# --- a second crawl of the same site ---------------------------------------------------

CHANGED = WP_PATHS[2]  # its text and lastmod change before the second crawl
TOUCHED = WP_PATHS[1]  # only its lastmod changes: a conditional request answers 304


@dataclass
class Recrawled:
    first: Crawled
    hits: list[Hit]
    returncode: int

    def fetched(self, path: str) -> list[Hit]:
        return [hit for hit in self.hits if hit.path == path]


@pytest.fixture(scope="module")
def recrawled(crawled: Crawled) -> Recrawled:
    site = crawled.servers["wordpress"]
    files = site.files
    sitemap = files["post-sitemap.xml"].decode()
    for path in (CHANGED, TOUCHED):
        sitemap = re.sub(
            rf"({re.escape(path)}</loc><lastmod>)[^<]+", r"\g<1>2024-04-26T08:00:00+07:00", sitemap
        )
    files["post-sitemap.xml"] = sitemap.encode()
    page = CHANGED.strip("/") + "/index.html"
    files[page] = files[page].replace(b"212 kepala desa", b"215 kepala desa")
    before = len(site.requests)
    result = run_pantau(crawled.config, "crawl", "wordpress", "--db", str(crawled.db))
    return Recrawled(crawled, site.requests[before:], result.returncode)


def test_second_crawl_fetches_no_unchanged_article(recrawled: Recrawled) -> None:
    for path in (WP_PATHS[0], WP_PATHS[3]):
        assert recrawled.fetched(path) == []


def test_an_article_whose_lastmod_moved_is_refetched_conditionally(recrawled: Recrawled) -> None:
    (hit,) = recrawled.fetched(TOUCHED)
    assert hit.headers.get("If-None-Match") and hit.status == 304


def test_an_article_that_changed_is_updated_in_place(recrawled: Recrawled) -> None:
    stored = recrawled.first.articles("wordpress")
    assert sorted(stored) == sorted(WORDPRESS)
    assert "215 kepala desa" in stored[CHANGED]["text"]


def test_second_run_counts_updated_and_known(recrawled: Recrawled) -> None:
    run = recrawled.first.run("wordpress")
    assert recrawled.returncode == 0
    assert (run["articles_new"], run["articles_updated"], run["articles_skipped"]) == (0, 1, 3)


def test_an_unchanged_feed_answers_not_modified_on_the_second_crawl(recrawled: Recrawled):
    (hit,) = recrawled.fetched("/feed/")
    assert hit.headers.get("If-None-Match") and hit.status == 304


def test_the_sitemap_index_is_always_read_in_full(recrawled: Recrawled) -> None:
    (hit,) = recrawled.fetched("/sitemap_index.xml")
    assert "If-None-Match" not in hit.headers and hit.status == 200

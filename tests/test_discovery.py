"""Reading discovery sources and probing fixture sites on 127.0.0.1 (no Scrapy needed)."""

from __future__ import annotations

import gzip
from datetime import UTC, date

import pytest
from conftest import FIXTURES
from loopback import Fault, serve_site

from crawler import sources
from crawler.discovery import DiscoveryError, learn_article_pattern, probe_site, propose_site
from crawler.naming import site_id_for, site_name
from crawler.urls import SiteScope
from pantau.core.settings import CrawlSettings, Settings

SITES = FIXTURES / "sites"
SETTINGS = Settings(crawl=CrawlSettings(download_timeout=3))


def fixture_bytes(*parts: str, base: str = "http://x.test") -> bytes:
    return SITES.joinpath(*parts).read_bytes().replace(b"{{BASE}}", base.encode())


def test_feed_entries_carry_links_and_dates() -> None:
    links = sources.parse_feed(fixture_bytes("wordpress", "feed", "index.xml"), "http://x.test/")
    assert [link.url for link in links][0].endswith("/camat-sukamaju-hadiri-deklarasi-relawan/")
    assert links[0].date is not None and links[0].date.date() == date(2024, 4, 24)
    assert len(links) == 3


def test_sitemap_index_lists_child_sitemaps() -> None:
    doc = sources.parse_sitemap(fixture_bytes("wordpress", "sitemap_index.xml"))
    assert doc.kind == "index"
    assert [link.url.rsplit("/", 1)[1] for link in doc.links] == [
        "post-sitemap.xml",
        "page-sitemap.xml",
        "category-sitemap.xml",
    ]


def test_google_news_sitemap_dates_come_from_publication_date() -> None:
    doc = sources.parse_sitemap(fixture_bytes("newsonly", "news-sitemap.xml"))
    assert doc.kind == "urlset" and doc.is_news
    assert doc.links[0].date is not None
    assert doc.links[0].date.astimezone(UTC).hour == 2  # 10:15 WITA
    assert doc.links[0].title == "Kepala Dinas Pendidikan Diduga Arahkan Guru Pilih Calon Tertentu"


def test_gzipped_sitemaps_are_read() -> None:
    raw = gzip.compress(fixture_bytes("wordpress", "post-sitemap.xml"))
    assert len(sources.parse_sitemap(raw).links) == 4


def test_garbage_is_not_a_sitemap() -> None:
    assert sources.parse_sitemap(b"<html><body>nope</body></html>").kind == "unknown"
    assert sources.parse_sitemap(b"\x00\x01 not xml").kind == "unknown"


def test_listing_links_skip_navigation_and_find_the_next_page() -> None:
    body = fixture_bytes("listing", "indeks", "index.html")
    scope = SiteScope.of(["http://x.test/"])
    links = sources.article_links(body, "http://x.test/indeks/", scope, None)
    assert links == [
        "http://x.test/read/pj-bupati-larang-pejabat-pasang-foto-bersama-calon/",
        "http://x.test/read/kepala-kampung-diminta-tidak-berpihak/",
    ]
    assert (
        sources.next_listing_page(body, "http://x.test/indeks/") == "http://x.test/indeks/?page=2"
    )


def test_the_last_listing_page_has_no_next() -> None:
    body = fixture_bytes("listing", "indeks", "index@page=3.html")
    assert sources.next_listing_page(body, "http://x.test/indeks/?page=3") is None


def test_continuation_page_of_a_multi_page_article_is_found() -> None:
    page = "read/panwas-distrik-temukan-spanduk-ajakan-memilih/"
    body = fixture_bytes("listing", *page.strip("/").split("/"), "index.html")
    assert sources.continuation_page(body, f"http://x.test/{page}") == f"http://x.test/{page}2/"
    assert sources.is_continuation_url(f"http://x.test/{page}2/")


def test_dates_in_article_urls() -> None:
    assert sources.date_in_url("https://x.test/2024/04/24/judul/") == date(2024, 4, 24)
    assert sources.date_in_url("https://x.test/read/judul-berita/") is None


@pytest.mark.parametrize(
    ("urls", "pattern"),
    [
        (["https://a.test/2024/04/24/x-y/", "https://a.test/2024/04/22/z-y/"], "/20"),
        (["https://a.test/berita/1/x-y.html", "https://a.test/berita/2/z-y.html"], "/berita/"),
    ],
)
def test_article_pattern_is_learnt_from_known_articles(urls: list[str], pattern: str) -> None:
    learnt = learn_article_pattern(urls)
    assert learnt is not None and pattern in learnt


def test_site_ids_come_from_the_domain() -> None:
    assert site_id_for("https://www.radarkepahiang.co.id/") == "radarkepahiang"
    assert site_id_for("https://kabar.sukamaju.com/") == "kabar-sukamaju"


def test_site_ids_drop_any_public_suffix_not_only_well_known_ones() -> None:
    assert site_id_for("https://sukamaju.desa.id/") == "sukamaju"
    assert site_id_for("https://kabar.ponorogo.net.id/") == "kabar-ponorogo"


def test_a_gzipped_sitemap_that_inflates_past_the_cap_is_refused() -> None:
    bomb = gzip.compress(b"<urlset>" + b" " * 200_000 + b"</urlset>")
    with pytest.raises(sources.Oversized):
        sources.maybe_gunzip(bomb, limit=100_000)


def test_probing_a_wordpress_site_finds_feed_and_yoast_sitemap() -> None:
    with serve_site(SITES / "wordpress") as base:
        found = probe_site(base + "/", SETTINGS)
    assert found.feeds == [base + "/feed/"]
    assert found.sitemaps[0] == base + "/sitemap_index.xml"
    assert found.name == "Sukamaju Pos"
    assert found.article_pattern is not None and "20" in found.article_pattern
    assert not found.listings


def test_probing_a_news_sitemap_site_finds_it_through_robots_txt() -> None:
    with serve_site(SITES / "newsonly") as base:
        found = probe_site(base + "/", SETTINGS)
    assert found.sitemaps == [base + "/news-sitemap.xml"]
    assert found.news_sitemaps == [base + "/news-sitemap.xml"]
    site = propose_site(found)
    assert site.sitemaps == [base + "/news-sitemap.xml"] and not site.feeds


def test_probing_a_listing_only_site_proposes_listing_pages() -> None:
    with serve_site(SITES / "listing") as base:
        found = probe_site(base + "/", SETTINGS)
    assert not found.feeds and not found.sitemaps
    assert found.listings[0] == base + "/"
    assert base + "/indeks/" in found.listings


def test_probing_respects_robots_txt() -> None:
    files = {"robots.txt": "User-agent: *\nDisallow: /\n", "index.html": "<html></html>"}
    with serve_site(files) as base, pytest.raises(DiscoveryError, match="robots"):
        probe_site(base + "/", SETTINGS)


def test_probing_reads_robots_txt_wildcards_as_the_crawl_does() -> None:
    """Protego, like the crawl's RobotsTxtMiddleware: `/*sitemap` forbids every sitemap."""
    with serve_site(SITES / "wordpress") as base:
        base.files["robots.txt"] = b"User-agent: *\nDisallow: /*sitemap\n"
        found = probe_site(base + "/", SETTINGS)
    assert found.sitemaps == [] and found.feeds == [base + "/feed/"]


def test_an_unreachable_site_cannot_be_probed() -> None:
    with pytest.raises(DiscoveryError):
        probe_site("http://127.0.0.1:9/", SETTINGS)


def test_proposed_ids_do_not_collide() -> None:
    with serve_site(SITES / "wordpress") as base:
        found = probe_site(base + "/", SETTINGS)
    first = propose_site(found)
    assert propose_site(found, [first.id]).id == f"{first.id}-2"


def test_query_paginated_articles_are_continued() -> None:
    body = b'<html><body><p>isi</p><a href="/berita/judul-panjang?page=2">2</a></body></html>'
    url = "http://x.test/berita/judul-panjang"
    assert sources.continuation_page(body, url) == url + "?page=2"
    assert sources.is_continuation_url(url + "?page=2")


def test_an_article_without_further_pages_has_no_continuation() -> None:
    body = fixture_bytes(
        "wordpress", "2024", "04", "24", "camat-sukamaju-hadiri-deklarasi-relawan", "index.html"
    )
    assert (
        sources.continuation_page(
            body, "http://x.test/2024/04/24/camat-sukamaju-hadiri-deklarasi-relawan/"
        )
        is None
    )


def test_the_probe_fetches_nothing_off_the_site() -> None:
    """Feeds, sitemaps and redirects naming another host, port or protocol are not fetched."""
    with serve_site({"feed/index.xml": "<rss></rss>"}) as other:
        home = (
            f'<html><head><link rel="alternate" type="application/rss+xml" href="{other}/feed/">'
            '<link rel="alternate" type="application/rss+xml" href="ftp://127.0.0.1:9/feed">'
            "</head><body></body></html>"
        )
        files = {"index.html": home, "robots.txt": f"Sitemap: {other}/sitemap.xml\n"}
        with serve_site(files) as base:
            found = probe_site(base + "/", SETTINGS)
        assert other.requests == []
    assert found.feeds == [] and found.sitemaps == []


def test_the_probe_does_not_follow_a_redirect_to_another_port() -> None:
    with serve_site({"index.html": "<html><title>Lain</title></html>"}) as other:
        redirect = {"/": Fault(redirect=other + "/")}
        with serve_site({}, redirect) as base, pytest.raises(DiscoveryError, match="redirect"):
            probe_site(base + "/", SETTINGS)
        assert other.requests == []


def test_a_utf8_page_with_a_bad_byte_loses_only_that_byte() -> None:
    page = "<html><body><p>“Kutipan” – Bawaslu</p></body></html>".encode() + b"\xff"
    text = sources.utf8_page("text/html; charset=utf-8", page).decode("utf-8")
    assert "“Kutipan” – Bawaslu" in text and "â€" not in text


def test_a_page_in_a_declared_single_byte_charset_is_decoded_with_it() -> None:
    page = "<p>“Kutipan” – ok</p>".encode("cp1252")
    assert "“Kutipan” – ok" in sources.utf8_page("text/html; charset=windows-1252", page).decode()


def test_valid_utf8_is_passed_through_unchanged() -> None:
    page = "<p>“Kutipan”</p>".encode()
    assert sources.utf8_page(None, page) is page


def test_a_robots_txt_over_the_size_cap_is_read_up_to_500_kib_not_ignored() -> None:
    small_cap = Settings(crawl=CrawlSettings(max_body_bytes=100_000))
    robots = "User-agent: *\nDisallow: /\n" + "# catatan\n" * 70_000  # ~700 KB
    files = {"robots.txt": robots, "index.html": "<html><title>Situs</title></html>"}
    with serve_site(files) as base, pytest.raises(DiscoveryError, match="robots"):
        probe_site(base + "/", small_cap)


def test_an_oversized_robots_txt_is_reported_by_the_probe() -> None:
    robots = "User-agent: *\nAllow: /\n" + "# catatan\n" * 70_000
    files = {"robots.txt": robots, "index.html": "<html><title>Situs</title></html>"}
    with serve_site(files) as base:
        found = probe_site(base + "/", SETTINGS)
    assert any("robots.txt is over" in problem for problem in found.problems)


# --- sites add polish ------------------------------------------------------------------


def test_the_outlet_name_comes_from_json_ld_before_a_generic_title() -> None:
    page = (
        b"<html><head><title>Berita Terbaru</title>"
        b'<script type="application/ld+json">{"@context": "https://schema.org", "@graph": ['
        b'{"@type": "WebPage", "name": "Berita Terbaru", '
        b'"publisher": {"@type": "Organization", "name": "Kepahiang Pos"}}]}</script>'
        b"</head></html>"
    )
    assert site_name(page, "https://kepahiangpos.co.id/") == "Kepahiang Pos"


@pytest.mark.parametrize(
    ("title", "name"),
    [
        ("Berita Terbaru Hari Ini | Kepahiang Pos", "Kepahiang Pos"),
        ("Kepahiang Pos - Berita Terbaru Kepahiang", "Kepahiang Pos"),
        ("Berita Terbaru – Portal Bengkulu", "Portal Bengkulu"),
    ],
)
def test_the_outlet_name_is_the_part_of_the_title_that_names_the_site(title: str, name: str):
    page = f"<html><head><title>{title}</title></head></html>".encode()
    assert site_name(page, "https://kepahiangpos.co.id/") == name


def test_one_sitemap_is_proposed_whatever_spelling_of_the_host_names_it() -> None:
    with serve_site(SITES / "wordpress") as base:
        base.files["robots.txt"] = (
            f"Sitemap: {base.replace('http://', 'HTTP://')}/sitemap_index.xml\n".encode()
        )
        found = probe_site(base + "/", SETTINGS)
    assert found.sitemaps == [base + "/sitemap_index.xml"]


def test_category_listings_that_answer_404_are_not_proposed() -> None:
    with serve_site(SITES / "listing") as base:
        home = base.files["index.html"].decode()
        base.files["index.html"] = home.replace(
            "</body>", '<a href="/kategori/hilang/">Hilang</a></body>'
        ).encode()
        found = probe_site(base + "/", SETTINGS)
    assert base + "/indeks/" in found.listings
    assert base + "/kategori/hilang/" not in found.listings

"""The spider's decisions, fed Scrapy responses built from fixture bytes (no reactor).

What to request, what to skip as known, when to re-fetch conditionally, how far to page.
"""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import scrapy
from conftest import FIXTURES
from scrapy.http import HtmlResponse, Response, XmlResponse
from scrapy.utils.test import get_crawler

from crawler import runs
from crawler.runs import RunRecorder
from crawler.settings import scrapy_settings
from crawler.spiders.news import NewsSpider
from pantau.core import store
from pantau.core.settings import Settings, SiteConfig
from pantau.wiring import INGESTOR_PATH

BASE = "http://sukamaju.test"
SITES = FIXTURES / "sites"
WP1 = f"{BASE}/2024/04/24/camat-sukamaju-hadiri-deklarasi-relawan/"
WP2 = f"{BASE}/2024/04/22/pemkab-sukamaju-terbitkan-surat-edaran-netralitas/"


def fixture(*parts: str) -> bytes:
    return SITES.joinpath(*parts).read_bytes().replace(b"{{BASE}}", BASE.encode())


@pytest.fixture
def make_spider(db_path: Path) -> Iterator[Any]:
    opened = []

    def make(**options: Any) -> NewsSpider:
        db = store.open_db(db_path)
        opened.append(db)
        recorder = RunRecorder(db, "sukamaju")
        recorder.start()
        site = SiteConfig(
            id="sukamaju",
            name="Sukamaju Pos",
            url=BASE + "/",
            feeds=[BASE + "/feed/"],
            sitemaps=[BASE + "/sitemap_index.xml"],
            listings=options.pop("listings", []),
        )
        crawler = get_crawler(NewsSpider, scrapy_settings(Settings(), INGESTOR_PATH))
        return NewsSpider.from_crawler(
            crawler, site=site, recorder=recorder, settings_model=Settings(), **options
        )

    yield make
    for db in opened:
        db.close()


def respond(url: str, body: bytes, meta: dict[str, Any] | None = None, status: int = 200):
    request = scrapy.Request(url, meta=meta or {})
    kind = XmlResponse if url.endswith((".xml", "/feed/")) else HtmlResponse
    return kind(url=url, body=body, request=request, status=status)


def requested(results: Any) -> list[str]:
    return [r.url for r in results if isinstance(r, scrapy.Request)]


def store_article(spider: NewsSpider, url: str, **extra: Any) -> int:
    record = {
        "url": url,
        "site": "sukamaju",
        "fetched_at": "2024-04-25T00:00:00+00:00",
        "text": url,
    }
    article_id, _ = store.save_article(spider.db, {**record, **extra})
    return article_id


def test_feed_items_become_article_requests_newest_first(make_spider: Any) -> None:
    spider = make_spider()
    urls = requested(
        spider.parse_feed(respond(BASE + "/feed/", fixture("wordpress", "feed", "index.xml")))
    )
    assert urls[0] == WP1 and len(urls) == 3


def test_items_older_than_since_are_not_requested(make_spider: Any) -> None:
    spider = make_spider(since=date(2024, 4, 21))
    urls = requested(
        spider.parse_feed(respond(BASE + "/feed/", fixture("wordpress", "feed", "index.xml")))
    )
    assert urls == [WP1, WP2]


def test_a_known_article_is_skipped_before_fetching(make_spider: Any) -> None:
    spider = make_spider()
    store_article(spider, WP1, source_date="2024-04-24T13:00:00+07:00")
    urls = requested(
        spider.parse_feed(respond(BASE + "/feed/", fixture("wordpress", "feed", "index.xml")))
    )
    assert WP1 not in urls
    assert spider.recorder.counts.articles_skipped == 1


def test_a_known_article_stored_under_another_variant_is_skipped(make_spider: Any) -> None:
    spider = make_spider()
    store_article(spider, WP1.replace("http://", "https://").rstrip("/"))
    assert spider.known_article(WP1) is not None


def test_a_newer_feed_date_refetches_conditionally(make_spider: Any) -> None:
    spider = make_spider()
    store_article(
        spider,
        WP1,
        source_date="2024-04-20T00:00:00+07:00",
        etag='"abc"',
        last_modified="Wed, 24 Apr 2024 06:00:00 GMT",
    )
    results = list(
        spider.parse_feed(respond(BASE + "/feed/", fixture("wordpress", "feed", "index.xml")))
    )
    refetch = next(r for r in results if r.url == WP1)
    assert refetch.meta["refetch"]
    assert refetch.headers[b"If-None-Match"] == b'"abc"'
    assert refetch.headers[b"If-Modified-Since"] == b"Wed, 24 Apr 2024 06:00:00 GMT"


def test_a_not_modified_answer_counts_as_known(make_spider: Any) -> None:
    spider = make_spider()
    article_id = store_article(spider, WP1)
    meta = {"refetch": article_id, "source_date": "2024-04-30T00:00:00+00:00"}
    assert list(spider.parse_article(respond(WP1, b"", meta, status=304))) == []
    assert spider.recorder.counts.articles_skipped == 1
    row = spider.db.execute("select source_date from articles where id = ?", [article_id])
    assert row.fetchone()[0] == "2024-04-30T00:00:00+00:00"


def test_max_pages_caps_article_requests(make_spider: Any) -> None:
    spider = make_spider(max_pages=2)
    urls = requested(
        spider.parse_feed(respond(BASE + "/feed/", fixture("wordpress", "feed", "index.xml")))
    )
    assert len(urls) == 2


def test_the_same_article_from_two_sources_is_requested_once(make_spider: Any) -> None:
    spider = make_spider()
    feed = requested(
        spider.parse_feed(respond(BASE + "/feed/", fixture("wordpress", "feed", "index.xml")))
    )
    sitemap = requested(
        spider.parse_sitemap(
            respond(BASE + "/post-sitemap.xml", fixture("wordpress", "post-sitemap.xml"))
        )
    )
    assert len(feed) == 3 and sitemap == [
        f"{BASE}/2024/04/18/bawaslu-sukamaju-buka-posko-pengaduan/"
    ]


INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>http://sukamaju.test/post-sitemap3.xml</loc><lastmod>2024-03-01</lastmod></sitemap>
<sitemap><loc>http://sukamaju.test/post-sitemap4.xml</loc><lastmod>2024-04-24</lastmod></sitemap>
<sitemap><loc>http://sukamaju.test/post-sitemap2.xml</loc><lastmod>2024-02-01</lastmod></sitemap>
<sitemap><loc>http://sukamaju.test/page-sitemap.xml</loc><lastmod>2024-04-24</lastmod></sitemap>
<sitemap><loc>http://sukamaju.test/author-sitemap.xml</loc></sitemap>
</sitemapindex>"""


def test_only_the_newest_child_sitemap_of_an_old_index_is_read_by_default(make_spider: Any):
    spider = make_spider()
    urls = requested(spider.parse_sitemap(respond(BASE + "/sitemap_index.xml", INDEX)))
    assert urls == [BASE + "/post-sitemap4.xml"]


def test_backfill_reads_every_post_sitemap_newest_first(make_spider: Any) -> None:
    spider = make_spider(backfill=True)
    urls = requested(spider.parse_sitemap(respond(BASE + "/sitemap_index.xml", INDEX)))
    assert urls == [BASE + f"/post-sitemap{n}.xml" for n in (4, 3, 2)]


def test_since_reads_the_child_sitemaps_changed_since(make_spider: Any) -> None:
    spider = make_spider(since=date(2024, 2, 15))
    urls = requested(spider.parse_sitemap(respond(BASE + "/sitemap_index.xml", INDEX)))
    assert urls == [BASE + "/post-sitemap4.xml", BASE + "/post-sitemap3.xml"]


def listing(spider: NewsSpider, page: str, url: str, depth: int = 1) -> list[str]:
    meta = {"chain": BASE + "/indeks/", "depth": depth}
    return requested(spider.parse_listing(respond(url, fixture("listing", "indeks", page), meta)))


def test_a_listing_page_with_new_articles_is_followed_to_the_next(make_spider: Any) -> None:
    urls = listing(make_spider(), "index.html", BASE + "/indeks/")
    assert urls[-1] == BASE + "/indeks/?page=2"
    assert len(urls) == 3


def test_a_listing_page_of_known_articles_stops_the_walk(make_spider: Any) -> None:
    spider = make_spider()
    for slug in (
        "pj-bupati-larang-pejabat-pasang-foto-bersama-calon",
        "kepala-kampung-diminta-tidak-berpihak",
    ):
        store_article(spider, f"{BASE}/read/{slug}/")
    assert listing(spider, "index.html", BASE + "/indeks/") == []


def test_backfill_walks_listing_pages_even_when_known(make_spider: Any) -> None:
    spider = make_spider(backfill=True)
    for slug in (
        "pj-bupati-larang-pejabat-pasang-foto-bersama-calon",
        "kepala-kampung-diminta-tidak-berpihak",
    ):
        store_article(spider, f"{BASE}/read/{slug}/")
    assert listing(spider, "index.html", BASE + "/indeks/") == [BASE + "/indeks/?page=2"]


def test_listing_depth_is_limited_without_backfill(make_spider: Any) -> None:
    urls = listing(make_spider(), "index@page=2.html", BASE + "/indeks/?page=2", depth=3)
    assert BASE + "/indeks/?page=3" not in urls


def test_a_chain_that_reached_older_articles_stops(make_spider: Any) -> None:
    spider = make_spider(since=date(2024, 6, 8))
    spider.mark_old_chain(BASE + "/indeks/")
    assert listing(spider, "index@page=2.html", BASE + "/indeks/?page=2", depth=2) == []


def test_a_multi_page_article_requests_its_next_page_before_storing(make_spider: Any) -> None:
    spider = make_spider()
    url = f"{BASE}/read/panwas-distrik-temukan-spanduk-ajakan-memilih/"
    body = fixture("listing", "read", "panwas-distrik-temukan-spanduk-ajakan-memilih", "index.html")
    results = list(spider.parse_article(respond(url, body, {"article": True})))
    assert requested(results) == [url + "2/"]
    item = results[0].meta["item"]
    page2 = fixture(
        "listing", "read", "panwas-distrik-temukan-spanduk-ajakan-memilih", "2", "index.html"
    )
    finished = list(spider.parse_continuation(respond(url + "2/", page2, results[0].meta)))
    assert finished == [item] and len(item["bodies"]) == 2


def test_non_html_answers_are_recorded_not_stored(make_spider: Any) -> None:
    spider = make_spider()
    response = Response(
        WP1,
        body=b"%PDF-1.4",
        headers={"Content-Type": "application/pdf"},
        request=scrapy.Request(WP1),
    )
    assert list(spider.parse_article(response)) == []
    assert spider.recorder.counts.failures == {"not-html": 1}


def test_links_to_other_domains_are_not_followed(make_spider: Any) -> None:
    spider = make_spider()
    feed = fixture("wordpress", "feed", "index.xml").replace(BASE.encode(), b"http://lain.test")
    assert requested(spider.parse_feed(respond(BASE + "/feed/", feed))) == []


def test_sources_are_requested_conditionally_after_a_good_crawl(make_spider: Any) -> None:
    spider = make_spider()
    spider.db.table("http_cache").insert(
        {"url": BASE + "/feed/", "site": "sukamaju", "etag": '"f1"', "last_modified": None}
    )
    feed = next(r for r in spider.source_requests() if r.url.endswith("/feed/"))
    assert feed.headers[b"If-None-Match"] == b'"f1"'
    assert list(spider.parse_feed(respond(BASE + "/feed/", b"", feed.meta, status=304))) == []


def test_backfill_and_since_crawls_read_sources_in_full(make_spider: Any) -> None:
    spider = make_spider(conditional=False)
    spider.db.table("http_cache").insert({"url": BASE + "/feed/", "site": "s", "etag": '"f1"'})
    feed = next(r for r in spider.source_requests() if r.url.endswith("/feed/"))
    assert b"If-None-Match" not in feed.headers


@pytest.mark.parametrize(
    ("declared", "chosen"),
    [
        (WP1, WP1),
        (None, WP2),
        (BASE + "/", WP2),  # a CMS declaring the home page as every article's canonical
        ("https://agregator.test/2024/04/22/salinan/", WP2),  # off-site
        ("/2024/04/22/pemkab-sukamaju-terbitkan-surat-edaran-netralitas/amp/", WP2),
    ],
)
def test_rel_canonical_is_trusted_only_when_it_names_an_article_of_the_site(
    make_spider: Any, declared: str | None, chosen: str
) -> None:
    from crawler.pipelines import choose_canonical

    assert choose_canonical(WP2, declared, make_spider()) == chosen


def recorder_for(db_path: Path) -> RunRecorder:
    recorder = RunRecorder(store.open_db(db_path), "sukamaju")
    recorder.start()
    return recorder


def fetched_one_page(recorder: RunRecorder) -> None:
    recorder.count(runs.PAGES_FETCHED)
    recorder.count(runs.SOURCES_OK)


def test_a_run_with_pages_and_no_failures_is_ok(db_path: Path) -> None:
    recorder = recorder_for(db_path)
    fetched_one_page(recorder)
    assert recorder.finish() == "ok"


def test_a_run_with_some_failures_is_partial_and_names_causes(db_path: Path) -> None:
    recorder = recorder_for(db_path)
    fetched_one_page(recorder)
    recorder.error(WP1, "http-500", "HTTP 500")
    assert recorder.finish() == "partial"
    row = recorder.db.execute("select failure_causes from crawl_runs").fetchone()
    assert row[0] == '{"http-500": 1}'


def test_robots_and_offsite_skips_alone_do_not_make_a_run_partial(db_path: Path) -> None:
    recorder = recorder_for(db_path)
    fetched_one_page(recorder)
    recorder.error(WP1, "robots-forbidden")
    assert recorder.finish() == "ok"


def test_a_run_where_every_source_failed_is_failed(db_path: Path) -> None:
    recorder = recorder_for(db_path)
    recorder.count(runs.SOURCES_FAILED, 2)
    recorder.error(BASE + "/feed/", "dns")
    assert recorder.finish() == "failed"


def test_a_crawl_stopped_by_a_signal_is_interrupted(db_path: Path) -> None:
    recorder = recorder_for(db_path)
    recorder.count(runs.PAGES_FETCHED)
    assert recorder.finish("shutdown") == "interrupted"


def test_a_run_left_open_by_a_dead_process_is_marked_interrupted(db_path: Path) -> None:
    db = store.open_db(db_path)
    stale = store.insert_returning_id(
        db, "crawl_runs", {"site": "sukamaju", "status": "running", "pid": 2**22 + 12345}
    )
    recorder = RunRecorder(db, "sukamaju")
    recorder.start(resumed=True)
    assert db.execute("select status from crawl_runs where id = ?", [stale]).fetchone()[0] == (
        "interrupted"
    )
    assert (
        str(stale)
        in db.execute("select error from crawl_runs where id = ?", [recorder.run_id]).fetchone()[0]
    )


# --- nothing endless -------------------------------------------------------------------


def index_of(*locs: str) -> bytes:
    entries = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{entries}</sitemapindex>"
    ).encode()


def test_a_sitemap_index_that_lists_itself_is_not_fetched_again(make_spider: Any) -> None:
    spider = make_spider()
    index = BASE + "/sitemap_index.xml"
    list(spider.source_requests())  # the run starts by requesting the configured index
    assert requested(spider.parse_sitemap(respond(index, index_of(index)))) == []


def test_a_cycle_of_sitemap_indexes_ends(make_spider: Any) -> None:
    spider = make_spider(backfill=True)
    one, two = BASE + "/a-sitemap.xml", BASE + "/b-sitemap.xml"
    assert requested(spider.parse_sitemap(respond(one, index_of(two)))) == [two]
    assert requested(spider.parse_sitemap(respond(two, index_of(one)))) == [one]
    assert requested(spider.parse_sitemap(respond(one, index_of(two)))) == []


def test_sitemap_indexes_nested_past_the_depth_limit_are_recorded_not_read(make_spider: Any):
    spider = make_spider(backfill=True)
    deep = BASE + "/deep-sitemap.xml?n=3"
    response = respond(deep, index_of(BASE + "/deep-sitemap.xml?n=4"), {"sitemap_depth": 3})
    assert requested(spider.parse_sitemap(response)) == []
    assert spider.recorder.counts.failures == {"sitemap-depth": 1}


def endless_listing_page(number: int) -> bytes:
    """Every ?page=N lists the same two articles and links ?page=N+1."""
    return (
        f'<html><head><link rel="next" href="/indeks/?page={number + 1}"></head><body>'
        '<a href="/read/pj-bupati-larang-pejabat-pasang-foto-bersama-calon/">a</a>'
        '<a href="/read/kepala-kampung-diminta-tidak-berpihak/">b</a></body></html>'
    ).encode()


def test_a_backfill_listing_page_that_repeats_what_was_seen_ends_the_walk(make_spider: Any):
    spider = make_spider(backfill=True)
    meta = {"chain": BASE + "/indeks/", "depth": 1}
    first = requested(
        spider.parse_listing(respond(BASE + "/indeks/", endless_listing_page(1), meta))
    )
    assert first[-1] == BASE + "/indeks/?page=2"
    page2 = respond(BASE + "/indeks/?page=2", endless_listing_page(2), {**meta, "depth": 2})
    assert requested(spider.parse_listing(page2)) == []


def test_a_run_stopped_by_its_request_budget_records_the_cause(make_spider: Any) -> None:
    from crawler.extensions import RunStore

    spider = make_spider()
    spider.recorder.count(runs.PAGES_FETCHED)
    spider.recorder.count(runs.SOURCES_OK)
    RunStore(spider.crawler).spider_closed(spider, "request-budget")
    row = spider.db.execute("select status, failure_causes from crawl_runs").fetchone()
    assert row == ("partial", '{"request-budget": 1}')


def test_every_site_run_has_a_request_budget(tmp_path: Path) -> None:
    from crawler.run import request_budget, spider_class_for

    site = SiteConfig(id="sukamaju", name="Sukamaju Pos", url=BASE + "/")
    spider_class = spider_class_for(site, tmp_path, request_budget(Settings(), 500))
    assert spider_class.custom_settings["PANTAU_REQUEST_BUDGET"] == 5000


# --- nobody let in ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://sukamaju.test:8080/2024/04/24/lain/",  # the same host on another port
        "https://lain.test/2024/04/24/lain/",  # another host
        "ftp://sukamaju.test/2024/04/24/lain/",
    ],
)
def test_no_request_leaves_the_site_redirects_included(make_spider: Any, url: str) -> None:
    from crawler.failures import NotHttp, Offsite
    from crawler.middlewares import SchemeGuardMiddleware

    spider = make_spider()
    spider.crawler.spider = spider
    guard = SchemeGuardMiddleware(spider.crawler)
    redirected = scrapy.Request(url, meta={"redirect_urls": [WP1], "article": True})
    with pytest.raises((Offsite, NotHttp)):
        guard.process_request(redirected)
    guard.process_request(scrapy.Request(WP1, meta={"article": True}))  # the site's own


def test_an_article_with_invalid_utf8_is_handed_on_as_utf8_without_mojibake(
    make_spider: Any,
) -> None:
    spider = make_spider()
    body = "<html><body><p>Camat – “netral”</p></body></html>".encode() + b"\xc3("
    response = HtmlResponse(
        url=WP1,
        body=body,
        headers={"Content-Type": "text/html; charset=utf-8"},
        request=scrapy.Request(WP1),
    )
    (item,) = list(spider.parse_article(response))
    assert "Camat – “netral”" in item["bodies"][0].decode("utf-8")


# --- Retry-After -----------------------------------------------------------------------


def unavailable(retry_after: str, status: int = 503) -> Response:
    return Response(
        WP1, status=status, headers={"Retry-After": retry_after}, request=scrapy.Request(WP1)
    )


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    from email.utils import format_datetime

    from crawler.middlewares import retry_after

    assert retry_after(unavailable("7")) == 7.0
    assert retry_after(unavailable("7", status=429)) == 7.0
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    assert 50 < (retry_after(unavailable(soon)) or 0) <= 60
    assert retry_after(unavailable("7", status=500)) is None


def test_a_503_retry_waits_as_long_as_retry_after_asks(make_spider: Any) -> None:
    from crawler.middlewares import BackoffRetryMiddleware

    spider = make_spider()
    spider.crawler.spider = spider
    retry = BackoffRetryMiddleware(spider.crawler)
    started = time.monotonic()
    result = asyncio.run(retry.process_response(scrapy.Request(WP1), unavailable("1")))
    assert isinstance(result, scrapy.Request)
    assert time.monotonic() - started >= 1.0


def test_retry_after_is_bounded_by_the_setting(make_spider: Any) -> None:
    from crawler.middlewares import BackoffRetryMiddleware

    spider = make_spider()
    retry = BackoffRetryMiddleware(spider.crawler)
    assert retry.delay(scrapy.Request(WP1), asked=86_400) == Settings().crawl.max_retry_after


def test_the_next_crawl_of_a_site_that_asked_for_a_pause_waits(make_spider: Any) -> None:
    from crawler.extensions import RunStore

    first = make_spider()
    RunStore(first.crawler).retry_after_noted(first, seconds=120)
    later = make_spider()
    assert 100 < later.asked_wait() <= 120
    assert later.asked_wait(now=datetime.now(UTC) + timedelta(hours=1)) == 0


# --- honest records --------------------------------------------------------------------


def test_a_running_crawl_records_its_progress_as_it_goes(make_spider: Any) -> None:
    from crawler.extensions import RunStore

    spider = make_spider()
    spider.recorder.count(runs.PAGES_FETCHED, 152)
    RunStore(spider.crawler).response_received(spider)
    row = spider.db.execute("select status, pages_fetched from crawl_runs").fetchone()
    assert row == ("running", 152)


def test_a_decompression_bomb_is_recorded_as_oversize(make_spider: Any) -> None:
    from twisted.python.failure import Failure

    from crawler.failures import classify
    from crawler.middlewares import DecompressionMiddleware

    spider = make_spider()
    middleware = DecompressionMiddleware.from_crawler(spider.crawler)
    middleware.open_spider(spider)
    bomb = gzip.compress(b"\0" * (Settings().crawl.max_body_bytes + 1))
    response = Response(
        WP1, body=bomb, headers={"Content-Encoding": "gzip"}, request=scrapy.Request(WP1)
    )
    with pytest.raises(Exception) as refused:
        middleware.process_response(response.request, response)
    assert classify(Failure(refused.value))[0] == "oversize"

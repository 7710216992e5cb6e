"""The bundled demo: its articles, the three outlets built from them, and serving them."""

from __future__ import annotations

import re
import smtplib
import socket
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections import Counter
from email.message import EmailMessage
from urllib.parse import urljoin, urlsplit

import feedparser
import lxml.html
import pytest
from lokal import wilayah

from pantau.demo.data import DemoError, load_demo
from pantau.demo.servers import serving, smtp_sink
from pantau.demo.site import build_sites, tanggal

SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
INDONESIAN_DATE = re.compile(
    r"(Senin|Selasa|Rabu|Kamis|Jumat|Sabtu|Minggu), \d{1,2} "
    r"(Januari|Februari|Maret|April|Mei|Juni|Juli|Agustus|September|Oktober|November|Desember)"
    r" \d{4}"
)


def free_port_base() -> int:
    """A base whose +1..+3 ports are free now, so tests never collide with a running demo."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1] - 1
        if base + 3 < 65536 and all(port_free(base + n) for n in (1, 2, 3)):
            return base
    raise RuntimeError("no free port range")


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture(scope="module")
def demo():
    return load_demo(port_base=18760)


@pytest.fixture(scope="module")
def sites(demo):
    return build_sites(demo)


def outlet(demo, outlet_id):
    return next(o for o in demo.outlets if o.id == outlet_id)


def expected_urls(demo, outlet_id):
    site = outlet(demo, outlet_id)
    return {site.article_url(a) for a in demo.articles_of(outlet_id)}


def page(sites, url):
    return sites_for(sites, url)[urlsplit(url).path]


def sites_for(sites, url):
    port = urlsplit(url).port
    return sites[{18761: "kabar-bengkulu", 18762: "warta-sumsel", 18763: "suara-borneo"}[port]]


# --- the content --------------------------------------------------------------------


def test_demo_has_the_promised_mix_of_articles(demo):
    kinds = Counter(a.meta.expect for a in demo.articles)
    copies = [a for a in demo.articles if a.meta.copy_of]
    originals = [a for a in demo.articles if a.meta.expect == "breach" and not a.meta.copy_of]
    assert len(demo.articles) >= 32
    assert len(originals) >= 8
    assert kinds["advisory"] >= 6
    assert kinds["other"] >= 8
    assert len(copies) >= 4
    assert len({a.meta.region.split(".")[0] for a in originals if a.meta.region}) >= 3


def test_copies_appear_on_a_different_outlet_than_their_original(demo):
    by_slug = {a.meta.slug: a for a in demo.articles}
    for copy in (a for a in demo.articles if a.meta.copy_of):
        original = by_slug[copy.meta.copy_of]
        assert copy.outlet != original.outlet
        assert copy.meta.published > original.meta.published
        assert copy.meta.accused == original.meta.accused


def test_every_breach_names_its_accused_and_quoted_people_in_the_text(demo):
    for article in demo.articles:
        text = " ".join(article.paragraphs)
        if article.meta.expect == "breach":
            assert article.meta.accused and article.meta.quoted, article.source.name
        else:
            assert not article.meta.accused, article.source.name
        for name in [*article.meta.accused, *article.meta.quoted]:
            assert name in text, f"{article.source.name}: {name}"
        assert not set(article.meta.accused) & set(article.meta.quoted)


def test_region_codes_are_kemendagri_codes(demo):
    for article in demo.articles:
        if article.meta.region:
            assert wilayah.get_wilayah(article.meta.region), article.source.name
    for office in demo.offices:
        for code in office.regions:
            assert wilayah.get_wilayah(code), office.id


def test_every_regional_office_has_a_breach_in_its_area(demo):
    for office in demo.offices:
        if office.regions:
            assert any(
                a.meta.expect == "breach"
                and any(a.meta.region.startswith(code) for code in office.regions)
                for a in demo.articles
            ), office.id


# --- the built outlets --------------------------------------------------------------


def test_rss_feed_lists_every_kabar_bengkulu_article(demo, sites):
    feed = feedparser.parse(sites["kabar-bengkulu"]["/feed/"].body)
    assert not feed.bozo
    assert {entry.link for entry in feed.entries} == expected_urls(demo, "kabar-bengkulu")
    assert all(entry.published_parsed for entry in feed.entries)


def test_sitemap_index_leads_to_every_warta_sumsel_article(demo, sites):
    site = sites["warta-sumsel"]
    index = ET.fromstring(site["/sitemap.xml"].body)
    children = [loc.text for loc in index.findall("sm:sitemap/sm:loc", SITEMAP_NS)]
    found = set()
    for child in children:
        urlset = ET.fromstring(site[urlsplit(child).path].body)
        found |= {loc.text for loc in urlset.findall("sm:url/sm:loc", SITEMAP_NS)}
    assert expected_urls(demo, "warta-sumsel") <= found


def test_listing_pagination_reaches_every_suara_borneo_article(demo, sites):
    site = sites["suara-borneo"]
    path: str | None = "/indeks/"
    found: set[str] = set()
    visited = 0
    while path:
        doc = lxml.html.fromstring(site[path].body)
        found |= set(doc.xpath("//div[@class='card']//h3/a/@href"))
        following = doc.xpath("//a[@rel='next']/@href")
        path = urlsplit(urljoin("http://x" + path, following[0])).path if following else None
        visited += 1
    assert visited > 1
    assert found == expected_urls(demo, "suara-borneo")


def test_each_outlet_offers_only_its_own_discovery_path(sites):
    assert "/feed/" in sites["kabar-bengkulu"]
    assert not {"/sitemap.xml", "/indeks/"} & set(sites["kabar-bengkulu"])
    assert "/sitemap.xml" in sites["warta-sumsel"]
    assert not {"/feed/", "/indeks/"} & set(sites["warta-sumsel"])
    assert "/indeks/" in sites["suara-borneo"]
    assert not {"/feed/", "/sitemap.xml"} & set(sites["suara-borneo"])
    assert b"Sitemap:" in sites["warta-sumsel"]["/robots.txt"].body
    for site in sites.values():
        assert site["/robots.txt"].body.startswith(b"User-agent: *")


def test_every_article_page_has_furniture_and_an_indonesian_date(demo, sites):
    for article in demo.articles:
        site = outlet(demo, article.outlet)
        html = page(sites, site.article_url(article)).body.decode("utf-8")
        doc = lxml.html.fromstring(html)
        published = doc.xpath("//meta[@property='article:published_time']/@content")
        assert published and published[0].startswith(f"{article.meta.published:%Y-%m-%d}")
        assert INDONESIAN_DATE.search(doc.text_content()), article.source.name
        assert re.search(r"\d{2}:\d{2} (WIB|WITA)", doc.text_content())
        assert re.search(r"baca juga", html, re.I), article.source.name
        assert re.search(r"WhatsApp", html)
        assert doc.xpath("//footer") or doc.xpath("//div[@class='footer']")
        assert doc.xpath("//link[@rel='canonical']/@href") == [site.article_url(article)]
        assert doc.xpath("//h1")[0].text_content().strip() == article.meta.title


def test_every_link_inside_an_outlet_leads_to_a_page_it_serves(demo, sites):
    for site_id, pages in sites.items():
        base = outlet(demo, site_id).base
        for path, resource in pages.items():
            if not resource.content_type.startswith("text/html"):
                continue
            doc = lxml.html.fromstring(resource.body)
            for href in doc.xpath("//a/@href"):
                target = urlsplit(urljoin(base + path, href))
                if target.fragment and not target.path.strip("/") or target.path == path:
                    continue
                assert target.path in pages, f"{site_id}{path} links to {href}"


def test_tanggal_writes_the_day_and_month_in_indonesian():
    from datetime import datetime

    assert tanggal(datetime(2024, 4, 24, 13, 0)) == "Rabu, 24 April 2024"


# --- serving ------------------------------------------------------------------------


def test_outlets_are_served_on_loopback(sites):
    base = free_port_base()
    demo = load_demo(port_base=base)
    built = build_sites(demo)
    with serving(demo.outlets, built):
        for site in demo.outlets:
            with urllib.request.urlopen(site.base + "/robots.txt", timeout=5) as response:
                assert response.status == 200
            article = demo.articles_of(site.id)[0]
            with urllib.request.urlopen(site.article_url(article), timeout=5) as response:
                assert "text/html" in response.headers["Content-Type"]
                assert article.meta.title.encode() in response.read()
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(demo.outlets[0].base + "/tidak-ada/", timeout=5)
        assert missing.value.code == 404


def test_a_busy_port_is_reported_with_the_way_out():
    base = free_port_base()
    demo = load_demo(port_base=base)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", base + 2))
        squatter.listen()
        with (
            pytest.raises(DemoError, match="--port-base"),
            serving(demo.outlets, build_sites(demo)),
        ):
            pass
    assert port_free(base + 1)


def test_smtp_sink_keeps_what_it_receives():
    message = EmailMessage()
    message["From"] = "pantau@bawaslu.example"
    message["To"] = "ketua@seluma.bawaslu.example"
    message["Subject"] = "Uji"
    message["Message-ID"] = "<uji@bawaslu.example>"
    message.set_content("Isi pesan")
    with smtp_sink() as (port, sink), smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
        client.send_message(message)
    assert len(sink.received) == 1
    assert sink.received[0].rcpt_tos == ["ketua@seluma.bawaslu.example"]
    assert sink.received[0].message_id == "<uji@bawaslu.example>"

"""URL canonicalisation: every way a story is linked folds to one stored URL."""

from __future__ import annotations

import pytest

from crawler.urls import SiteScope, canonicalize, fold_key, in_domains, url_variants


@pytest.mark.parametrize(
    ("linked", "canonical"),
    [
        (
            "https://Berita.Example/a/b/?utm_source=fb&utm_medium=social",
            "https://berita.example/a/b/",
        ),
        ("https://berita.example/a/b/?fbclid=IwAR0abc", "https://berita.example/a/b/"),
        ("https://berita.example/a/b/?gclid=1&id=7", "https://berita.example/a/b/?id=7"),
        ("https://berita.example/a/b/amp/", "https://berita.example/a/b/"),
        ("https://berita.example/a/b/amp", "https://berita.example/a/b/"),
        ("https://berita.example/amp/a/b/", "https://berita.example/a/b/"),
        ("https://berita.example/a/b/?amp=1", "https://berita.example/a/b/"),
        ("https://berita.example:443/a/b#komentar", "https://berita.example/a/b"),
        ("http://berita.example:80//a//b", "http://berita.example/a/b"),
        ("https://berita.example/cari?q=asn&page=2", "https://berita.example/cari?page=2&q=asn"),
        ("https://berita.example", "https://berita.example/"),
    ],
)
def test_canonical_form(linked: str, canonical: str) -> None:
    assert canonicalize(linked) == canonical


def test_relative_links_resolve_against_the_page() -> None:
    assert (
        canonicalize("../c/", base="https://berita.example/a/b/") == "https://berita.example/a/c/"
    )


def test_a_section_named_amp_is_not_stripped_to_nothing() -> None:
    assert canonicalize("https://berita.example/amp") == "https://berita.example/amp"


def test_variants_cover_scheme_and_trailing_slash() -> None:
    assert set(url_variants("https://berita.example/a/b/")) == {
        "https://berita.example/a/b/",
        "https://berita.example/a/b",
        "http://berita.example/a/b/",
        "http://berita.example/a/b",
    }


def test_fold_key_is_equal_for_every_variant() -> None:
    keys = {
        fold_key(url)
        for url in (
            "https://www.berita.example/a/b/",
            "http://berita.example/a/b",
            "https://berita.example/a/b/amp/?utm_campaign=x",
        )
    }
    assert len(keys) == 1


def test_subdomains_belong_to_the_site() -> None:
    domains = ["berita.example"]
    assert in_domains("https://daerah.berita.example/x", domains)
    assert not in_domains("https://beritaexample.com/x", domains)
    assert not in_domains("https://berita.example.evil.test/x", domains)


def test_another_port_of_the_same_host_is_another_site() -> None:
    scope = SiteScope.of(["http://127.0.0.1:8001/"])
    assert scope.allows("http://127.0.0.1:8001/berita/x/")
    assert not scope.allows("http://127.0.0.1:8002/berita/x/")
    assert not scope.allows("https://127.0.0.1:8001/berita/x/")


def test_a_site_scope_folds_www_and_the_https_upgrade_only() -> None:
    scope = SiteScope.of(["http://berita.example/"])
    assert scope.allows("https://www.berita.example/x")
    assert not scope.allows("https://berita.example:8443/x")
    assert not scope.allows("https://daerah.berita.example/x")
    assert not scope.allows("ftp://berita.example/x")


def test_declared_domains_admit_their_subdomains() -> None:
    scope = SiteScope.of(["https://berita.example/"], ["cdn-berita.example"])
    assert scope.allows("https://img.cdn-berita.example/x")
    assert not scope.allows("http://img.cdn-berita.example:8080/x")

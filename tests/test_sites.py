"""`pantau sites add|check|list` against fixture sites on 127.0.0.1."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES
from loopback import Fault, serve_site, write_config
from typer.testing import CliRunner

import pantau.commands.crawl  # noqa: F401 - registers the crawl and sites commands
from crawler.sites import add_site_entry
from pantau.commands import app
from pantau.core.settings import ConfigError, SiteConfig, load_sites

SITES = FIXTURES / "sites"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = write_config(tmp_path / "config", [])
    (directory / "sites.yaml").write_text(
        "# Operator's notes stay where they are.\nsites: []  # none yet\n", encoding="utf-8"
    )
    monkeypatch.setenv("PANTAU_CONFIG", str(directory))
    monkeypatch.delenv("PANTAU_DB", raising=False)
    monkeypatch.setenv("COLUMNS", "250")  # room for whole URLs in the tables
    return directory


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_sites_add_probes_and_writes_the_proposed_entry(config: Path) -> None:
    with serve_site(SITES / "wordpress") as base:
        result = invoke("sites", "add", base + "/", "--yes", "--region", "17.08")
    assert result.exit_code == 0, result.output
    (site,) = load_sites(config)
    assert site.id == "127-0-0-1" and site.name == "Sukamaju Pos"
    assert site.feeds == [base + "/feed/"]
    assert site.sitemaps == [base + "/sitemap_index.xml"]
    assert site.region == "17.08"
    assert site.article_pattern and "20" in site.article_pattern
    text = (config / "sites.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Operator's notes stay where they are.\n")


def test_sites_add_keeps_comments_and_a_final_newline(config: Path) -> None:
    with serve_site(SITES / "wordpress") as base:
        invoke("sites", "add", base + "/", "--yes")
    text = (config / "sites.yaml").read_text(encoding="utf-8")
    assert "# none yet" in text and text.endswith("\n")


def test_sites_add_without_confirmation_writes_nothing(config: Path) -> None:
    with serve_site(SITES / "newsonly") as base:
        result = CliRunner().invoke(app, ["sites", "add", base + "/"], input="n\n")
    assert result.exit_code == 1
    assert "news-sitemap.xml" in result.output  # the proposal was shown
    assert load_sites(config) == []


def test_sites_add_twice_keeps_ids_unique(config: Path) -> None:
    with serve_site(SITES / "wordpress") as base:
        invoke("sites", "add", base + "/", "--yes")
        invoke("sites", "add", base + "/", "--yes")
    assert [s.id for s in load_sites(config)] == ["127-0-0-1", "127-0-0-1-2"]


def test_an_entry_with_a_taken_id_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sites.yaml"
    site = SiteConfig(id="sukamaju", name="Sukamaju Pos", url="https://sukamaju.test/")
    add_site_entry(path, site)
    with pytest.raises(ConfigError, match="sukamaju"):
        add_site_entry(path, site)


def test_entries_with_regex_patterns_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "sites.yaml"
    site = SiteConfig(
        id="a", name="A", url="https://a.test/", article_pattern=r"/20\d{2}/\d{2}/[^/?#]+\.html$"
    )
    add_site_entry(path, site)
    assert yaml.safe_load(path.read_text())["sites"][0]["article_pattern"] == site.article_pattern


def test_sites_check_reports_each_source(config: Path) -> None:
    with serve_site(SITES / "wordpress") as base:
        invoke("sites", "add", base + "/", "--yes")
        result = invoke("sites", "check", "--no-discover")
    assert result.exit_code == 0, result.output
    assert "feed" in result.output and "sitemap" in result.output
    assert "index of 3" in result.output
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d WIB", result.output), result.output  # not UTC


def test_sites_check_fails_when_a_source_is_broken(config: Path) -> None:
    with serve_site(SITES / "wordpress") as base:
        invoke("sites", "add", base + "/", "--yes")
        base.faults["/feed/"] = Fault(status=500)
        result = invoke("sites", "check", "--no-discover")
    assert result.exit_code == 1
    assert "HTTP 500" in result.output


def test_sites_list_shows_configured_sites(config: Path, tmp_path: Path) -> None:
    with serve_site(SITES / "newsonly") as base:
        invoke("sites", "add", base + "/", "--yes")
    result = invoke("sites", "list", "--db", str(tmp_path / "pantau.db"))
    assert result.exit_code == 0
    assert "127-0-0-1" in result.output and "never" in result.output

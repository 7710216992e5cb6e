"""The digest names an outlet as sites.yaml does when its pages do not name it."""

from __future__ import annotations

import pytest
from smtp_server import SmtpServer
from test_cases_cli import add_thread_story
from test_digest_cases import digest


@pytest.fixture
def server():
    with SmtpServer() as running:
        yield running


SITES = """
sites:
  - id: camat-report
    name: Warta Seluma
    url: https://camat-report.example/
    feeds: [https://camat-report.example/feed/]
"""


def test_an_outlet_without_a_site_name_is_shown_by_its_sites_yaml_name(
    db,
    server,
    tmp_path,
    monkeypatch,
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "sites.yaml").write_text(SITES, encoding="utf-8")
    monkeypatch.setenv("PANTAU_CONFIG", str(config))
    add_thread_story(db, "camat-report")
    text = digest(db, server, tmp_path)
    assert "Pertama diberitakan: Warta Seluma," in text
    assert "camat-report," not in text


def test_a_broken_sites_yaml_does_not_stop_the_digest(db, server, tmp_path, monkeypatch) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "sites.yaml").write_text("sites: [{id: 'Not Valid'}]\n", encoding="utf-8")
    monkeypatch.setenv("PANTAU_CONFIG", str(config))
    add_thread_story(db, "camat-report")
    assert "Pertama diberitakan: camat-report," in digest(db, server, tmp_path)

"""`pantau coverage`: outlets and recent articles per office area, and the areas with none."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta

import pytest
from conftest import FIXTURES
from test_alerts_support import add_story
from typer.testing import CliRunner

import pantau.commands.coverage  # noqa: F401  (registers the command)
from pantau.commands import app

runner = CliRunner()


@pytest.fixture
def config(tmp_path, monkeypatch):
    directory = tmp_path / "config"
    directory.mkdir()
    shutil.copy(FIXTURES / "coverage" / "sites.yaml", directory / "sites.yaml")
    monkeypatch.setenv("PANTAU_CONFIG", str(directory))
    return directory


def add_article_about(db, code: str, days_ago: int, site: str) -> None:
    published = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat(timespec="seconds")
    finding = {
        "verdict": "advisory",
        "score": 0.5,
        "officials": [],
        "region": {"code": code, "name": code, "province": "Bengkulu"},
        "violations": [],
        "evidence": [],
    }
    article = {
        "url": f"https://{site}.example/{code}/{days_ago}",
        "site": site,
        "title": f"Berita {code} {days_ago}",
        "published": published,
    }
    add_story(db, finding, [article])


def coverage_json(db_path) -> dict:
    result = runner.invoke(app, ["coverage", "--db", str(db_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def area(report: dict, code: str) -> dict:
    return next(a for a in report["areas"] if a["code"] == code)


def test_every_province_and_kabupaten_kota_is_listed(config, db, db_path) -> None:
    report = coverage_json(db_path)
    levels = [a["level"] for a in report["areas"]]
    assert levels.count("provinsi") == 38
    assert levels.count("kabkota") == 514


def test_an_area_counts_its_own_and_its_provinces_enabled_outlets(config, db, db_path) -> None:
    report = coverage_json(db_path)
    assert area(report, "17.08")["outlets"] == ["kepahiang-pos"]
    assert area(report, "17.08")["province_outlets"] == ["bengkulu-raya"]
    assert area(report, "17.05")["outlets"] == []  # its outlet is disabled
    assert area(report, "17")["outlets"] == ["bengkulu-raya", "kepahiang-pos"]
    assert report["national_outlets"] == ["warta-nasional"]


def test_areas_with_no_outlet_of_their_own_or_their_province_are_listed(
    config, db, db_path
) -> None:
    uncovered = coverage_json(db_path)["uncovered"]
    assert "11.01" in uncovered
    assert "17.05" not in uncovered  # the provincial outlet covers it
    assert len(uncovered) == 38 + 514 - 1 - 10  # Bengkulu and its 10 kabupaten/kota


def test_only_articles_of_the_last_days_count(config, db, db_path) -> None:
    add_article_about(db, "17.08", days_ago=1, site="kepahiang-pos")
    add_article_about(db, "17.08", days_ago=2, site="bengkulu-raya")
    add_article_about(db, "17.08", days_ago=30, site="kepahiang-pos")
    report = coverage_json(db_path)
    assert area(report, "17.08")["articles"] == 2
    assert area(report, "17.08")["articles_from_outlets"] == 1
    assert area(report, "17")["articles"] == 2


def test_the_table_sums_up_each_province(config, db, db_path) -> None:
    result = runner.invoke(app, ["coverage", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    bengkulu = next(line for line in result.output.splitlines() if "Bengkulu" in line)
    assert "1/10" in bengkulu
    assert "Areas with no outlet" in result.output

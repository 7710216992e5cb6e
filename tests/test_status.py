"""`pantau status`: what each site and office looks like, from the rows the stages write."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pantau.commands import app
from pantau.commands import service as _service  # noqa: F401  (registers the commands)
from pantau.service.config import load_service_config
from pantau.service.state import ScheduleState
from pantau.service.status import ServiceStatus, service_status

NOW = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # 12:00 in Jakarta


def at(hours_ago: float) -> str:
    return (NOW - timedelta(hours=hours_ago)).isoformat(timespec="seconds")


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "config"
    directory.mkdir()
    (directory / "sites.yaml").write_text(
        "sites:\n"
        "  - {id: lampost, name: Lampung Post, url: 'http://127.0.0.1:1/'}\n"
        "  - {id: sumut, name: Sumut Pos, url: 'http://127.0.0.1:2/', enabled: false}\n",
        encoding="utf-8",
    )
    (directory / "offices.yaml").write_text(
        "offices:\n  - {id: bawaslu-lampung, name: Bawaslu Lampung, level: provinsi,"
        " regions: ['18'], to: [lampung@bawaslu.example]}\n",
        encoding="utf-8",
    )
    (directory / "settings.yaml").write_text("digest:\n  time: '07:00'\n", encoding="utf-8")
    monkeypatch.setenv("PANTAU_CONFIG", str(directory))
    return directory


def add_run(db, site: str, hours_ago: float, status: str, **extra: object) -> None:
    db.table("crawl_runs").insert(
        {
            "site": site,
            "started_at": at(hours_ago),
            "finished_at": at(hours_ago - 0.1),
            "status": status,
            "pid": 1,
            **extra,
        }
    )


def add_article(db, site: str, hours_ago: float, n: int) -> None:
    db.table("articles").insert(
        {"url": f"http://127.0.0.1/{site}/{n}", "site": site, "fetched_at": at(hours_ago)}
    )


def status_of(db, db_path: Path, config_dir: Path) -> ServiceStatus:
    return service_status(db, db_path, load_service_config(config_dir), NOW)


def test_failures_in_a_row_count_back_to_the_last_success(db, db_path, config_dir) -> None:
    add_run(db, "lampost", 5, "ok")
    add_run(db, "lampost", 3, "failed", error="nothing fetched (http-503 x3)")
    add_run(db, "lampost", 2, "interrupted")
    add_run(db, "lampost", 1, "failed", failure_causes=json.dumps({"timeout": 4, "dns": 1}))
    site = status_of(db, db_path, config_dir).sites[0]
    assert (site.site, site.result, site.consecutive_failures) == ("lampost", "failed", 2)
    assert site.last_error == "timeout x4, dns x1"


def test_articles_today_counts_from_midnight_in_jakarta(db, db_path, config_dir) -> None:
    add_article(db, "lampost", 1, 1)  # 11:00 WIB today
    add_article(db, "lampost", 11.5, 2)  # 00:30 WIB today
    add_article(db, "lampost", 12.5, 3)  # 23:30 WIB yesterday
    add_article(db, "sumut", 1, 4)
    site = status_of(db, db_path, config_dir).sites[0]
    assert site.articles_today == 2


def test_sites_never_crawled_and_disabled_sites_are_listed(db, db_path, config_dir) -> None:
    sites = status_of(db, db_path, config_dir).sites
    assert [(s.site, s.enabled, s.last_crawl, s.consecutive_failures) for s in sites] == [
        ("lampost", True, None, 0),
        ("sumut", False, None, 0),
    ]


def test_ad_hoc_crawls_of_unlisted_sites_show_up_too(db, db_path, config_dir) -> None:
    add_run(db, "127.0.0.1", 1, "ok")
    assert [s.site for s in status_of(db, db_path, config_dir).sites][-1] == "127.0.0.1"


def test_failed_and_unknown_deliveries_are_counted_per_office(db, db_path, config_dir) -> None:
    for cluster_id, status in enumerate(["sent", "failed", "failed", "unknown"], start=1):
        db.table("clusters").insert({"id": cluster_id, "title": "t"})
        db.table("deliveries").insert(
            {
                "office": "bawaslu-lampung",
                "cluster_id": cluster_id,
                "status": status,
                "sent_at": at(2) if status == "sent" else None,
            }
        )
    office = status_of(db, db_path, config_dir).offices[0]
    assert (office.office, office.failed, office.unknown, office.last_sent) == (
        "bawaslu-lampung",
        2,
        1,
        at(2),
    )


def test_status_without_a_running_scheduler_says_so(db, db_path, config_dir) -> None:
    report = status_of(db, db_path, config_dir)
    assert report.scheduler is None
    assert report.to_dict()["scheduler"] == {"running": False}


def test_status_json_lists_sites_offices_and_next_runs(db, db_path, config_dir) -> None:
    add_run(db, "lampost", 1, "partial", failure_causes=json.dumps({"http-404": 2}))
    state = ScheduleState(db_path)
    state.ensure("crawl:lampost", "crawl", "lampost")
    state.record_next_runs({"crawl:lampost": NOW + timedelta(minutes=30)})
    result = CliRunner().invoke(app, ["status", "--db", str(db_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["sites"][0]["result"] == "partial"
    assert report["sites"][0]["last_error"] == "http-404 x2"
    assert report["sites"][0]["next_run"] == (NOW + timedelta(minutes=30)).isoformat()
    assert report["offices"][0]["office"] == "bawaslu-lampung"
    assert report["digest"]["time"] == "07:00:00"


def test_status_table_names_every_site(db, db_path, config_dir) -> None:
    add_run(db, "lampost", 1, "ok")
    result = CliRunner().invoke(app, ["status", "--db", str(db_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "lampost" in result.stdout and "sumut (disabled)" in result.stdout
    assert "scheduler: not running" in result.stdout


def test_crawl_that_died_before_opening_its_run_shows_the_schedulers_record(
    db, db_path, config_dir
) -> None:
    add_run(db, "lampost", 3, "ok")
    state = ScheduleState(db_path)
    state.ensure("crawl:lampost", "crawl", "lampost")
    state.started("crawl:lampost")
    state.finished("crawl:lampost", "failed (exit 1)")
    site = status_of(db, db_path, config_dir).sites[0]
    assert site.result == "failed (exit 1)"

"""`pantau crawl SITE` hands its crawl to a running `pantau schedule` (its warm crawl host
loads no models again) and prints that run's summary; with no service it crawls itself.

Real parts: a news site on 127.0.0.1, a real `pantau schedule` subprocess, a real SQLite
file. The site's scheduled crawl is an hour away, so only the handed-over crawl runs.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from loopback import news_site, serve_site, write_config

from pantau.core import store
from pantau.service.state import ScheduleState

pytestmark = pytest.mark.slow

ARTICLES = 3


@dataclass
class Setup:
    config: Path
    db: Path
    tmp: Path

    def env(self) -> dict[str, str]:
        return {**os.environ, "PANTAU_CONFIG": str(self.config)}

    def crawl(self) -> tuple[subprocess.CompletedProcess[str], int]:
        """`pantau crawl warta`: its result and its pid."""
        command = [sys.executable, "-m", "pantau.cli", "crawl", "warta", "--db", str(self.db)]
        process = subprocess.Popen(
            command, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        out, err = process.communicate(timeout=60)
        return subprocess.CompletedProcess(command, process.returncode, out, err), process.pid

    def rows(self, sql: str) -> list[dict[str, Any]]:
        db = store.open_db(self.db, migrate=False)
        try:
            return list(db.query(sql))
        finally:
            db.close()


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    with serve_site(news_site("laporan", ARTICLES)) as site:
        entry = {"id": "warta", "name": "Warta", "url": f"{site}/", "feeds": [f"{site}/feed/"]}
        sites = [{**entry, "interval_seconds": 3600}]
        config = write_config(tmp_path / "config", sites, crawl={"handoff_timeout_seconds": 5})
        (config / "offices.yaml").write_text("offices: []\n", encoding="utf-8")
        db = tmp_path / "pantau.db"
        store.open_db(db).close()
        # crawled a moment ago as far as the service knows: its next scheduled crawl is
        # an hour away, so only a handed-over crawl can store the articles
        ScheduleState(db).ensure("crawl:warta", "crawl", "warta")
        ScheduleState(db).started("crawl:warta")
        yield Setup(config, db, tmp_path)


@pytest.fixture
def service(setup: Setup) -> Iterator[Path]:
    """A running `pantau schedule` on the database; its log's path."""
    log = setup.tmp / "service.log"
    with open(log, "w", encoding="utf-8") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "pantau.cli", "schedule", "--db", str(setup.db)],
            env=setup.env(),
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while "scheduling 1 site(s)" not in log.read_text(encoding="utf-8"):
                assert process.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            yield log
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_crawl_with_the_service_running_is_run_by_its_crawl_host(
    setup: Setup, service: Path
) -> None:
    result, command_pid = setup.crawl()

    assert result.returncode == 0, result.stderr
    assert "handed the crawl of warta to the running service" in result.stdout + result.stderr
    assert re.search(r"warta\W+\d+\W+ok\W+\d+\W+3\W", result.stdout), result.stdout
    hosts = [int(pid) for pid in re.findall(r"crawl host (\d+) started", service.read_text())]
    runs = setup.rows("select pid, status from crawl_runs")
    assert [run["pid"] for run in runs] == hosts != [command_pid]
    assert len(setup.rows("select id from articles")) == ARTICLES
    assert [r["status"] for r in setup.rows("select status from crawl_requests")] == ["done"]


def test_crawl_without_a_service_crawls_by_itself(setup: Setup) -> None:
    result, command_pid = setup.crawl()

    assert result.returncode == 0, result.stderr
    assert "service" not in result.stdout + result.stderr
    assert re.search(r"warta\W+\d+\W+ok\W+\d+\W+3\W", result.stdout), result.stdout
    assert [run["pid"] for run in setup.rows("select pid from crawl_runs")] == [command_pid]
    assert len(setup.rows("select id from articles")) == ARTICLES


def test_a_request_the_service_does_not_take_in_time_is_withdrawn_and_crawled_here(
    setup: Setup, service: Path
) -> None:
    holder = int(re.findall(r"\(pid (\d+)\)", service.read_text())[0])
    deadline = time.monotonic() + 20  # paused only once its start-up writes are done
    next_run = "select next_run_at from schedule_state where job_id = 'crawl:warta'"
    while not setup.rows(next_run)[0]["next_run_at"] and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    os.kill(holder, signal.SIGSTOP)  # alive and holding the database, but taking nothing
    try:
        result, command_pid = setup.crawl()
    finally:
        os.kill(holder, signal.SIGCONT)

    assert result.returncode == 0, result.stderr
    assert "did not take the crawl within 5 s: crawling here" in result.stderr
    assert re.search(r"warta\W+\d+\W+ok\W+\d+\W+3\W", result.stdout), result.stdout
    time.sleep(2)  # the service, running again, must not crawl the withdrawn request
    assert [run["pid"] for run in setup.rows("select pid from crawl_runs")] == [command_pid]
    assert [r["status"] for r in setup.rows("select status from crawl_requests")] == ["abandoned"]

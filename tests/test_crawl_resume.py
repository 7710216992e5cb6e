"""A crawl killed mid-way resumes from its job state; an ad-hoc URL crawl needs no config."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from conftest import FIXTURES
from loopback import PANTAU, Fault, pantau_env, run_pantau, serve_site, write_config

pytestmark = pytest.mark.slow

WORDPRESS = FIXTURES / "sites" / "wordpress"
FIRST = "/2024/04/24/camat-sukamaju-hadiri-deklarasi-relawan/"
OTHERS = [
    "/2024/04/22/pemkab-sukamaju-terbitkan-surat-edaran-netralitas/",
    "/2024/04/20/ratusan-kepala-desa-ikuti-sosialisasi/",
    "/2024/04/18/bawaslu-sukamaju-buka-posko-pengaduan/",
]


def stored_paths(db: Path, base: str) -> list[str]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        try:
            rows = list(conn.execute("select url from articles"))
        except sqlite3.OperationalError:  # not migrated yet
            return []
    return [row[0].removeprefix(base) for row in rows]


def runs(db: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute("select status, articles_new from crawl_runs order by id"))


def wait_for(condition, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.2)


def test_a_killed_crawl_resumes_and_stores_each_article_once(tmp_path: Path) -> None:
    stalled = {path: Fault(delay=60) for path in OTHERS}
    with serve_site(WORDPRESS, stalled) as base:
        site = {
            "id": "sukamaju",
            "name": "Sukamaju Pos",
            "url": base + "/",
            "feeds": [base + "/feed/"],
            "sitemaps": [base + "/sitemap_index.xml"],
        }
        config = write_config(
            tmp_path, [site], crawl={"download_timeout": 90, "concurrent_per_domain": 1}
        )
        db = tmp_path / "pantau.db"
        process = subprocess.Popen(
            [str(PANTAU), "crawl", "sukamaju", "--db", str(db)],
            env=pantau_env(config),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            # The worker stores the article a moment before the crawl process writes it on
            # the run's row: kill only once both happened (the row used to stay at 0 until
            # the end of the run, so this waits in vain on the old code).
            wait_for(lambda: FIRST in stored_paths(db, base) and runs(db)[0][1] >= 1)
        finally:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        assert (tmp_path / "crawl-state" / "sukamaju").is_dir()

        base.faults.clear()  # the host recovers
        result = run_pantau(config, "crawl", "sukamaju", "--resume", "--db", str(db))

        assert result.returncode == 0, result.stderr
        assert sorted(stored_paths(db, base)) == sorted([FIRST, *OTHERS])
        assert [hit.path for hit in base.requests].count(FIRST) == 1
        statuses = runs(db)
        assert statuses[0] == ("interrupted", 1)  # the killed run shows what it stored
        assert statuses[-1] == ("ok", 3)


def test_an_adhoc_url_is_probed_and_crawled_without_touching_sites_yaml(tmp_path: Path) -> None:
    config = write_config(tmp_path, [])
    before = (config / "sites.yaml").read_text()
    stale = tmp_path / "crawl-state" / "127-0-0-1"
    stale.mkdir(parents=True)
    (stale / "left-over-from-a-killed-crawl").write_text("x")
    with serve_site(WORDPRESS) as base:
        result = run_pantau(config, "crawl", base + "/", "--db", str(tmp_path / "pantau.db"))
        stored = stored_paths(tmp_path / "pantau.db", base)
    assert result.returncode == 0, result.stderr
    assert sorted(stored) == sorted([FIRST, *OTHERS])
    assert (config / "sites.yaml").read_text() == before
    assert "127-0-0-1" in result.stdout
    assert not (stale / "left-over-from-a-killed-crawl").exists()  # no --resume: fresh state

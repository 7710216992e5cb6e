"""The crawl's ingest worker processes: same results as in-process, and robust to deaths.

Each test runs `pantau crawl` in a subprocess against fixture sites on 127.0.0.1. The
kill tests hold a page inside the worker with the worker's test-only hook
(PANTAU_TEST_INGEST_HOLD, crawler/worker.py), so "a page is in the worker" is a fact the
test waits for, not a timing guess.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES
from loopback import PANTAU, load_files, pantau_env, run_pantau, serve_site, write_config

from crawler.worker import HOLD_ENV

pytestmark = pytest.mark.slow

SITES = FIXTURES / "sites"
FIRST = "/2024/04/24/camat-sukamaju-hadiri-deklarasi-relawan/"
OTHERS = [
    "/2024/04/22/pemkab-sukamaju-terbitkan-surat-edaran-netralitas/",
    "/2024/04/20/ratusan-kepala-desa-ikuti-sosialisasi/",
    "/2024/04/18/bawaslu-sukamaju-buka-posko-pengaduan/",
]
EMPTY = "/2024/04/25/halaman-tanpa-isi/"
SPACY_LINE = "spacy loaded in the crawl process: {}"


def wordpress_with_an_empty_page() -> dict[str, bytes]:
    """The WordPress site plus a post whose page has no article text to extract."""
    files = load_files(SITES / "wordpress")
    files[EMPTY.strip("/") + "/index.html"] = (
        b'<!DOCTYPE html><html lang="id"><head><title>Kosong</title></head><body></body></html>'
    )
    entry = f"<url><loc>{{{{BASE}}}}{EMPTY}</loc><lastmod>2024-04-25T01:00:00+00:00</lastmod></url>"
    files["post-sitemap.xml"] = files["post-sitemap.xml"].replace(
        b"</urlset>", entry.encode() + b"</urlset>"
    )
    return files


def wordpress_site(base: str, site_id: str = "wordpress") -> dict[str, object]:
    return {
        "id": site_id,
        "name": "Sukamaju Pos",
        "url": base + "/",
        "feeds": [base + "/feed/"],
        "sitemaps": [base + "/sitemap_index.xml"],
        "article_pattern": r"/20\d\d/\d\d/\d\d/[^/]+/$",
    }


def fixture_sites(bases: dict[str, str]) -> list[dict[str, object]]:
    return [
        wordpress_site(bases["wordpress"]),
        {
            "id": "newsonly",
            "name": "Warta Mandala",
            "url": bases["newsonly"] + "/",
            "sitemaps": [bases["newsonly"] + "/news-sitemap.xml"],
        },
        {
            "id": "listing",
            "name": "Suara Tanjung Biru",
            "url": bases["listing"] + "/",
            "listings": [bases["listing"] + "/indeks/"],
        },
        {
            "id": "ampdup",
            "name": "Tepian Today",
            "url": bases["ampdup"] + "/",
            "feeds": [bases["ampdup"] + "/feed/"],
            "listings": [bases["ampdup"] + "/"],
        },
    ]


def query(db: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute(sql, params))


def stored_paths(db: Path, base: str) -> list[str]:
    if not db.exists():
        return []
    try:
        return [str(url).removeprefix(base) for (url,) in query(db, "select url from articles")]
    except sqlite3.OperationalError:  # not migrated yet
        return []


def errors(db: Path, base: str) -> dict[str, str]:
    rows = query(db, "select url, cause from crawl_errors")
    return {str(url).removeprefix(base): str(cause) for url, cause in rows}


def wait_for(condition: Callable[[], bool], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


# --- the same crawl in process and with the worker -------------------------------------


@dataclass
class Compared:
    bases: dict[str, str]
    in_process: Path
    worker: Path
    outputs: dict[str, str]


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Compared]:
    root = tmp_path_factory.mktemp("crawl-worker")
    with ExitStack() as stack:
        servers = {
            kind: stack.enter_context(serve_site(SITES / kind))
            for kind in ("newsonly", "listing", "ampdup")
        }
        servers["wordpress"] = stack.enter_context(serve_site(wordpress_with_an_empty_page()))
        bases = {kind: str(server) for kind, server in servers.items()}
        dbs, outputs = {}, {}
        for mode, processes in (("in_process", 0), ("worker", 1)):
            config = write_config(
                root / mode, fixture_sites(bases), crawl={"ingest_processes": processes}
            )
            dbs[mode] = config / "pantau.db"
            env = {**pantau_env(config), "PANTAU_LOG_LEVEL": "INFO"}
            result = subprocess.run(
                [str(PANTAU), "crawl", "--all", "--db", str(dbs[mode])],
                env=env,
                capture_output=True,
                text=True,
                timeout=180,
            )
            assert result.returncode == 0, result.stderr[-3000:]
            outputs[mode] = result.stdout + result.stderr
        yield Compared(bases, dbs["in_process"], dbs["worker"], outputs)


Keyed = dict[tuple[str, str], tuple[Any, ...]]


def keyed_by_site_and_path(rows: list[tuple[Any, ...]], bases: dict[str, str]) -> Keyed:
    """Rows (site, url, ...) keyed by site and URL path: the two crawls ran on one port."""
    return {(row[0], row[1].removeprefix(bases[row[0]])): row[2:] for row in rows}


def articles_by_url(db: Path, bases: dict[str, str]) -> Keyed:
    rows = query(
        db, "select site, url, title, text, published, author, lang, content_hash from articles"
    )
    return keyed_by_site_and_path(rows, bases)


def findings_by_url(db: Path, bases: dict[str, str]) -> Keyed:
    rows = query(
        db,
        "select a.site, a.url, f.analyzer_version, f.verdict, f.score, f.officials, "
        "f.region_code, f.violations, f.evidence from findings f "
        "join articles a on a.id = f.article_id",
    )
    return keyed_by_site_and_path(rows, bases)


def stories(db: Path, bases: dict[str, str]) -> set[frozenset[tuple[str, str]]]:
    groups: dict[Any, set[tuple[str, str]]] = {}
    rows = query(db, "select site, url, cluster_id from articles")
    for (site, path), (cluster,) in keyed_by_site_and_path(rows, bases).items():
        groups.setdefault(cluster, set()).add((site, path))
    return {frozenset(group) for group in groups.values()}


def test_the_worker_stores_the_same_articles_as_the_in_process_crawl(compared: Compared):
    in_process = articles_by_url(compared.in_process, compared.bases)
    assert len(in_process) >= 12
    assert articles_by_url(compared.worker, compared.bases) == in_process


def test_the_worker_stores_the_same_findings_and_stories_as_the_in_process_crawl(
    compared: Compared,
) -> None:
    in_process = findings_by_url(compared.in_process, compared.bases)
    assert len(in_process) == len(articles_by_url(compared.in_process, compared.bases))
    assert findings_by_url(compared.worker, compared.bases) == in_process
    assert stories(compared.worker, compared.bases) == stories(compared.in_process, compared.bases)


def test_a_page_without_article_text_is_recorded_as_extraction_failed_by_the_worker(
    compared: Compared,
) -> None:
    base = compared.bases["wordpress"]
    assert errors(compared.worker, base).get(EMPTY) == "extraction-failed"
    assert errors(compared.in_process, base).get(EMPTY) == "extraction-failed"


def test_run_counts_are_the_same_with_and_without_the_worker(compared: Compared) -> None:
    sql = (
        "select site, status, pages_fetched, articles_new, articles_updated, articles_skipped,"
        " failures, failure_causes from crawl_runs order by site"
    )
    assert query(compared.worker, sql) == query(compared.in_process, sql)


def test_the_crawl_process_does_not_load_spacy_when_the_worker_ingests(compared: Compared):
    assert SPACY_LINE.format(False) in compared.outputs["worker"]
    assert SPACY_LINE.format(True) not in compared.outputs["worker"]
    assert SPACY_LINE.format(True) in compared.outputs["in_process"]  # the check can tell


def crawl_twice(tmp_path: Path, ingest_processes: int) -> tuple[str, str]:
    """Output of two crawls of the same site: the second finds nothing new."""
    with serve_site(SITES / "wordpress") as base:
        crawl = {"ingest_processes": ingest_processes}
        config = write_config(tmp_path, [wordpress_site(base)], crawl=crawl)
        env = {**pantau_env(config), "PANTAU_LOG_LEVEL": "INFO"}
        command = [str(PANTAU), "crawl", "wordpress", "--db", str(tmp_path / "pantau.db")]
        outputs = []
        for _ in range(2):
            result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
            assert result.returncode == 0, result.stderr[-3000:]
            outputs.append(result.stdout + result.stderr)
    return outputs[0], outputs[1]


def test_a_crawl_that_finds_nothing_new_starts_no_ingest_worker(tmp_path: Path) -> None:
    first, second = crawl_twice(tmp_path, ingest_processes=1)
    assert "ingest worker" in first and "ready in" in first  # the check can tell
    assert "ready in" not in second
    assert "ingest pool closed: 0 tasks handed to its workers" in second


def test_a_crawl_in_process_that_finds_nothing_new_loads_no_model(tmp_path: Path) -> None:
    first, second = crawl_twice(tmp_path, ingest_processes=0)
    assert SPACY_LINE.format(True) in first  # the check can tell
    assert SPACY_LINE.format(False) in second


# --- a worker or the whole crawl killed with a page in the worker ----------------------


def start_held_crawl(config: Path, db: Path, hold: Path, *args: str) -> subprocess.Popen[bytes]:
    hold.write_text(FIRST, encoding="utf-8")
    return subprocess.Popen(
        [str(PANTAU), "crawl", "wordpress", "--db", str(db), *args],
        env={**pantau_env(config), HOLD_ENV: str(hold)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def held_worker(hold: Path) -> int:
    """The pid of the worker process holding FIRST, once it holds it."""
    held = Path(f"{hold}.held")
    wait_for(lambda: held.exists() and held.read_text().strip() != "")
    return int(held.read_text())


def test_a_killed_worker_fails_only_its_pages_and_the_crawl_stores_the_rest(tmp_path: Path):
    with serve_site(SITES / "wordpress") as base:
        config = write_config(tmp_path, [wordpress_site(base)])
        db, hold = tmp_path / "pantau.db", tmp_path / "hold"
        crawl = start_held_crawl(config, db, hold)
        try:
            worker = held_worker(hold)
            assert parent_of(worker) == crawl.pid
            os.kill(worker, signal.SIGKILL)
            hold.unlink()
            assert crawl.wait(timeout=120) == 0
        finally:
            if crawl.poll() is None:
                crawl.kill()
        stored = stored_paths(db, base)
        failed = errors(db, base)
        assert FIRST not in stored
        assert failed[FIRST] == "ingest-failed"
        # The pages handed to the pool with it fail too (at most one); the rest is stored.
        assert all(path in stored or failed.get(path) == "ingest-failed" for path in OTHERS)
        assert len(stored) >= 2
        assert query(db, "select status from crawl_runs") == [("partial",)]


def test_a_crawl_killed_with_a_page_in_the_worker_leaves_no_worker_and_resumes_the_page(
    tmp_path: Path,
) -> None:
    with serve_site(SITES / "wordpress") as base:
        config = write_config(tmp_path, [wordpress_site(base)])
        db, hold = tmp_path / "pantau.db", tmp_path / "hold"
        crawl = start_held_crawl(config, db, hold)
        try:
            worker = held_worker(hold)
        finally:
            os.kill(crawl.pid, signal.SIGKILL)
            crawl.wait()
        wait_for(lambda: not running(worker), timeout=30)  # no orphan keeps ingesting
        assert FIRST not in stored_paths(db, base)
        hold.unlink()

        result = run_pantau(config, "crawl", "wordpress", "--resume", "--db", str(db))

        assert result.returncode == 0, result.stderr
        stored = stored_paths(db, base)
        assert sorted(stored) == sorted([FIRST, *OTHERS])
        assert len(stored) == len(set(stored))
        assert [hit.path for hit in base.requests].count(FIRST) == 2  # fetched again
        statuses = query(db, "select status from crawl_runs order by id")
        assert statuses[0] == ("interrupted",)
        assert statuses[-1] == ("ok",)

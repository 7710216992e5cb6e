"""The crawl host: many sites' crawls in one long-lived process, isolated from each other,
and never outliving the service that started it.

The host runs for real (`python -m crawler.host`, or started by the service's
CrawlRunner or by `pantau schedule`) against news sites on 127.0.0.1; one site answers
slowly (a loopback fault), as a hung outlet would.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from loopback import Fault, news_site, serve_site, write_config

from pantau.core import store
from pantau.core.settings import SiteConfig
from pantau.service.config import load_service_config
from pantau.service.crawls import CrawlRunner
from pantau.service.state import ScheduleState
from pantau.wiring import INGESTOR_PATH

pytestmark = pytest.mark.slow

PROJECT = Path(__file__).resolve().parent.parent


def site_entry(site_id: str, base: str, interval_seconds: int = 3600) -> dict[str, object]:
    return {
        "id": site_id,
        "name": site_id.title(),
        "url": base + "/",
        "feeds": [base + "/feed/"],
        "interval_seconds": interval_seconds,
    }


def service_config(directory: Path, sites: list[dict[str, object]], crawl: dict[str, Any]) -> Path:
    config = write_config(directory, sites, crawl=crawl)
    (config / "offices.yaml").write_text("offices: []\n", encoding="utf-8")
    return config


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def children_of(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


class Host:
    """`python -m crawler.host` with its protocol read into a queue."""

    def __init__(self, config: Path, db: Path):
        env = {**os.environ, "PANTAU_CONFIG": str(config), "PANTAU_LOG_LEVEL": "INFO"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "crawler.host", "--db", str(db)] + ["--ingestor", INGESTOR_PATH],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=PROJECT,
        )
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_log, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.events.put(json.loads(line))

    def _read_log(self) -> None:
        assert self.process.stderr is not None
        self.log.extend(self.process.stderr)

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def crawl(self, site: dict[str, object]) -> None:
        model = SiteConfig.model_validate(site).model_dump(mode="json")
        self.send({"crawl": {"site": model}})

    def next_event(self, kind: str, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if event["event"] == kind:
                return event

    def close(self) -> int:
        assert self.process.stdin is not None
        self.process.stdin.close()
        return self.process.wait(60)


@contextmanager
def started_host(config: Path, db: Path) -> Iterator[Host]:
    store.open_db(db).close()
    host = Host(config, db)
    try:
        yield host
    finally:
        if host.process.poll() is None:
            host.process.kill()
            host.process.wait()


def test_a_hanging_site_does_not_delay_the_others_and_the_models_load_once(tmp_path: Path):
    hang = {"/feed/": Fault(delay=45)}
    with ExitStack() as stack:
        slow = stack.enter_context(serve_site(news_site("lambat"), hang))
        quick = [stack.enter_context(serve_site(news_site(f"cepat{n}"))) for n in range(3)]
        sites = [site_entry("lambat", slow)]
        sites += [site_entry(f"cepat{n}", base) for n, base in enumerate(quick)]
        config = write_config(tmp_path, sites, crawl={"download_timeout": 60})
        with started_host(config, tmp_path / "pantau.db") as host:
            host.next_event("ready")
            host.crawl(sites[0])
            for site in sites[1:3]:
                host.crawl(site)
            finished = [host.next_event("finished")["summary"] for _ in sites[1:3]]
            host.crawl(sites[3])  # a later crawl on the warm host
            finished.append(host.next_event("finished")["summary"])

            assert {s["site"] for s in finished} == {"cepat0", "cepat1", "cepat2"}
            assert all(s["status"] == "ok" and s["articles_new"] == 2 for s in finished)
            host.send({"stop": "lambat"})  # the hung site is still crawling: stop it
            # Its run closes once its request in flight ends (the slow answer, at the latest).
            stopped = host.next_event("finished", timeout=90)["summary"]
            assert stopped["site"] == "lambat" and stopped["articles_new"] == 0
            assert host.close() == 0
    log = "".join(host.log)
    assert log.count("ready in") == 1, log[-3000:]  # one ingest worker loaded the models
    rows = store.open_db(tmp_path / "pantau.db").execute(
        "select site, status, pid from crawl_runs order by id"
    )
    runs = {site: (status, pid) for site, status, pid in rows}
    assert runs["lambat"][0] == "interrupted"
    assert {pid for _, pid in runs.values()} == {host.process.pid}


def test_a_killed_host_is_recorded_as_cut_off_and_the_next_crawl_starts_a_new_one(
    tmp_path: Path,
) -> None:
    hang = {"/feed/": Fault(delay=45)}
    with serve_site(news_site("lambat"), hang) as slow, serve_site(news_site("cepat")) as quick:
        sites = [site_entry("lambat", slow), site_entry("cepat", quick)]
        config = service_config(tmp_path, sites, {"download_timeout": 60})
        db = tmp_path / "pantau.db"
        store.open_db(db).close()
        state = ScheduleState(db)
        for site in ("lambat", "cepat"):
            state.ensure(f"crawl:{site}", "crawl", site)
        runner = CrawlRunner(db, load_service_config(config), state, max_run_seconds=120)
        results: dict[str, str] = {}
        try:
            thread = threading.Thread(target=lambda: results.update(lambat=runner.crawl("lambat")))
            thread.start()
            first = wait_for(lambda: runner.hosts.current, "the crawl host")
            wait_for(lambda: open_runs(db), "the run to open")
            os.kill(first.pid, signal.SIGKILL)
            thread.join(30)

            assert results == {"lambat": "interrupted"}
            assert open_runs(db) == []
            assert runner.crawl("cepat") == "ok"
            assert runner.hosts.current is not None and runner.hosts.current.pid != first.pid
        finally:
            runner.stop()
    rows = store.open_db(db).execute("select site, status, error from crawl_runs order by id")
    cut, done = list(rows)
    assert cut[:2] == ("lambat", "interrupted") and str(first.pid) in cut[2]
    assert done[:2] == ("cepat", "ok")
    assert state.get("crawl:lambat")["last_result"] == "interrupted"  # resumed next time


def open_runs(db: Path) -> list[Any]:
    return list(store.open_db(db).execute("select id from crawl_runs where finished_at is null"))


def test_the_crawl_host_and_its_workers_exit_when_the_service_is_killed(tmp_path: Path):
    hang = {"/feed/": Fault(delay=45)}
    with serve_site(news_site("lambat"), hang) as slow, serve_site(news_site("cepat")) as quick:
        sites = [site_entry("cepat", quick, 3600), site_entry("lambat", slow, 3600)]
        config = service_config(tmp_path, sites, {"download_timeout": 60, "jitter_seconds": 1})
        log = tmp_path / "service.log"
        with open(log, "w", encoding="utf-8") as handle:
            service = subprocess.Popen(
                [sys.executable, "-m", "pantau.cli", "schedule", "--db", str(tmp_path / "p.db")],
                stdout=handle,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PANTAU_CONFIG": str(config)},
                cwd=PROJECT,
            )
            try:
                wait_for(lambda: "crawl cepat finished" in log.read_text(), "a crawl in the host")
                hosts = children_of(service.pid)
                assert len(hosts) == 1
                workers = children_of(hosts[0])
                assert workers  # the ingest worker (and multiprocessing's resource tracker)
                os.kill(service.pid, signal.SIGKILL)
                service.wait()
                for pid in [*hosts, *workers]:
                    wait_for(lambda pid=pid: not running(pid), f"process {pid} to exit", 30)
            finally:
                if service.poll() is None:
                    service.kill()
                    service.wait()

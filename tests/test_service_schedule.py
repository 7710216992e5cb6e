"""`pantau schedule` for real: a subprocess with second-level intervals against a loopback
news site and a loopback SMTP server, stopped with signals and restarted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from loopback import serve_site
from smtp_server import SmtpServer

from pantau.core import store
from pantau.service.config import load_service_config
from pantau.service.crawls import CrawlRunner
from pantau.service.state import ScheduleState

pytestmark = pytest.mark.slow

JAKARTA = ZoneInfo("Asia/Jakarta")
OFFICE_MAIL = "kepahiang@bawaslu.example"

PARAGRAPHS = [
    "Panitia pengawas kecamatan di Kabupaten Kepahiang, Bengkulu, mencatat {n} laporan warga "
    "yang masuk pekan ini terkait persiapan pemungutan suara di sejumlah desa.",
    "Menurut keterangan sekretariat, laporan itu sebagian besar menyangkut pemasangan alat "
    "peraga di fasilitas umum yang tidak sesuai dengan ketentuan penyelenggara.",
    "Petugas menelusuri setiap laporan dan meminta keterangan pihak terkait sebelum "
    "memutuskan langkah lanjutan, termasuk penertiban alat peraga bersama aparat setempat.",
    "Warga diminta tetap aktif melapor melalui posko pengaduan yang dibuka setiap hari kerja "
    "di kantor kecamatan hingga masa tenang berakhir.",
]
ARTICLES = {
    "laporan-warga-kepahiang": "Panwascam Kepahiang Terima Tiga Laporan Warga",
    "posko-pengaduan-dibuka": "Posko Pengaduan Pemilu Dibuka Hingga Masa Tenang",
}


def article_page(n: int, title: str) -> str:
    body = "".join(f"<p>{p.format(n=n + 2)}</p>" for p in PARAGRAPHS)
    return (
        f'<!doctype html><html lang="id"><head><meta charset="utf-8"><title>{title}</title>'
        f'<meta property="article:published_time" content="2026-11-2{n}T08:00:00+07:00">'
        f'</head><body><nav><a href="/">Beranda</a></nav><main><article><h1>{title}</h1>'
        f"{body}</article></main><footer>Warta Loopback</footer></body></html>"
    )


def site_files() -> dict[str, str]:
    items = "".join(
        f"<item><title>{title}</title><link>{{{{BASE}}}}/berita/2026/11/{slug}.html</link>"
        f"<pubDate>Mon, 23 Nov 2026 0{n}:00:00 GMT</pubDate></item>"
        for n, (slug, title) in enumerate(ARTICLES.items(), start=1)
    )
    files = {
        "/": "<html><body><a href='/feed/'>RSS</a></body></html>",
        "/robots.txt": "User-agent: *\nAllow: /\n",
        "/feed/index.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>Warta</title><link>{{{{BASE}}}}/</link>{items}</channel></rss>"
        ),
    }
    for n, (slug, title) in enumerate(ARTICLES.items(), start=1):
        files[f"/berita/2026/11/{slug}.html"] = article_page(n, title)
    return files


@dataclass
class Setup:
    config: Path
    db: Path
    tmp: Path
    site: str
    smtp: SmtpServer
    services: list[Service] = field(default_factory=list)

    def write_settings(self, digest_at: datetime) -> None:
        local = digest_at.astimezone(JAKARTA).strftime("%H:%M:%S")
        (self.config / "settings.yaml").write_text(
            f"crawl_state_dir: {self.tmp / 'crawl-state'}\n"
            f"outbox_dir: {self.tmp / 'outbox'}\n"
            "crawl:\n  download_delay: 0\n  jitter_seconds: 1\n  max_concurrent_crawls: 2\n"
            f"smtp:\n  host: 127.0.0.1\n  port: {self.smtp.port}\n  timeout: 10\n"
            f"digest:\n  time: '{local}'\n  timezone: Asia/Jakarta\n  grace_minutes: 10\n",
            encoding="utf-8",
        )

    def start(self, name: str) -> Service:
        log = self.tmp / f"{name}.log"
        handle = open(log, "w", encoding="utf-8")  # noqa: SIM115 - closed by Service.stop
        process = subprocess.Popen(
            [sys.executable, "-m", "pantau.cli", "schedule", "--db", str(self.db)],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PANTAU_CONFIG": str(self.config)},
        )
        service = Service(process, log, handle)
        self.services.append(service)
        wait_for(lambda: "scheduling 1 site(s)" in service.log(), f"{name} to start", service)
        return service

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        db = store.open_db(self.db, migrate=False)
        try:
            return list(db.query(sql, params or []))
        finally:
            db.close()

    def finished_crawls(self) -> list[dict[str, Any]]:
        return self.rows("select * from crawl_runs where finished_at is not null order by id")

    def crawl_state(self) -> dict[str, Any]:
        return self.rows("select * from schedule_state where job_id = 'crawl:warta'")[0]

    def digest_state(self) -> dict[str, Any]:
        return self.rows("select * from schedule_state where job_id = 'digest'")[0]


@dataclass
class Service:
    process: subprocess.Popen[bytes]
    log_path: Path
    handle: Any

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(40)
        finally:
            self.handle.close()


def wait_for(condition: Callable[[], Any], what: str, service: Service | None = None) -> None:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if condition():
            return
        if service is not None and service.process.poll() is not None:
            break
        time.sleep(0.2)
    log = service.log()[-3000:] if service else ""
    raise AssertionError(f"timed out waiting for {what}\n{log}")


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    config = tmp_path / "config"
    config.mkdir()
    with serve_site(site_files()) as site, SmtpServer() as smtp:
        (config / "sites.yaml").write_text(
            f"sites:\n  - id: warta\n    name: Warta Loopback\n    url: {site}/\n"
            f"    feeds: ['{site}/feed/']\n    interval_seconds: 2\n",
            encoding="utf-8",
        )
        (config / "offices.yaml").write_text(
            "offices:\n  - id: kab-kepahiang\n    name: Bawaslu Kabupaten Kepahiang\n"
            f"    level: kabkota\n    regions: ['17.08']\n    to: [{OFFICE_MAIL}]\n"
            "    send_empty: true\n",
            encoding="utf-8",
        )
        setup = Setup(config, tmp_path / "pantau.db", tmp_path, str(site), smtp)
        setup.write_settings(datetime.now(JAKARTA) + timedelta(hours=1))
        yield setup
        for service in setup.services:  # a failed test must not leave a scheduler behind
            if service.process.poll() is None:
                service.process.kill()
                service.process.wait()
            service.handle.close()


def now_plus(seconds: float) -> datetime:
    return datetime.now(JAKARTA) + timedelta(seconds=seconds)


def run_pantau(setup: Setup, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pantau.cli", *args, "--db", str(setup.db)],
        env={**os.environ, "PANTAU_CONFIG": str(setup.config)},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_service_crawls_sends_the_digest_once_and_a_restart_repeats_nothing(setup: Setup) -> None:
    first = setup.start("first")
    refused = run_pantau(setup, "schedule")
    assert refused.returncode == 2
    assert f"already scheduled by another `pantau schedule` (pid {first.process.pid}" in (
        refused.stderr
    )

    wait_for(lambda: setup.finished_crawls(), "a scheduled crawl", first)
    status = json.loads(run_pantau(setup, "status", "--format", "json").stdout)
    assert status["scheduler"]["pid"] == first.process.pid
    usage = status["scheduler"]["usage"]  # the service, its crawl host and ingest worker
    assert usage["processes"] >= 2 and usage["cpu_seconds"] > 0 and usage["memory_mb"] > 50
    assert status["sites"][0]["site"] == "warta" and status["sites"][0]["last_crawl"]
    assert status["digest"]["next_run"] is not None

    # The digest time moves to a few seconds from now; SIGHUP makes the service re-read it.
    setup.write_settings(now_plus(3))
    first.process.send_signal(signal.SIGHUP)
    wait_for(lambda: setup.smtp.messages, "the digest", first)
    wait_for(lambda: setup.digest_state()["last_finished_at"], "the digest to settle", first)
    assert "config reloaded" in first.log()

    # SIGTERM in the middle of a crawl: the crawl is stopped and its run closed, not left open.
    wait_for(lambda: setup.crawl_state()["last_result"] == "running", "a crawl under way", first)
    assert first.stop() == 0
    assert not setup.rows("select id from crawl_runs where finished_at is null")
    assert setup.crawl_state()["last_result"] == "interrupted"
    runs = setup.finished_crawls()
    assert {run["site"] for run in runs} == {"warta"}
    assert len({run["pid"] for run in runs}) == 1  # every crawl in the one crawl host
    assert first.process.pid not in {run["pid"] for run in runs}
    assert first.log().count("crawl warta started") >= 2  # and the interval repeats
    # Each crawl's summary is one log line, not its table copied line by line.
    assert "pantau.crawl.warta: ok: " in first.log()
    assert not any(char in first.log() for char in "┃│━─┏└")

    # After a restart the cut-off crawl resumes and the day's digest is not sent again.
    second = setup.start("second")
    wait_for(lambda: "crawl warta started" in second.log(), "a crawl after the restart", second)
    assert second.stop() == 0
    assert "resuming" in second.log()
    assert len(setup.smtp.received_by(OFFICE_MAIL)) == 1
    assert setup.digest_state()["run_count"] == 1


def test_digest_missed_while_stopped_runs_once_when_the_service_is_back(setup: Setup) -> None:
    first = setup.start("first")
    assert first.stop() == 0
    time.sleep(1.5)  # the slot below must fall after the service was first started
    db = store.open_db(setup.db, migrate=False)  # it has crawled before: the service sends
    db.table("crawl_runs").insert(  # nothing from a database without crawl or ingest history
        {"site": "warta", "started_at": store.utcnow(), "finished_at": store.utcnow()}
    )
    db.close()

    setup.write_settings(now_plus(-0.5))  # its time passed while the service was stopped
    second = setup.start("second")
    wait_for(lambda: setup.smtp.messages, "the missed digest", second)
    wait_for(lambda: setup.digest_state()["last_finished_at"], "the digest to settle", second)
    assert second.stop() == 0
    assert "was missed while stopped" in second.log()

    third = setup.start("third")
    assert third.stop() == 0
    assert len(setup.smtp.received_by(OFFICE_MAIL)) == 1
    assert setup.digest_state()["run_count"] == 1


def test_a_crawl_running_past_its_time_limit_is_stopped_and_its_run_closed(setup: Setup) -> None:
    store.open_db(setup.db).close()
    state = ScheduleState(setup.db)
    state.ensure("crawl:warta", "crawl", "warta")
    runner = CrawlRunner(setup.db, load_service_config(setup.config), state, max_run_seconds=1.0)
    try:
        assert runner.crawl("warta") == "timed out"
    finally:
        runner.stop()
    assert setup.crawl_state()["last_result"] == "timed out"
    assert not setup.rows("select id from crawl_runs where finished_at is null")

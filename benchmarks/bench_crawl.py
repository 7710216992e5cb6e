"""Loopback crawl of a generated news site with the real spider, pipeline on and off.

The site is the first N corpus pages (which only link to earlier pages, so any prefix is
a closed site) plus a robots.txt, a sitemap and listing pages, served from memory on
127.0.0.1 by a thread of this process; `pantau crawl` runs in a subprocess with a
temporary PANTAU_CONFIG (no download delay, high per-domain concurrency) and a fresh
SQLite file. Pages per second is counted at the server: article pages served between the
first request and the crawl's exit (so the pipeline's tail is included).

Five runs, each recording the cores it had and `ingest_processes`:
- "on": the default configuration (ingest worker processes, crawler/worker.py); the crawl
  process, its workers and the server share every core;
- "off": PANTAU_CRAWL_PIPELINE=off on the same cores, the baseline of the ratio;
- "in-process": ingest_processes=0 with the crawl pinned to one core and the server to
  another, as this benchmark measured before the worker existed: the single-core figure;
- "single page": the "on" crawl stopped after one page (`--max-pages 1`): its CPU time is
  the fixed cost of a crawl that ingests anything (interpreter, Scrapy, the worker's
  detector);
- "idle": a 20-article site crawled twice into one database: the second crawl's CPU time
  is what a scheduled crawl that finds nothing new costs.

The "off" run sets PANTAU_CRAWL_PIPELINE=off, which the crawler honours by running no
item pipeline (crawler/settings.py): items are dropped before extraction and ingest. A
run that stored articles anyway did not measure the baseline and fails the stage.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import yaml

from benchmarks.corpus import OUTLETS, DocEntry
from pantau.core.settings import DEFAULT_CONFIG_DIR, PROJECT_ROOT

LISTING_SIZE = 50
IDLE_SITE_ARTICLES = 20  # the site crawled twice: the second crawl finds nothing new
SITE_ID = "bench"
ARTICLE_PATTERN = r"/berita/\d{4}/\d{2}/\d{2}/"


class CrawlBenchError(Exception):
    """The crawl under test did not run (nothing fetched): no figure to report."""


@dataclass
class ServedSite:
    """Every response body of the loopback site, keyed by path, built before serving."""

    pages: dict[str, tuple[bytes, str]]
    article_paths: set[str]
    hits: dict[str, int] = field(default_factory=dict)
    first_request: float | None = None
    last_article: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, path: str) -> None:
        now = time.perf_counter()
        with self.lock:
            if self.first_request is None:
                self.first_request = now
            kind = "article" if path in self.article_paths else "other"
            self.hits[kind] = self.hits.get(kind, 0) + 1
            if kind == "article":
                self.last_article = now

    def reset(self) -> None:
        with self.lock:
            self.hits = {}
            self.first_request = None
            self.last_article = None


def build_site(corpus: Path, entries: list[DocEntry], base: str) -> ServedSite:
    pages: dict[str, tuple[bytes, str]] = {}
    html_type = "text/html; charset=utf-8"
    for entry in entries:
        body = (corpus / entry.file).read_bytes()
        for _, _, outlet_base in OUTLETS:
            body = body.replace(outlet_base.encode(), base.encode())
        pages[entry.path] = (body, html_type)
    newest_first = sorted(entries, key=lambda e: e.index, reverse=True)
    pages["/robots.txt"] = (
        f"User-agent: *\nDisallow: /wp-admin/\nSitemap: {base}/sitemap.xml\n".encode(),
        "text/plain",
    )
    pages["/sitemap.xml"] = (sitemap(newest_first, base), "application/xml")
    listing_count = max(1, -(-len(entries) // LISTING_SIZE))
    for number in range(1, listing_count + 1):
        chunk = newest_first[(number - 1) * LISTING_SIZE : number * LISTING_SIZE]
        page = listing(chunk, base, number, number < listing_count)
        pages[f"/indeks/{number}"] = (page, html_type)
    pages["/"] = pages["/indeks/1"]
    return ServedSite(pages, {e.path for e in entries})


def sitemap(entries: list[DocEntry], base: str) -> bytes:
    urls = "".join(
        f"<url><loc>{escape(base + e.path)}</loc><lastmod>{lastmod(e)}</lastmod></url>"
        for e in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    ).encode()


def lastmod(entry: DocEntry) -> str:
    day = datetime.strptime("/".join(entry.path.split("/")[2:5]), "%Y/%m/%d")
    return day.strftime("%Y-%m-%dT00:00:00+07:00")


def listing(entries: list[DocEntry], base: str, number: int, has_next: bool) -> bytes:
    items = "".join(f'<li><a href="{base}{e.path}">{escape(e.title)}</a></li>' for e in entries)
    next_link = f'<link rel="next" href="{base}/indeks/{number + 1}">' if has_next else ""
    return (
        f'<!DOCTYPE html><html lang="id"><head><title>Indeks Berita - Halaman {number}'
        f"</title>{next_link}</head><body><h1>Indeks Berita</h1><ul>{items}</ul></body></html>"
    ).encode()


def handler_for(site: ServedSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            path = self.path.split("?", 1)[0].split("#", 1)[0]
            site.record(path)
            found = site.pages.get(path) or site.pages.get(path.rstrip("/"))
            body, ctype = found if found else (b"<h1>404</h1>", "text/html")
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    return Handler


def pin_thread(native_id: int, cpus: set[int]) -> None:
    """Request threads are started by the serving thread and inherit its mask."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(native_id, cpus)


def cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]


def write_config(
    directory: Path, base: str, workdir: Path, max_pages: int, ingest_processes: int | None
) -> None:
    """settings.yaml tuned for loopback (no delay, high concurrency) + one-site sites.yaml."""
    directory.mkdir(parents=True, exist_ok=True)
    for item in DEFAULT_CONFIG_DIR.iterdir():
        if item.name not in ("settings.yaml", "sites.yaml"):
            (directory / item.name).symlink_to(item)
    project = DEFAULT_CONFIG_DIR / "settings.yaml"
    settings = yaml.safe_load(project.read_text(encoding="utf-8")) if project.exists() else {}
    settings = settings or {}
    settings.update(
        db_path=str(workdir / "crawl.db"),
        crawl_state_dir=str(workdir / "crawl-state"),
        outbox_dir=str(workdir / "outbox"),
    )
    crawl = dict(settings.get("crawl") or {})
    crawl.update(
        obey_robots=True,
        concurrent_requests=32,
        concurrent_per_domain=16,
        download_delay=0,
        autothrottle_max_delay=1,
        autothrottle_target_concurrency=16,
        download_timeout=60,
        retry_times=1,
        max_pages=max_pages,
    )
    if ingest_processes is not None:
        crawl["ingest_processes"] = ingest_processes
    settings["crawl"] = crawl
    (directory / "settings.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    site = {
        "id": SITE_ID,
        "name": "Bench Loopback News",
        "url": base + "/",
        "sitemaps": [base + "/sitemap.xml"],
        "article_pattern": ARTICLE_PATTERN,
    }
    (directory / "sites.yaml").write_text(yaml.safe_dump({"sites": [site]}), encoding="utf-8")


def stored_articles(db_path: Path) -> int:
    import sqlite3

    if not db_path.exists():
        return 0
    conn = sqlite3.connect(db_path)
    try:
        return int(conn.execute("select count(*) from articles").fetchone()[0])
    except sqlite3.DatabaseError:
        return 0
    finally:
        conn.close()


@dataclass(frozen=True)
class Placement:
    """Which cores the crawl (with its workers) and the server thread may run on."""

    crawler_cpus: set[int]
    server_cpus: set[int]
    ingest_processes: int | None = None  # None: the configured default


def crawl_once(
    site: ServedSite,
    base: str,
    articles: int,
    pipeline: bool,
    placement: Placement,
    timeout: float = 1800,
    runs: int = 1,
) -> dict[str, Any]:
    """The last of `runs` crawls into one database (a second crawl finds nothing new)."""
    workdir = Path(tempfile.mkdtemp(prefix="pantau-bench-crawl-"))
    try:
        config = workdir / "config"
        write_config(config, base, workdir, articles, placement.ingest_processes)
        env = dict(os.environ, PANTAU_CONFIG=str(config), PANTAU_LOG_LEVEL="ERROR")
        env.pop("PANTAU_DB", None)
        if not pipeline:
            env["PANTAU_CRAWL_PIPELINE"] = "off"
        db_path = workdir / "crawl.db"
        command = [
            str(Path(sys.executable).parent / "pantau"),
            "crawl",
            SITE_ID,
            "--db",
            str(db_path),
            "--max-pages",
            str(articles),
        ]
        command += ["--no-progress"]
        runs_cpu_s: list[float] = []
        for _ in range(runs):
            site.reset()
            started = time.perf_counter()
            run = run_measured(command, env, placement.crawler_cpus, timeout)
            runs_cpu_s.append(round(run.cpu_s, 2))
        served = site.hits.get("article", 0)
        # From the first request to the crawl's exit: includes the pipeline's tail.
        window = run.ended - site.first_request if site.first_request else 0.0
        return {
            "pipeline": pipeline,
            "ingest_processes": effective_ingest_processes(placement) if pipeline else None,
            "crawler_cpus": sorted(placement.crawler_cpus),
            "server_cpus": sorted(placement.server_cpus),
            "exit_code": run.exit_code,
            "article_pages_served": served,
            "other_requests": site.hits.get("other", 0),
            "crawl_seconds": round(window, 2),
            "wall_seconds": round(run.ended - started, 2),
            "pages_per_s": round(served / window, 1) if window > 0 else 0.0,
            "articles_stored": stored_articles(db_path),
            "crawler_cpu_s": round(run.cpu_s, 2),
            "crawler_cpu_ms_per_page": round(1000 * run.cpu_s / served, 1) if served else None,
            "crawler_peak_mb": run.peak_mb,
            "workers_peak_mb": run.children_peak_mb,
            "earlier_runs_cpu_s": runs_cpu_s[:-1],
            "via": "pantau crawl",
            "stderr_tail": run.stderr[-600:] if run.exit_code or not served else "",
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@dataclass
class Measured:
    exit_code: int
    stderr: str
    cpu_s: float
    peak_mb: float
    children_peak_mb: float  # the largest VmHWM among its children (ingest workers)
    ended: float  # perf_counter() when the process had exited


def effective_ingest_processes(placement: Placement) -> int:
    if placement.ingest_processes is not None:
        return placement.ingest_processes
    from pantau.core.settings import CrawlSettings

    return CrawlSettings().ingest_processes


def run_measured(
    command: list[str], env: dict[str, str], cpus: set[int], timeout: float
) -> Measured:
    """Run the crawl on `cpus`, with its CPU time (wait4) and peak RSS.

    The CPU time includes the ingest workers: the crawl waits for them before it exits,
    and wait4 counts a process's reaped children. The peak is the kernel's VmHWM of the
    crawl's own address space (and, apart, of its largest child), polled until it exits:
    ru_maxrss of a child also counts this (large) process at the moment of fork.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            command, env=env, cwd=PROJECT_ROOT, stdout=out, stderr=err, preexec_fn=pinner(cpus)
        )
        peak_kb = [0, 0]
        done = threading.Event()
        poller = threading.Thread(target=poll_hwm, args=(proc.pid, peak_kb, done), daemon=True)
        poller.start()
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            ended = time.perf_counter()
            killer.cancel()
            done.set()
            poller.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        peak = peak_kb[0] or usage.ru_maxrss
        return Measured(
            proc.returncode,
            err.read().decode("utf-8", "replace"),
            usage.ru_utime + usage.ru_stime,
            round(peak / 1024, 1),
            round(peak_kb[1] / 1024, 1),
            ended,
        )


def poll_hwm(pid: int, peak_kb: list[int], done: threading.Event) -> None:
    """peak_kb[0]: the process's VmHWM; peak_kb[1]: the largest of its children's."""
    while not done.is_set():
        peak_kb[0] = max(peak_kb[0], hwm_kb(pid))
        for child in children(pid):
            peak_kb[1] = max(peak_kb[1], hwm_kb(child))
        done.wait(0.2)


def hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def pinner(cpus: set[int]) -> Callable[[], None] | None:
    if not hasattr(os, "sched_setaffinity"):
        return None
    return lambda: os.sched_setaffinity(0, cpus)


def run(corpus: Path, entries: list[DocEntry], articles: int = 2000) -> dict[str, Any]:
    """Crawl the loopback site with the pipeline on, off, in-process, for one page, idle."""
    entries = entries[:articles]
    available = cpus()
    every = set(available)
    server_cpu, crawler_cpu = (available[1], available[0]) if len(available) > 1 else (0, 0)
    shared = Placement(crawler_cpus=every, server_cpus=every)
    pinned = Placement(crawler_cpus={crawler_cpu}, server_cpus={server_cpu}, ingest_processes=0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    site = build_site(corpus, entries, base)
    server.RequestHandlerClass = handler_for(site)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    assert thread.native_id is not None

    def crawl(
        pipeline: bool,
        placement: Placement,
        served: ServedSite = site,
        pages: int = len(entries),
        runs: int = 1,
    ) -> dict[str, Any]:
        pin_thread(thread.native_id or 0, placement.server_cpus)
        server.RequestHandlerClass = handler_for(served)
        return crawl_once(served, base, pages, pipeline, placement, runs=runs)

    try:
        on = crawl(True, shared)
        if not on["article_pages_served"]:
            raise CrawlBenchError(f"the crawl fetched no article: {on['stderr_tail']}")
        off = crawl(False, shared)
        honoured = off["article_pages_served"] > 0 and off["articles_stored"] == 0
        if not honoured:
            raise CrawlBenchError(
                f"PANTAU_CRAWL_PIPELINE=off stored {off['articles_stored']} articles"
            )
        in_process = crawl(True, pinned)
        single = crawl(True, shared, pages=1)
        small = build_site(corpus, entries[:IDLE_SITE_ARTICLES], base)
        idle = crawl(True, shared, served=small, pages=IDLE_SITE_ARTICLES, runs=2)
    finally:
        server.shutdown()
        server.server_close()
    ratio = on["pages_per_s"] / off["pages_per_s"] if off["pages_per_s"] else None
    ceiling = ceiling_pages_per_s(len(available), on["crawler_cpu_ms_per_page"])
    return {
        "site_articles": len(entries),
        "server_cpu": server_cpu,  # of the in-process run; on/off share every core
        "crawler_cpu": crawler_cpu,
        "cpus": available,
        "ingest_processes": on["ingest_processes"],
        "pipeline_on": on,
        "pipeline_off": off,
        "pipeline_in_process": in_process,
        "pipeline_off_switch_honoured": honoured,
        "crawl_pages_per_s": on["pages_per_s"],
        "crawl_pipeline_off_pages_per_s": off["pages_per_s"],
        "crawl_inprocess_pages_per_s": in_process["pages_per_s"],
        "crawl_pipeline_ratio": round(ratio, 3) if ratio else None,
        "crawl_inprocess_ratio": round(in_process["pages_per_s"] / off["pages_per_s"], 3)
        if off["pages_per_s"]
        else None,
        "crawl_single_page": single,
        "crawl_startup_cpu_s": single["crawler_cpu_s"] if single["exit_code"] == 0 else None,
        "crawl_idle": idle,
        "crawl_idle_cpu_s": idle["crawler_cpu_s"]
        if idle["exit_code"] == 0 and idle["article_pages_served"] == 0
        else None,
        "crawl_ceiling_pages_per_s": ceiling,
        "crawl_ceiling_ratio": round(ceiling / off["pages_per_s"], 3)
        if ceiling and off["pages_per_s"]
        else None,
    }


def ceiling_pages_per_s(cores: int, cpu_ms_per_page: float | None) -> float | None:
    """The most pages a second these cores could crawl with the pipeline on.

    The crawl with its workers needs `cpu_ms_per_page` of CPU a page (start-up included);
    with every core busy all the time it could go no faster than this, however many
    ingest workers it ran: the bound the on/off ratio meets on a small machine.
    """
    if not cpu_ms_per_page:
        return None
    return round(cores * 1000 / cpu_ms_per_page, 1)

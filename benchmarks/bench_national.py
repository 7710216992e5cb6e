"""The national hour: hundreds of loopback outlets publishing, crawled by the real service.

Each outlet is its own loopback address (127.0.x.y, one port), so per-domain politeness
applies per outlet as it would on the internet. Outlets are of the three kinds Pantau
reads (RSS feed, news sitemap, listing pages only) and publish generated corpus pages at
a realistic rate: most 0-3 articles an hour, a few busy portals 20+. Time is compressed
(`speed`): one simulated hour lasts 3600/speed seconds, and every outlet is crawled once
per simulated hour, as the service's default interval does.

The server runs in its own process (its CPU is not the service's). The service is
`pantau schedule` with a generated config, stopped with SIGTERM after the hour plus one
crawl interval. Figures:
- articles stored of those published during the hour (must be all),
- CPU seconds of the service and every process it started, per simulated hour,
- peak memory of that process tree (and its trend per simulated hour, for long runs),
- lag from publication (the moment the server first shows the article) to stored (p50, p95),
- the floor: the same articles through the ingest pipeline alone in one warm process,
  plus one bare fetch of each outlet's source per interval and of each article.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import multiprocessing
import os
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import yaml

from benchmarks.corpus import OUTLETS, DocEntry, ensure_corpus
from pantau.core.settings import DEFAULT_CONFIG_DIR, PROJECT_ROOT
from pantau.service.usage import descendants

PORT = 18080
KINDS = ("feed", "sitemap", "listing")
KIND_WEIGHTS = (0.5, 0.3, 0.2)
QUIET_RATES = (0, 1, 2, 3)
QUIET_WEIGHTS = (0.3, 0.35, 0.2, 0.15)
BUSY_SHARE = 1 / 60  # ten busy portals among 600 outlets
FEED_ITEMS = 20
LISTING_SIZE = 20


@dataclass(frozen=True)
class Outlet:
    number: int
    kind: str
    rate: int  # articles an hour

    @property
    def id(self) -> str:
        return f"outlet-{self.number:03d}"

    @property
    def host(self) -> str:
        return f"127.0.{1 + self.number // 250}.{1 + self.number % 250}"

    @property
    def base(self) -> str:
        return f"http://{self.host}:{PORT}"


@dataclass(frozen=True)
class Publication:
    outlet: int
    entry: DocEntry
    at: float  # simulated seconds after the start

    @property
    def path(self) -> str:
        return f"/berita/{self.outlet:03d}/{self.entry.index}"


def plan_outlets(count: int, seed: int) -> list[Outlet]:
    rng = random.Random(seed)
    busy = max(1, round(count * BUSY_SHARE))
    outlets = []
    for number in range(count):
        kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
        rate = rng.randint(20, 30) if number < busy else rng.choices(QUIET_RATES, QUIET_WEIGHTS)[0]
        outlets.append(Outlet(number, kind, rate))
    return outlets


def plan_publications(
    outlets: list[Outlet], hours: float, entries: list[DocEntry], seed: int
) -> list[Publication]:
    """Each outlet's articles at uniform random moments of the run, corpus pages in turn."""
    rng = random.Random(seed + 1)
    pages = itertools.cycle(entries)
    publications = []
    for outlet in outlets:
        expected = outlet.rate * hours
        count = int(expected) + (rng.random() < expected % 1)
        for _ in range(count):
            publications.append(
                Publication(outlet.number, next(pages), rng.uniform(0, hours * 3600))
            )
    return sorted(publications, key=lambda p: p.at)


# --- the outlets' server (its own process) -------------------------------------------------


class NationalServer:
    """Serves every outlet from memory; an article appears at its publication moment."""

    def __init__(
        self,
        corpus: Path,
        outlets: list[Outlet],
        publications: list[Publication],
        start: float,
        speed: float,
    ):
        self.outlets = {o.host: o for o in outlets}
        self.start, self.speed = start, speed
        self.by_outlet: dict[int, list[Publication]] = {}
        for publication in publications:
            self.by_outlet.setdefault(publication.outlet, []).append(publication)
        self.bodies = {p.path: self.page(corpus, p) for p in publications}

    def page(self, corpus: Path, publication: Publication) -> bytes:
        body = (corpus / publication.entry.file).read_bytes()
        base = self.outlet_base(publication.outlet)
        for _, _, outlet_base in OUTLETS:
            body = body.replace(outlet_base.encode(), base.encode())
        return body.replace(publication.entry.path.encode(), publication.path.encode())

    def outlet_base(self, number: int) -> str:
        return next(o.base for o in self.outlets.values() if o.number == number)

    def visible(self, outlet: Outlet) -> list[Publication]:
        now = (time.time() - self.start) * self.speed
        shown = [p for p in self.by_outlet.get(outlet.number, []) if p.at <= now]
        return list(reversed(shown))

    def respond(self, outlet: Outlet, path: str) -> tuple[int, str, bytes]:
        visible = self.visible(outlet)
        if path == "/robots.txt":
            return 200, "text/plain", b"User-agent: *\nDisallow: /wp-admin/\n"
        if path in ("/feed/", "/feed") and outlet.kind == "feed":
            return 200, "application/rss+xml", self.feed(outlet, visible[:FEED_ITEMS])
        if path == "/news-sitemap.xml" and outlet.kind == "sitemap":
            return 200, "application/xml", self.sitemap(outlet, visible[: FEED_ITEMS * 5])
        if path == "/" or path.startswith("/indeks"):
            number = int(path.rsplit("/", 1)[-1]) if path[len("/indeks/") :].isdigit() else 1
            chunk = visible[(number - 1) * LISTING_SIZE : number * LISTING_SIZE]
            more = len(visible) > number * LISTING_SIZE
            return 200, "text/html; charset=utf-8", self.listing(outlet, chunk, number, more)
        if path in self.bodies and any(p.path == path for p in visible):
            return 200, "text/html; charset=utf-8", self.bodies[path]
        return 404, "text/html", b"<h1>404</h1>"

    def feed(self, outlet: Outlet, items: list[Publication]) -> bytes:
        body = "".join(
            f"<item><title>{escape(p.entry.title)}</title><link>{outlet.base}{p.path}</link>"
            f"<pubDate>{format_datetime(self.moment(p))}</pubDate></item>"
            for p in items
        )
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>{outlet.id}</title><link>{outlet.base}/</link>{body}</channel></rss>"
        ).encode()

    def sitemap(self, outlet: Outlet, items: list[Publication]) -> bytes:
        body = "".join(
            f"<url><loc>{outlet.base}{p.path}</loc>"
            f"<lastmod>{self.moment(p).isoformat(timespec='seconds')}</lastmod></url>"
            for p in items
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</urlset>'
        ).encode()

    def listing(self, outlet: Outlet, items: list[Publication], number: int, more: bool) -> bytes:
        links = "".join(
            f'<li><a href="{outlet.base}{p.path}">{escape(p.entry.title)}</a></li>' for p in items
        )
        following = f'<a rel="next" href="/indeks/{number + 1}">Berikutnya</a>' if more else ""
        return (
            f'<!DOCTYPE html><html lang="id"><head><title>Indeks {outlet.id}</title></head>'
            f"<body><h1>Indeks Berita</h1><ul>{links}</ul>{following}</body></html>"
        ).encode()

    def moment(self, publication: Publication) -> datetime:
        return datetime.fromtimestamp(self.start + publication.at / self.speed, UTC)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = writer.get_extra_info("sockname")[0]
        outlet = self.outlets[host]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                target = head.split(b" ", 2)[1].decode("latin-1").split("?", 1)[0]
                status, ctype, body = self.respond(outlet, target)
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, IndexError):
            pass
        finally:
            writer.close()

    async def serve(self) -> None:
        servers = [await asyncio.start_server(self.handle, host, PORT) for host in self.outlets]
        await asyncio.gather(*(server.serve_forever() for server in servers))


def serve_outlets(
    corpus: Path, outlets: list[Outlet], publications: list[Publication], start: float, speed: float
) -> None:
    server = NationalServer(corpus, outlets, publications, start, speed)
    asyncio.run(server.serve())


# --- the service under test ----------------------------------------------------------------


def write_config(directory: Path, workdir: Path, outlets: list[Outlet], interval_s: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for item in DEFAULT_CONFIG_DIR.iterdir():
        if item.name not in ("settings.yaml", "sites.yaml", "offices.yaml"):
            (directory / item.name).symlink_to(item)
    settings = {
        "db_path": str(workdir / "national.db"),
        "crawl_state_dir": str(workdir / "crawl-state"),
        "outbox_dir": str(workdir / "outbox"),
        "crawl": {"download_delay": 0.1, "jitter_seconds": interval_s, "retry_times": 1},
    }
    (directory / "settings.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    (directory / "offices.yaml").write_text("offices: []\n", encoding="utf-8")
    sites = [site_entry(outlet, site_interval(outlet, interval_s)) for outlet in outlets]
    (directory / "sites.yaml").write_text(yaml.safe_dump({"sites": sites}), encoding="utf-8")


def site_interval(outlet: Outlet, interval_s: int) -> int:
    """A busy portal (20+ articles an hour) is crawled every quarter hour, as an operator
    would set it: hourly, its feed (the newest 20) would drop articles between crawls."""
    return interval_s // 4 if outlet.rate >= 20 else interval_s


def site_entry(outlet: Outlet, interval_s: int) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": outlet.id,
        "name": f"Outlet {outlet.number}",
        "url": outlet.base + "/",
        "article_pattern": r"/berita/\d{3}/\d+$",
        "interval_seconds": interval_s,
    }
    if outlet.kind == "feed":
        entry["feeds"] = [outlet.base + "/feed/"]
    elif outlet.kind == "sitemap":
        entry["sitemaps"] = [outlet.base + "/news-sitemap.xml"]
    else:
        entry["listings"] = [outlet.base + "/indeks/1"]
    return entry


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants."""
    total_kb = 0
    for proc in [pid, *descendants(pid)]:
        try:
            for line in Path(f"/proc/{proc}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return total_kb / 1024


def run_service(config: Path, duration_s: float, speed: float, log: Path) -> dict[str, Any]:
    """The service's log goes to a file: a pipe nobody reads while it runs fills up and
    blocks the service's logging, and with it every crawl."""
    env = {**os.environ, "PANTAU_CONFIG": str(config), "PYTHONPATH": str(PROJECT_ROOT)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "pantau.cli", "schedule"],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=handle,
        )
        memory: list[tuple[float, float]] = []
        while time.time() - started < duration_s and process.poll() is None:
            memory.append(((time.time() - started) * speed / 3600, tree_rss_mb(process.pid)))
            time.sleep(1)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "cpu_s": cpu,
        "wall_s": time.time() - started,
        "memory": memory,
        "returncode": process.returncode,
        "stderr_tail": log.read_text(encoding="utf-8", errors="replace")[-2000:],
    }


def stored_times(db_path: Path) -> dict[str, float]:
    if not db_path.exists():
        return {}
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("select url, fetched_at from articles").fetchall()
    return {url: datetime.fromisoformat(at).timestamp() for url, at in rows}


# --- the floor ------------------------------------------------------------------------------


def floor_cpu(
    outlets: list[Outlet], publications: list[Publication], corpus: Path, hours: float
) -> float:
    """CPU of the least a warm process must do: fetch each source once per interval and each
    article once, and run the ingest pipeline over the articles."""
    from extract.models import Page
    from extract.text import extract_article
    from pantau.core import store
    from pantau.core.settings import load_settings
    from pantau.ingest import Ingestor

    server = NationalServer(corpus, outlets, publications, time.time() - hours * 3600, 1)
    with tempfile.TemporaryDirectory() as tmp:
        db = store.open_db(Path(tmp) / "floor.db")
        ingestor = Ingestor(db, load_settings())
        warm_up = (corpus / publications[0].entry.file).read_bytes() if publications else b""
        if warm_up:  # lazily loaded models (language, extraction) load outside the timing
            ingestor.detector.analyze(extract_article(warm_up, "https://warm.example/0"))
        started = time.process_time()
        for outlet in outlets:
            for _ in range(max(1, round(hours))):
                server.respond(outlet, source_path(outlet))
        for publication in publications:
            outlet = outlets[publication.outlet]
            _, _, body = server.respond(outlet, publication.path)
            page = Page(outlet.base + publication.path, body, outlet.id, datetime.now(UTC))
            with contextlib.suppress(Exception):  # an unusable page still cost its CPU
                ingestor.ingest_page(page)
        serving = time.process_time() - started
    return serving + bare_fetch_cpu(len(outlets) * max(1, round(hours)) + len(publications))


def source_path(outlet: Outlet) -> str:
    return {"feed": "/feed/", "sitemap": "/news-sitemap.xml", "listing": "/indeks/1"}[outlet.kind]


def bare_fetch_cpu(count: int) -> float:
    """Client CPU of `count` plain HTTP GETs of a 100 KB page on loopback."""
    body = b"x" * 100_000

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    sample = min(count, 300)
    started = time.process_time()
    for _ in range(sample):
        with urllib.request.urlopen(url) as response:
            response.read()
    per_fetch = (
        time.process_time() - started
    ) / sample  # includes the server thread: an upper bound
    httpd.shutdown()
    return per_fetch * count


# --- the whole run --------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run(
    outlets_count: int = 600, hours: float = 1.0, speed: float = 10.0, seed: int = 7
) -> dict[str, Any]:
    """Outlets publish for the whole run, so the service is measured in its steady state.

    The articles that must be stored are those published in the first `hours`: each then
    had at least one crawl interval to be found before the service is stopped. CPU and the
    floor are per simulated hour of the whole run (the service's start-up included).
    """
    outlets = plan_outlets(outlets_count, seed)
    corpus, entries = ensure_corpus(600)
    interval_s = max(5, round(3600 / speed))
    run_s = hours * 3600 / speed + interval_s + 30
    run_hours = run_s * speed / 3600
    publications = plan_publications(outlets, run_hours, entries, seed)
    due = [p for p in publications if p.at <= hours * 3600]
    start = time.time() + 5
    server = multiprocessing.get_context("fork").Process(
        target=serve_outlets, args=(corpus, outlets, publications, start, speed), daemon=True
    )
    server.start()
    with tempfile.TemporaryDirectory(prefix="pantau-national-") as tmp:
        workdir = Path(tmp)
        write_config(workdir / "config", workdir, outlets, interval_s)
        time.sleep(max(0.0, start - time.time()))
        log = Path(os.environ.get("PANTAU_BENCH_LOG", workdir / "service.log"))
        result = run_service(workdir / "config", run_s, speed, log)
        stored = stored_times(workdir / "national.db")
    server.terminate()
    lags, missing = [], []
    for publication in due:
        outlet = outlets[publication.outlet]
        url = outlet.base + publication.path
        if url in stored:
            lags.append(stored[url] - (start + publication.at / speed))
        else:
            missing.append(missing_entry(outlet, publication))
    simulated_hours = result["wall_s"] * speed / 3600
    floor = floor_cpu(outlets, publications, corpus, run_hours)
    return {
        "outlets": outlets_count,
        "kinds": {kind: sum(o.kind == kind for o in outlets) for kind in KINDS},
        "hours": hours,
        "speed": speed,
        "interval_s": interval_s,
        "simulated_hours_run": round(simulated_hours, 2),
        "national_articles_published": len(due),
        "national_articles_stored": len(lags),
        "national_cpu_s_per_hour": round(result["cpu_s"] / simulated_hours, 1),
        "national_floor_cpu_s": round(floor / run_hours, 1),
        "national_lag_p50_s": rounded(percentile(lags, 0.5)),
        "national_lag_p95_s": rounded(percentile(lags, 0.95)),
        "national_lag_p95_simulated_min": (
            round(percentile(lags, 0.95) * speed / 60, 1) if lags else None
        ),
        "national_peak_mb": round(max((mb for _, mb in result["memory"]), default=0.0), 1),
        "memory_by_simulated_hour": memory_trend(result["memory"]),
        "national_memory_mb_per_hour": memory_slope(result["memory"]),
        "missing": missing[:20],
        "service_returncode": result["returncode"],
        "service_stderr_tail": result["stderr_tail"][-500:],
    }


def missing_entry(outlet: Outlet, publication: Publication) -> dict[str, Any]:
    """What tracing an unstored article needs: its outlet, kind, rate and moment (the
    service log has each crawl of the outlet and what it found)."""
    return {
        "outlet": outlet.id,
        "kind": outlet.kind,
        "rate": outlet.rate,
        "published_simulated_min": round(publication.at / 60, 1),
    }


def rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def memory_trend(samples: list[tuple[float, float]]) -> list[float]:
    """Peak tree memory in each simulated hour (flat over hours: no growth)."""
    peaks: dict[int, float] = {}
    for hour, mb in samples:
        peaks[int(hour)] = max(peaks.get(int(hour), 0.0), mb)
    return [round(peaks[h], 1) for h in sorted(peaks)]


def memory_slope(samples: list[tuple[float, float]]) -> float | None:
    """Least-squares growth of tree memory in MB per simulated hour, after the first
    interval (the ingest workers load their models then): near 0 when memory is flat."""
    warm = [(hour, mb) for hour, mb in samples if hour >= 1.0]
    if len(warm) < 10:
        return None
    mean_h = sum(h for h, _ in warm) / len(warm)
    mean_mb = sum(mb for _, mb in warm) / len(warm)
    spread = sum((h - mean_h) ** 2 for h, _ in warm)
    if spread == 0:
        return None
    return round(sum((h - mean_h) * (mb - mean_mb) for h, mb in warm) / spread, 1)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outlets", type=int, default=600)
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--speed", type=float, default=10.0, help="simulated seconds per second")
    parser.add_argument("--write", type=Path, help="merge the national keys into this JSON file")
    args = parser.parse_args()
    figures = run(args.outlets, args.hours, args.speed)
    print(json.dumps(figures, indent=2))
    if args.write:
        write_results(args.write, figures)


def write_results(path: Path, figures: dict[str, Any]) -> None:
    """Keep every other key of the results file; the national run sits under its keys."""
    results = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    results.update({key: value for key, value in figures.items() if key.startswith("national_")})
    results["national_run"] = {k: v for k, v in figures.items() if not k.startswith("national_")}
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

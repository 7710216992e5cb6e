"""A real HTTP server on 127.0.0.1 serving a fixture site, with faults on demand.

Usage::

    from loopback import Fault, serve_site   # tests/ is on sys.path under pytest

    faults = {"/feed/": Fault(status=503, times=2)}
    with serve_site(FIXTURES / "sites" / "wordpress", faults) as site:
        site            # the base URL, e.g. "http://127.0.0.1:40123" (a str)
        site.url        # the same
        site.requests   # every request served so far: list of Hit(path, query, headers, status)
        site.files      # the served files by relative path (mutable: edit the site mid-test)

The site is a folder (or a dict ``{"/path": body}``). A URL path maps to a file:

- ``/a/b.html`` -> ``a/b.html``; ``/a/b/`` -> ``a/b/index.html`` (or index.xml / index.txt);
- ``/a/b`` answers 301 to ``/a/b/`` when only the folder exists, as WordPress does;
- a query string maps to ``name@query.ext``: ``/k/?page=2`` -> ``k/index@page=2.html``;
  an unknown query (``?utm_source=x``) falls back to the page without it, as real sites do.
- ``{{BASE}}`` inside a served file is replaced by the base URL, so feeds and sitemaps can carry
  absolute links to the loopback port.

Every file is served with an ETag and a Last-Modified header and answers conditional requests
with 304, like a well-behaved WordPress host.

Faults (``Fault``) are keyed by path (with the query when it matters); see its fields.
The server is threaded, so a slow response never blocks the others.
"""

from __future__ import annotations

import hashlib
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".gz": "application/x-gzip",
}
LAST_MODIFIED = "Wed, 24 Apr 2024 06:00:00 GMT"
INDEX_NAMES = ("index.html", "index.xml", "index.txt")


@dataclass
class Fault:
    """What to do instead of (or before) serving a path normally.

    status/times: answer `status` for the first `times` requests (times=0: always), then serve.
    delay: sleep this many seconds before answering (a slow host).
    redirect: answer 302 to this location (a path or URL); two faults pointing at each other
      make a redirect loop.
    content_type: send this Content-Type instead (e.g. a wrong charset declaration).
    huge_bytes: stream a body of this many bytes of filler HTML (with Content-Length unless
      chunked=True, which sends it without a length, as a misbehaving CMS would).
    headers: extra response headers (Retry-After, Content-Encoding...), sent with `status`
      answers and with `body`.
    body: answer 200 with these bytes, or with what this function of the query string
      returns (an endless ?page=N listing, a generator of sitemaps).
    """

    status: int | None = None
    times: int = 0
    delay: float = 0.0
    redirect: str | None = None
    content_type: str | None = None
    huge_bytes: int = 0
    chunked: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Callable[[str], bytes] | None = None
    hits: int = field(default=0, init=False)


@dataclass(frozen=True)
class Hit:
    path: str
    query: str
    headers: dict[str, str]
    status: int
    at: float = 0.0  # time.monotonic() when answered


class LoopbackSite(str):
    """The base URL (a str) with the log of requests the server answered."""

    url: str
    requests: list[Hit]
    files: dict[str, bytes]  # what is served, by relative path: change it to change the site
    faults: dict[str, Fault]  # live too: add or remove faults between crawls

    def paths(self) -> list[str]:
        return [h.path + (f"?{h.query}" if h.query else "") for h in self.requests]


def load_files(root: Path | Mapping[str, str | bytes]) -> dict[str, bytes]:
    if isinstance(root, Mapping):
        return {
            key.lstrip("/"): value.encode("utf-8") if isinstance(value, str) else value
            for key, value in root.items()
        }
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def content_type_for(name: str) -> str:
    suffix = Path(name.split("@")[0] if "@" in name else name).suffix or Path(name).suffix
    return CONTENT_TYPES.get(suffix, CONTENT_TYPES.get(Path(name).suffix, "text/html"))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A client hanging up (a cancelled download, a timeout) is expected here."""

    def __init__(self, files: dict[str, bytes], faults: dict[str, Fault]):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files = files
        self.faults = faults
        self.hits: list[Hit] = []
        self.lock = threading.Lock()
        self.base = f"http://127.0.0.1:{self.server_address[1]}"

    def resolve(self, path: str, query: str) -> str | None:
        relative = path.lstrip("/")
        candidates: list[str] = []
        if relative == "" or relative.endswith("/"):
            for index in INDEX_NAMES:
                stem, ext = index.rsplit(".", 1)
                if query:
                    candidates.append(f"{relative}{stem}@{query}.{ext}")
                candidates.append(relative + index)
        else:
            if query:
                stem, dot, ext = relative.rpartition(".")
                if dot:
                    candidates.append(f"{stem}@{query}.{ext}")
            candidates.append(relative)
        # A query-specific file first, then the plain page (unknown queries are ignored).
        ordered = [c for c in candidates if "@" in c] + [c for c in candidates if "@" not in c]
        return next((c for c in ordered if c in self.files), None)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet: tests read `site.requests` instead."""

    def do_HEAD(self) -> None:  # noqa: N802
        self.do_GET(head=True)

    def do_GET(self, head: bool = False) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        path, query = parts.path or "/", parts.query
        fault = self.server.faults.get(f"{path}?{query}") if query else None
        fault = fault or self.server.faults.get(path)
        status = self._respond(path, query, fault, head)
        with self.server.lock:
            hit = Hit(path, query, dict(self.headers.items()), status, time.monotonic())
            self.server.hits.append(hit)

    def _respond(self, path: str, query: str, fault: Fault | None, head: bool) -> int:
        if fault is not None:
            with self.server.lock:
                fault.hits += 1
                hit_number = fault.hits
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status is not None and (fault.times == 0 or hit_number <= fault.times):
                error = b"<html><body>error</body></html>"
                return self._send(fault.status, error, "text/html", fault.headers)
            if fault.redirect is not None:
                location = fault.redirect
                if location.startswith("/"):
                    location = self.server.base + location
                return self._send(302, b"", "text/html", {"Location": location})
            if fault.huge_bytes:
                return self._send_huge(fault)
            if fault.body is not None:
                body = fault.body(query) if callable(fault.body) else fault.body
                body = body.replace(b"{{BASE}}", self.server.base.encode())
                content_type = fault.content_type or "text/html; charset=utf-8"
                return self._send(200, b"" if head else body, content_type, fault.headers)
        name = self.server.resolve(path, query)
        if name is None and not path.endswith("/") and self.server.resolve(path + "/", ""):
            # As WordPress does: /slug -> 301 /slug/ (keeping the query).
            location = self.server.base + path + "/" + (f"?{query}" if query else "")
            return self._send(301, b"", "text/html", {"Location": location})
        if name is None:
            return self._send(404, b"<html><body>not found</body></html>", "text/html")
        body = self.server.files[name].replace(b"{{BASE}}", self.server.base.encode())
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag or (
            self.headers.get("If-Modified-Since") == LAST_MODIFIED
            and "If-None-Match" not in self.headers
        ):
            return self._send(304, b"", None, {"ETag": etag, "Last-Modified": LAST_MODIFIED})
        content_type = (fault.content_type if fault else None) or content_type_for(name)
        headers = {"ETag": etag, "Last-Modified": LAST_MODIFIED}
        return self._send(200, b"" if head else body, content_type, headers)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str | None,
        headers: dict[str, str] | None = None,
    ) -> int:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)
        return status

    def _send_huge(self, fault: Fault) -> int:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if fault.chunked:
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(fault.huge_bytes))
        self.end_headers()
        chunk = b"<p>" + b"isi " * 16382 + b"</p>\n"
        sent = 0
        try:
            while sent < fault.huge_bytes:
                piece = chunk[: fault.huge_bytes - sent]
                self.wfile.write(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should
        return 200


@contextmanager
def serve_site(
    root: Path | Mapping[str, str | bytes], faults: Mapping[str, Fault] | None = None
) -> Iterator[LoopbackSite]:
    """Serve `root` on 127.0.0.1 (free port) in a background thread for the `with` block."""
    server = _Server(load_files(root), dict(faults or {}))
    thread = threading.Thread(target=server.serve_forever, name="loopback-http", daemon=True)
    thread.start()
    site = LoopbackSite(server.base)
    site.url = server.base
    site.requests = server.hits
    site.files = server.files
    site.faults = server.faults
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- running pantau against loopback sites ---------------------------------------------

PROJECT = Path(__file__).resolve().parent.parent
PANTAU = PROJECT / ".venv" / "bin" / "pantau"

FAST_CRAWL = {
    "download_delay": 0,
    "download_timeout": 3,
    "retry_times": 2,
    "redirect_max": 3,
    "max_body_bytes": 200_000,
    "concurrent_per_domain": 4,
    "autothrottle_max_delay": 0.5,
}


def write_config(
    directory: Path,
    sites: list[dict[str, object]],
    crawl: Mapping[str, object] | None = None,
    **settings: object,
) -> Path:
    """A config dir (settings.yaml + sites.yaml) for PANTAU_CONFIG, with fast crawl limits.

    `crawl` overrides FAST_CRAWL keys; other keyword arguments are top-level settings.
    Runtime files (db, crawl state) default to inside `directory`.
    """
    import yaml

    directory.mkdir(parents=True, exist_ok=True)
    values: dict[str, object] = {
        "db_path": str(directory / "pantau.db"),
        "crawl_state_dir": str(directory / "crawl-state"),
        "outbox_dir": str(directory / "outbox"),
        "crawl": {**FAST_CRAWL, **(crawl or {})},
        **settings,
    }
    (directory / "settings.yaml").write_text(yaml.safe_dump(values), encoding="utf-8")
    (directory / "sites.yaml").write_text(yaml.safe_dump({"sites": sites}), encoding="utf-8")
    return directory


def pantau_env(config: Path) -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["PANTAU_CONFIG"] = str(config)
    env.pop("PANTAU_DB", None)
    return env


def run_pantau(config: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`pantau ARGS...` in a subprocess with PANTAU_CONFIG=config (Scrapy needs a fresh process)."""
    return subprocess.run(
        [str(PANTAU), *args],
        env=pantau_env(config),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=PROJECT,
    )


NEWS_PARAGRAPH = (
    "Panitia pengawas kecamatan di Kabupaten Kepahiang mencatat laporan warga yang masuk "
    "pekan ini terkait persiapan pemungutan suara di desa {n}, dan petugas menelusuri "
    "setiap laporan sebelum memutuskan langkah lanjutan bersama aparat setempat."
)


def news_site(name: str, articles: int = 2) -> dict[str, str]:
    """A small outlet: a feed listing `articles` pages of plain Indonesian reporting."""
    items, files = "", {"/robots.txt": "User-agent: *\nAllow: /\n"}
    for n in range(articles):
        path = f"/berita/{name}-{n}.html"
        title = f"Laporan warga {name} nomor {n}"
        items += f"<item><title>{title}</title><link>{{{{BASE}}}}{path}</link></item>"
        body = "".join(f"<p>{NEWS_PARAGRAPH.format(n=f'{name}-{n}-{k}')}</p>" for k in range(4))
        files[path] = (
            f'<!doctype html><html lang="id"><head><meta charset="utf-8"><title>{title}</title>'
            f"</head><body><article><h1>{title}</h1>{body}</article></body></html>"
        )
    files["/feed/index.xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>x</title>'
        f"<link>{{{{BASE}}}}/</link>{items}</channel></rss>"
    )
    return files

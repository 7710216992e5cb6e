"""Builders shared by the workspace tests (no tests here): a real server, accounts, logins.

The workspace runs under uvicorn on 127.0.0.1, on a socket the test binds itself, in a
thread; pages are fetched over real HTTP (httpx here, chromium in the browser tests). The
stories are the digest tests' fixtures (tests/fixtures/alerts/stories.yaml), whose areas
are known: Kepahiang 17.08, Kota Bengkulu 17.71, Klaten 33.10, one without a region.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import uvicorn
from sqlite_utils import Database
from test_alerts_support import fixture_offices

from pantau.core.settings import OfficeConfig
from pantau.core.store import accounts
from pantau.workspace.app import WorkspaceConfig, create_app

PASSWORD = "rahasia-kantor-1"
EMAILS = {
    "ri": "analis@bawaslu-ri.example.id",
    "prov-17": "ppp@bengkulu.example.id",
    "kabkota-17.08": "hpp@kepahiang.example.id",
    "kabkota-33.10": "hpp@klaten.example.id",
}
CHEAP_HASH = 2**10  # scrypt N for test accounts: the real cost is stored per hash anyway
FAST_LOCKOUT = accounts.Lockout(failures=3, window=timedelta(minutes=15))


@dataclass
class RunningWorkspace:
    url: str
    server: uvicorn.Server


def workspace_config(db_path: Path, offices: list[OfficeConfig] | None = None) -> WorkspaceConfig:
    return WorkspaceConfig(
        db_path=db_path,
        offices=offices or fixture_offices(),
        secret_key="test-secret-key-for-the-workspace",
        page_size=3,
        lockout=FAST_LOCKOUT,
    )


@contextmanager
def serve_workspace(config: WorkspaceConfig) -> Iterator[RunningWorkspace]:
    """The app under uvicorn on a loopback port; stopped (and joined) on exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(config), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the workspace did not start")
        time.sleep(0.02)
    try:
        yield RunningWorkspace(url=f"http://127.0.0.1:{port}", server=server)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def add_accounts(db: Database, *office_ids: str) -> None:
    for office_id in office_ids or tuple(EMAILS):
        accounts.add_account(db, EMAILS[office_id], office_id, PASSWORD, cost=CHEAP_HASH)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, follow_redirects=False, timeout=10)


def log_in(url: str, office_id: str, password: str = PASSWORD) -> httpx.Client:
    """A client with a session for the office's account (asserts the login worked)."""
    browser = client(url)
    response = try_login(browser, EMAILS[office_id], password)
    assert response.status_code == 303, response.text
    return browser


def try_login(browser: httpx.Client, email: str, password: str) -> httpx.Response:
    token = csrf_of(browser.get("/login").text)
    return browser.post("/login", data={"email": email, "password": password, "csrf": token})


def review(browser: httpx.Client, cluster_id: int, action: str, **fields: str) -> httpx.Response:
    token = csrf_of(browser.get(f"/findings/{cluster_id}").text)
    return browser.post(
        f"/findings/{cluster_id}/review", data={"csrf": token, "aksi": action, **fields}
    )

"""`pantau demo` end to end: served, crawled, detected, clustered, digested, delivered once."""

from __future__ import annotations

import email
import email.policy
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from test_demo_site import free_port_base

from alerts.selection import best_findings
from pantau.core import store
from pantau.demo.data import load_demo

PROJECT = Path(__file__).resolve().parent.parent
PANTAU = Path(sys.executable).parent / "pantau"


def run_demo(tmp_path: Path, port_base: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(PANTAU),
            "demo",
            "--db",
            str(tmp_path / "pantau.db"),
            "--outbox",
            str(tmp_path / "outbox"),
            "--port-base",
            str(port_base),
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("demo")
    port_base = free_port_base()
    first = run_demo(tmp_path, port_base)
    second = run_demo(tmp_path, port_base)
    return tmp_path, first, second


def norm(name: str) -> str:
    return " ".join(name.lower().split())


def names_match(expected: str, label: str) -> bool:
    """'Dedi Setiawan' matches 'Bripka Dedi Setiawan' and 'Dedi' (either contains the other)."""
    a, b = norm(expected), norm(label)
    return len(b) >= 4 and (a in b or b in a)


def digests_sent(db_path: Path) -> list[dict]:
    with sqlite3.connect(db_path) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("select * from digests where status = 'sent'")]


def accused_per_office(db_path: Path) -> dict[str, list[str]]:
    """The accused each office's digests named: the best finding of every story sent to it."""
    db = store.open_db(db_path)
    named: dict[str, list[str]] = {}
    try:
        sent = db.execute("select office, cluster_id from deliveries where status = 'sent'")
        clusters: dict[str, list[int]] = {}
        for office, cluster_id in sent.fetchall():
            clusters.setdefault(office, []).append(cluster_id)
        for office, ids in clusters.items():
            for row in best_findings(db, threshold=0.0, cluster_ids=ids).values():
                officials = json.loads(row["officials"] or "[]")
                named.setdefault(office, []).extend(o.get("name") or "" for o in officials)
    finally:
        db.close()
    return named


def expected_for(office, articles) -> tuple[set[str], set[str]]:
    accused: set[str] = set()
    quoted: set[str] = set()
    for article in articles:
        region = article.meta.region or ""
        inside = not office.regions or any(
            region == code or region.startswith(code + ".") for code in office.regions
        )
        if inside and article.meta.expect == "breach":
            accused |= set(article.meta.accused)
        quoted |= set(article.meta.quoted)
    return accused, quoted


@pytest.mark.slow
def test_first_run_delivers_a_digest_to_every_office(two_runs):
    tmp_path, first, _ = two_runs
    assert first.returncode == 0, first.stderr
    demo = load_demo()
    sent = {d["office"] for d in digests_sent(tmp_path / "pantau.db")}
    assert sent == {office.id for office in demo.offices}
    emls = list((tmp_path / "outbox").rglob("*.eml"))
    assert len(emls) == len(sent)
    assert f"{len(sent)} message(s) received by the SMTP sink" in first.stdout


@pytest.mark.slow
def test_digests_name_every_accused_and_none_of_the_quoted(two_runs):
    tmp_path, first, _ = two_runs
    assert first.returncode == 0, first.stderr
    demo = load_demo()
    named = accused_per_office(tmp_path / "pantau.db")
    for office in demo.offices:
        accused, quoted = expected_for(office, demo.articles)
        labels = named.get(office.id, [])
        missing = [n for n in accused if not any(names_match(n, label) for label in labels)]
        wrongly = [n for n in quoted if any(names_match(n, label) for label in labels)]
        assert not missing, f"{office.id} digest misses {missing} (named {labels})"
        assert not wrongly, f"{office.id} digest accuses quoted {wrongly}"


@pytest.mark.slow
def test_each_digest_message_names_its_accused(two_runs):
    tmp_path, first, _ = two_runs
    assert first.returncode == 0, first.stderr
    demo = load_demo()
    for office in demo.offices:
        accused, _ = expected_for(office, demo.articles)
        [eml] = list((tmp_path / "outbox").rglob(f"{office.id}-*.eml"))
        message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        text = " ".join(
            part.get_content() for part in message.walk() if part.get_content_maintype() == "text"
        )
        for name in accused:
            assert name in text, f"{office.id}: {name}"


@pytest.mark.slow
def test_second_run_finds_everything_known_and_delivers_nothing(two_runs):
    tmp_path, first, second = two_runs
    assert second.returncode == 0, second.stderr
    assert "0 digest(s) sent, 0 message(s) received" in second.stdout
    assert len(digests_sent(tmp_path / "pantau.db")) == len(load_demo().offices)
    with sqlite3.connect(tmp_path / "pantau.db") as conn:
        runs = conn.execute("select articles_new from crawl_runs order by id").fetchall()
    assert sum(n for (n,) in runs[len(runs) // 2 :]) == 0


@pytest.mark.slow
def test_the_demo_says_how_to_open_the_workspace_with_a_working_demo_account(two_runs):
    from pantau.commands.workspace import DEMO_EMAIL, DEMO_PASSWORD
    from pantau.core.store import accounts

    tmp_path, first, second = two_runs
    assert (
        "pantau serve --db" in first.stdout and "--offices data/demo/offices.yaml" in first.stdout
    )
    assert f"{DEMO_EMAIL} / {DEMO_PASSWORD}" in second.stdout
    db = store.open_db(tmp_path / "pantau.db")
    try:
        account = accounts.log_in(db, DEMO_EMAIL, DEMO_PASSWORD).account
    finally:
        db.close()
    assert account is not None
    assert account.office in {office.id for office in load_demo().offices}

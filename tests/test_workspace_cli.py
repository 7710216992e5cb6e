"""`pantau users`, `pantau serve` and `pantau feedback export` from the command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_alerts_support import ALERTS_FIXTURES, load_fixture_stories
from typer.testing import CliRunner

from extract.evaluate import evaluate_directory, load_labels
from extract.text import read_document
from pantau.commands import app
from pantau.core.settings import PantauError
from pantau.core.store import accounts, reviews


@pytest.fixture(autouse=True)
def config(tmp_path: Path, monkeypatch) -> Path:
    directory = tmp_path / "config"
    directory.mkdir()
    shutil.copy(ALERTS_FIXTURES / "offices.yaml", directory / "offices.yaml")
    (directory / "sites.yaml").write_text("sites: []\n", encoding="utf-8")
    monkeypatch.setenv("PANTAU_CONFIG", str(directory))
    return directory


def invoke(*args: str, stdin: str | None = None):
    return CliRunner().invoke(app, list(args), input=stdin, catch_exceptions=False)


def test_users_add_reads_the_password_from_standard_input(db, db_path):
    result = invoke(
        "users",
        "add",
        "HPP@kepahiang.example.id",
        "--office",
        "kabkota-17.08",
        "--db",
        str(db_path),
        stdin="sandi-panjang-1\n",
    )
    assert result.exit_code == 0, result.output
    assert "Bawaslu Kabupaten Kepahiang" in result.output
    assert accounts.log_in(db, "hpp@kepahiang.example.id", "sandi-panjang-1").ok


def test_users_add_refuses_an_office_missing_from_offices_yaml(db_path):
    with pytest.raises(PantauError, match="no office with id 'kabkota-99.99'"):
        invoke(
            "users",
            "add",
            "a@b.example.id",
            "--office",
            "kabkota-99.99",
            "--db",
            str(db_path),
            stdin="sandi-panjang-1\n",
        )


def test_users_passwd_sets_a_new_password_and_users_list_shows_the_account(db, db_path):
    accounts.add_account(db, "a@b.example.id", "prov-17", "sandi-panjang-1", cost=2**10)
    result = invoke(
        "users", "passwd", "a@b.example.id", "--db", str(db_path), stdin="sandi-baru-panjang\n"
    )
    assert result.exit_code == 0, result.output
    assert accounts.log_in(db, "a@b.example.id", "sandi-baru-panjang").ok
    listing = invoke("users", "list", "--db", str(db_path)).output
    assert "a@b.example.id" in listing and "Bawaslu Provinsi Bengkulu" in listing


def test_commands_that_need_an_existing_database_refuse_a_missing_one(tmp_path):
    missing = tmp_path / "nowhere" / "pantau.db"
    for args in (["serve"], ["users", "list"], ["feedback", "export", str(tmp_path / "out")]):
        with pytest.raises(PantauError, match="no such database"):
            invoke(*args, "--db", str(missing))
    assert not missing.exists()


def test_feedback_export_writes_reviewed_stories_in_the_format_pantau_eval_reads(
    db, db_path, tmp_path, detector
):
    clusters = load_fixture_stories(db)
    reviews.record(db, clusters["sekda-kepahiang"], "confirm", reviewer="a", office="ri")
    reviews.record(
        db, clusters["kades-klaten"], "dismiss", reason="wrong_person", reviewer="a", office="ri"
    )
    reviews.record(db, clusters["camat-bengkulu"], "note", note="nanti", reviewer="a", office="ri")
    out = tmp_path / "feedback"
    result = invoke("feedback", "export", str(out), "--db", str(db_path))
    assert result.exit_code == 0, result.output
    labels = {item["id"]: item for item in load_labels(out)}
    by_story: dict[int, list[dict]] = {}
    for item in labels.values():
        by_story.setdefault(item["review"]["story"], []).append(item)
    assert set(by_story) == {clusters["sekda-kepahiang"], clusters["kades-klaten"]}
    assert len(by_story[clusters["sekda-kepahiang"]]) == 3  # one per outlet
    confirmed = by_story[clusters["sekda-kepahiang"]][0]
    assert confirmed["label"] == "breach"
    assert confirmed["officials"][0]["name"] == "Darmawan"
    assert confirmed["region"]["code"] == "17.08"
    wrong = by_story[clusters["kades-klaten"]][0]
    assert wrong["label"] == "breach" and wrong["officials"] == []
    assert wrong["not_accused"] == ["Sutrisno (Kepala Desa Karanganom)"]
    title, article = read_document(out / f"{confirmed['id']}.txt")
    assert article.title and "Sekda Kepahiang" in article.title
    report = evaluate_directory(out, detector)
    assert report.metrics()["items"] == len(labels)
    json.dumps(report.to_dict())


def test_pantau_serve_answers_on_loopback_and_keeps_its_session_key_beside_the_database(
    db, db_path, config
):
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PANTAU_CONFIG": str(config)}
    env.pop("PANTAU_WORKSPACE_SECRET", None)
    command = [sys.executable, "-m", "pantau.cli", "serve", "--port", str(port)]
    offices = str(ALERTS_FIXTURES / "offices.yaml")  # as the demo's hint passes its own
    server = subprocess.Popen([*command, "--db", str(db_path), "--offices", offices], env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/findings", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    key = db_path.with_name(db_path.name + ".workspace-key")
    assert key.stat().st_mode & 0o777 == 0o600

"""`pantau digest` and `pantau offices`: options, summary, exit codes, concurrent processes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from smtp_server import SmtpServer, free_port
from test_alerts_support import ALERTS_FIXTURES, load_fixture_stories
from typer.testing import CliRunner

import pantau.commands.alerts  # noqa: F401  (registers the commands)
from alerts.digest import DigestError
from pantau.commands import app

OFFICES = str(ALERTS_FIXTURES / "offices.yaml")
# Only the alerts commands: a process starts in well under a second without spaCy and Scrapy.
PANTAU = [
    sys.executable,
    "-c",
    "import pantau.commands.alerts; from pantau.commands import app; app()",
]


@pytest.fixture
def config(tmp_path: Path, monkeypatch) -> Path:
    """A config dir whose settings keep the outbox inside tmp_path."""
    directory = tmp_path / "config"
    directory.mkdir()
    (directory / "settings.yaml").write_text(
        f"outbox_dir: {tmp_path / 'outbox'}\nsmtp:\n  timeout: 5\n", encoding="utf-8"
    )
    monkeypatch.setenv("PANTAU_CONFIG", str(directory))
    monkeypatch.delenv("PANTAU_SMTP_PASSWORD", raising=False)
    return directory


@pytest.fixture
def stored(db, db_path: Path) -> Path:
    load_fixture_stories(db)
    return db_path


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_dry_run_writes_files_sends_nothing_and_summarises_each_office(
    config, stored, tmp_path, monkeypatch
):
    with SmtpServer() as server:
        monkeypatch.setenv("PANTAU_SMTP_PORT", str(server.port))
        out = tmp_path / "preview"
        result = invoke(
            "digest", "--dry-run", "--out", str(out), "--offices", OFFICES, "--db", str(stored)
        )
    assert result.exit_code == 0, result.output
    assert server.messages == []
    assert len(list(out.glob("*.eml"))) == 4 and len(list(out.glob("*.html"))) == 4
    assert "4 dry-run, 1 skipped" in result.output
    assert "kabkota-17.01" in result.output


def test_digest_sends_through_the_server_named_in_the_environment(config, stored, monkeypatch):
    with SmtpServer() as server:
        monkeypatch.setenv("PANTAU_SMTP_PORT", str(server.port))
        first = invoke("digest", "--office", "prov-17", "--offices", OFFICES, "--db", str(stored))
        second = invoke("digest", "--office", "prov-17", "--offices", OFFICES, "--db", str(stored))
    assert first.exit_code == 0, first.output
    assert "1 sent" in first.output
    assert "1 nothing-new" in second.output
    assert len(server.messages) == 1


def test_an_smtp_reply_in_brackets_is_shown_as_text_by_digest_and_digest_log(
    config, stored, monkeypatch
):
    reply = "550 5.1.1 [humas] ditolak [/] [link=http://x.example]klik[/link]"
    with SmtpServer(refuse={"humas@ri.example.id"}, refusal=reply) as server:
        monkeypatch.setenv("PANTAU_SMTP_PORT", str(server.port))
        sent = invoke("digest", "--office", "ri", "--offices", OFFICES, "--db", str(stored))
    logged = invoke("digest-log", "--db", str(stored))
    assert sent.exit_code == 0, sent.output
    assert "1 sent" in sent.output and "[humas]" in sent.output
    assert logged.exit_code == 0, logged.output
    assert "[humas]" in logged.output and "[/]" in logged.output


def test_digest_exits_1_when_an_office_could_not_be_sent(config, stored, monkeypatch):
    monkeypatch.setenv("PANTAU_SMTP_PORT", str(free_port()))
    result = invoke("digest", "--office", "prov-17", "--offices", OFFICES, "--db", str(stored))
    assert result.exit_code == 1
    assert "failed" in result.output


def test_times_an_operator_reads_are_in_the_digest_zone_and_named(config, stored, monkeypatch):
    monkeypatch.setenv("PANTAU_SMTP_PORT", str(free_port()))
    monkeypatch.setenv("COLUMNS", "300")
    failed = invoke("digest", "--office", "prov-17", "--offices", OFFICES, "--db", str(stored))
    logged = invoke("digest-log", "--db", str(stored))
    assert re.search(r"retry after \d{4}-\d\d-\d\d \d\d:\d\d WIB", failed.output), failed.output
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d WIB", logged.output), logged.output
    assert "+00:00" not in failed.output + logged.output


def test_since_takes_a_date(config, stored, tmp_path, monkeypatch):
    out = tmp_path / "preview"
    result = invoke(
        "digest",
        "--dry-run",
        "--office",
        "ri",
        "--since",
        "2024-10-21",
        "--out",
        str(out),
        "--offices",
        OFFICES,
        "--db",
        str(stored),
    )
    assert result.exit_code == 0, result.output
    [html] = out.glob("*.html")
    assert "2 dugaan pelanggaran" in html.read_text(encoding="utf-8")


def test_a_malformed_since_is_a_usage_error(config, stored):
    result = CliRunner().invoke(app, ["digest", "--since", "kemarin", "--db", str(stored)])
    assert result.exit_code == 2
    assert "not an ISO date" in result.output


def cli_env(config: Path, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PANTAU_CONFIG=str(config), PANTAU_SMTP_PORT=str(port))
    return env


def test_an_unknown_office_is_a_pantau_error_naming_it(config, stored):
    result = CliRunner().invoke(
        app, ["digest", "--office", "tidak-ada", "--offices", OFFICES, "--db", str(stored)]
    )
    assert isinstance(result.exception, DigestError)  # pantau.cli prints it as one line, exit 2
    assert "no office with id 'tidak-ada'" in str(result.exception)


def test_two_digest_processes_at_once_send_each_story_once(config, stored):
    with SmtpServer() as server:
        command = [*PANTAU, "digest", "--offices", OFFICES, "--db", str(stored)]
        processes = [
            subprocess.Popen(
                command,
                env=cli_env(config, server.port),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [process.communicate(timeout=120) for process in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    offices = sorted(str(m.message["X-Pantau-Office"]) for m in server.messages)
    # four offices with stories, plus one "nothing new" email for the office that wants them
    # (sent by whichever process came second, and only once)
    assert offices.count("ri") == 1 and offices.count("prov-17") == 1
    assert offices.count("kabkota-33.10") == 1 and offices.count("kabkota-17.08") == 1


def test_offices_generate_writes_the_national_list(tmp_path):
    pytest.importorskip("extract.regions")
    target = tmp_path / "offices.yaml"
    result = invoke("offices", "generate", "--out", str(target))
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    assert text.count("level: kabkota") == 514 and text.count("level: provinsi") == 38


def test_offices_list_shows_scope_and_missing_recipients(config):
    result = invoke("offices", "list", "--offices", OFFICES)
    assert result.exit_code == 0
    assert "semua" in result.output
    assert "(none:" in result.output


def test_digest_log_shows_each_digest_and_refused_recipients(config, stored, monkeypatch):
    with SmtpServer(refuse={"humas@ri.example.id"}) as server:
        monkeypatch.setenv("PANTAU_SMTP_PORT", str(server.port))
        invoke("digest", "--office", "ri", "--offices", OFFICES, "--db", str(stored))
    result = CliRunner().invoke(app, ["digest-log", "--db", str(stored)], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "ri" in result.output and "sent" in result.output
    assert "humas@ri.example.id" in result.output


def test_digest_release_refuses_a_digest_that_was_delivered(config, stored, monkeypatch):
    with SmtpServer() as server:
        monkeypatch.setenv("PANTAU_SMTP_PORT", str(server.port))
        invoke("digest", "--office", "prov-17", "--offices", OFFICES, "--db", str(stored))
        message_id = str(server.messages[0].message["Message-ID"]).strip()
    result = CliRunner().invoke(app, ["digest-release", message_id, "--db", str(stored)])
    assert "not 'unknown'" in str(result.exception)

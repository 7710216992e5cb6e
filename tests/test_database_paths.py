"""`--db` never makes a database by accident, and per-database files live beside their database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES

from crawler.settings import crawl_state_dir
from pantau.core import store
from pantau.core.settings import Settings

CLI = [sys.executable, "-m", "pantau.cli"]
ARTICLE = FIXTURES / "corpus"


def pantau(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=120, check=False
    )


@pytest.mark.parametrize(
    "command",
    [["findings"], ["stories"], ["digest-log"], ["reanalyze"], ["digest", "--dry-run"]],
)
def test_a_reading_command_refuses_a_missing_database_in_one_line(tmp_path: Path, command):
    missing = tmp_path / "pantua.db"
    result = pantau(*command, "--db", str(missing), cwd=tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"pantau: error: {missing}: no such database (check --db or PANTAU_DB; "
        "`pantau crawl` or `pantau ingest` creates one)"
    ]
    assert not missing.exists()


def test_a_writing_command_makes_no_directories_for_a_mistyped_database(tmp_path: Path):
    wrong = tmp_path / "dta" / "pantau.db"
    article = next(ARTICLE.glob("*.txt"))
    result = pantau("ingest", str(article), "--db", str(wrong), cwd=tmp_path)
    assert result.returncode != 0
    assert "does not exist" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not wrong.parent.exists()


def test_a_writing_command_creates_a_new_database_in_an_existing_directory_and_says_so(
    tmp_path: Path,
):
    new = tmp_path / "pantau.db"
    article = next(ARTICLE.glob("*.txt"))
    result = pantau("ingest", str(article), "--db", str(new), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"creating a new database {new}" in result.stderr
    assert new.is_file()


def test_the_digest_sends_nothing_from_a_database_without_history_unless_told(tmp_path: Path):
    empty = tmp_path / "pantau.db"
    store.open_db(empty).close()
    result = pantau("digest", "--db", str(empty), cwd=tmp_path)
    assert result.returncode != 0
    assert "never crawled or ingested" in result.stderr and "--yes" in result.stderr
    assert not store.open_db(empty)["digests"].count


def test_crawl_state_lives_beside_its_database(tmp_path: Path):
    first, second = tmp_path / "a" / "pantau.db", tmp_path / "b" / "test.db"
    assert crawl_state_dir(Settings(), "lampost", first) == (
        tmp_path / "a" / "pantau-crawl-state" / "lampost"
    )
    assert crawl_state_dir(Settings(), "lampost", second) == (
        tmp_path / "b" / "test-crawl-state" / "lampost"
    )


def test_a_crawl_state_folder_named_in_settings_is_used_for_every_database(tmp_path: Path):
    chosen = Settings(crawl_state_dir=str(tmp_path / "state"))
    assert crawl_state_dir(chosen, "x", tmp_path / "pantau.db") == tmp_path / "state" / "x"

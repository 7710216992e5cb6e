"""Shared fixtures: real SQLite files in temp dirs, paths to fixture data."""

from __future__ import annotations

from pathlib import Path

import pytest

from pantau.core import store

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
PROJECT = TESTS.parent
SEEDS = PROJECT.parent / "shared" / "corpus" / "seeds"


@pytest.fixture(scope="session", autouse=True)
def every_command_registered() -> None:
    """CLI tests drive the same app `pantau` runs, with every command module registered."""
    from pantau.cli import register_commands

    register_commands()


@pytest.fixture(scope="session")
def detector():
    """One loaded detector for every detection test (loading spaCy rules takes a second)."""
    from extract.detect import load_detector

    return load_detector()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "pantau.db"


@pytest.fixture
def db(db_path: Path):
    database = store.open_db(db_path)
    yield database
    database.close()

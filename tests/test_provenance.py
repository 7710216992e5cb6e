"""Provenance: the first outlet is the original; a copy names what it copied and changed."""

from __future__ import annotations

import json

import pytest
from smtp_server import SmtpServer
from test_alerts_support import add_story
from test_digest_cases import digest
from typer.testing import CliRunner

import pantau.commands.stories  # noqa: F401  (registers the command)
from extract.provenance import copy_changes
from pantau.commands import app
from pantau.core.store.stories import copy_sources

runner = CliRunner()
ORIGINAL = (
    "Camat Sakra Barat terekam berpose dua jari bersama bakal calon bupati di sebuah acara. "
    "Foto itu beredar luas di media sosial sejak Senin pagi. "
    "Bawaslu Lombok Timur menyatakan akan memanggil camat untuk dimintai keterangan."
)
EDITED = (
    "Sebuah foto camat berpose dengan bakal calon bupati ramai dibicarakan warga hari ini. "
    "Foto itu beredar luas di media sosial sejak Senin pagi. "
    "Bawaslu Lombok Timur menyatakan akan memanggil sang camat untuk dimintai keterangan."
)
FINDING = {
    "verdict": "breach",
    "score": 0.9,
    "officials": [],
    "region": None,
    "violations": [],
    "evidence": [],
}


def article(site: str, published: str, text: str) -> dict:
    return {
        "url": f"https://{site}.example/1",
        "site": site,
        "title": "Camat berpose",
        "text": text,
        "published": published,
    }


def test_the_earliest_article_is_the_original_and_the_others_copy_it(db) -> None:
    story = add_story(
        db,
        FINDING,
        [
            article("pertama", "2024-09-01T08:00:00", ORIGINAL),
            article("penyalin", "2024-09-01T10:00:00", EDITED),
        ],
    )
    sources = copy_sources(db, story)
    original, copy = sorted(sources, key=lambda i: sources[i] is not None)
    assert sources == {original: None, copy: original}


def test_a_copy_lists_the_sentences_it_added_and_left_out() -> None:
    (changes,) = copy_changes({1: ORIGINAL, 2: EDITED}, {1: None, 2: 1}).values()
    assert changes.added == [EDITED.split(". ")[0] + "."]
    assert changes.removed == [ORIGINAL.split(". ")[0] + "."]
    assert (changes.added_count, changes.removed_count) == (1, 1)


def test_an_identical_copy_changes_nothing() -> None:
    (changes,) = copy_changes({1: ORIGINAL, 2: ORIGINAL}, {1: None, 2: 1}).values()
    assert (changes.added_count, changes.removed_count) == (0, 0)


def test_stories_jsonl_shows_each_articles_role_source_and_changes(db, db_path) -> None:
    add_story(
        db,
        FINDING,
        [
            article("pertama", "2024-09-01T08:00:00", ORIGINAL),
            article("penyalin", "2024-09-01T10:00:00", EDITED),
        ],
    )
    result = runner.invoke(app, ["stories", "--db", str(db_path), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    (story,) = [json.loads(line) for line in result.output.splitlines() if line.strip()]
    first, copy = story["articles"]
    assert (first["role"], first["copied_from"]) == ("original", None)
    assert copy["role"] == "copy"
    assert copy["copied_from"] == "https://pertama.example/1"
    assert copy["changes"]["added"] == 1


@pytest.fixture
def server():
    with SmtpServer() as running:
        yield running


def test_the_digest_says_which_outlet_a_copy_copied(db, server, tmp_path) -> None:
    seluma = {"code": "17.05", "name": "Kabupaten Seluma", "province": "Bengkulu"}
    add_story(
        db,
        FINDING | {"region": seluma},
        [
            article("pertama", "2024-09-01T08:00:00", ORIGINAL),
            article("penyalin", "2024-09-01T10:00:00", EDITED),
        ],
    )
    text = digest(db, server, tmp_path)
    copy_line = next(line for line in text.splitlines() if "- penyalin, " in line)
    assert copy_line.endswith("(menyalin dari pertama)")

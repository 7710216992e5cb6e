"""`pantau stories`: one line per story with its original source and every outlet."""

from __future__ import annotations

import json

from conftest import FIXTURES
from typer.testing import CliRunner

import pantau.commands.stories  # noqa: F401  (registers the commands)
from extract.dedup import StoryIndex
from pantau.commands import app
from pantau.core import store
from pantau.core.settings import load_settings

DEDUP = FIXTURES / "dedup"
runner = CliRunner()


def ingest(db, name: str, site: str, published: str) -> int:
    title, _, text = (DEDUP / f"{name}.txt").read_text(encoding="utf-8").partition("\n\n")
    article_id, _ = store.save_article(
        db,
        {
            "url": f"https://{site}.example/{name}",
            "site": site,
            "title": title,
            "text": text,
            "published": published,
            "fetched_at": "2024-06-11T00:00:00+00:00",
        },
    )
    StoryIndex(db, load_settings().dedup).assign(article_id, title, text, published)
    return article_id


def stories_jsonl(db_path, *args: str) -> list[dict]:
    result = runner.invoke(app, ["stories", "--db", str(db_path), "--format", "jsonl", *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines() if line.strip()]


def test_a_copied_story_lists_its_original_first_and_every_outlet(db, db_path):
    ingest(db, "copy_furniture", "suararejang", "2024-06-10T14:05:00+07:00")
    original = ingest(db, "original", "kepahiangekspres", "2024-06-10T09:00:00+07:00")
    ingest(db, "copy_cut_ending", "radarbengkulu", "2024-06-11T08:00:00+07:00")
    store.save_finding(db, original, {"verdict": "breach", "score": 0.8}, "1.0")
    (story,) = stories_jsonl(db_path)
    assert story["first_article"]["site"] == "kepahiangekspres"
    assert story["title"].startswith("Camat Ujan Mas")
    assert [a["site"] for a in story["articles"]] == [
        "kepahiangekspres",
        "suararejang",
        "radarbengkulu",
    ]
    assert story["outlets"] == 3
    assert story["finding"]["verdict"] == "breach"
    # The copy crawled first started the story; the original joined it later as a near copy.
    assert [a["match"] for a in story["articles"]] == ["near", "new", "near"]
    assert story["articles"][2]["containment"] > 0.99


def test_min_articles_leaves_out_stories_nobody_copied(db, db_path):
    ingest(db, "original", "kepahiangekspres", "2024-06-10")
    ingest(db, "copy_new_headline", "radarbengkulu", "2024-06-10")
    ingest(db, "other_story", "curupnews", "2024-06-10")
    assert len(stories_jsonl(db_path)) == 2
    (copied,) = stories_jsonl(db_path, "--min-articles", "2")
    assert copied["outlets"] == 2
    assert all(a["url"].startswith("https://") for a in copied["articles"])


def test_the_table_format_names_the_first_source(db, db_path):
    ingest(db, "original", "kepahiangekspres", "2024-06-10")
    result = runner.invoke(app, ["stories", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert "kepahiangekspres" in result.output


def test_reindex_rebuilds_the_index_so_later_copies_still_join(db, db_path):
    ingest(db, "original", "kepahiangekspres", "2024-06-10")
    result = runner.invoke(app, ["stories-reindex", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert "reindexed 1 article" in result.output
    ingest(db, "copy_baca_juga_a", "radarbengkulu", "2024-06-11")
    (only,) = stories_jsonl(db_path)
    assert only["outlets"] == 2


def test_each_copy_names_what_it_copied_and_the_sentences_it_changed(db, db_path):
    ingest(db, "original", "kepahiangekspres", "2024-06-10T09:00:00+07:00")
    ingest(db, "copy_edited_lead", "bengkuluekspres", "2024-06-11T10:00:00+07:00")
    ingest(db, "copy_cut_ending", "radarbengkulu", "2024-06-11T08:00:00+07:00")
    (story,) = stories_jsonl(db_path)
    first, cut, edited = story["articles"]
    assert "copied_from" not in first
    assert cut["copied_from"]["site"] == "kepahiangekspres"
    assert cut["changes"]["added"] == []
    assert any(s.startswith("Sekretaris Daerah Kabupaten") for s in cut["changes"]["removed"])
    assert edited["match"] == "sentences"
    assert edited["copied_from"]["url"] == "https://kepahiangekspres.example/original"
    assert edited["changes"]["added"][0].startswith("UJAN MAS, BENGKULUEKSPRES – Kehadiran")
    assert edited["changes"]["removed"][0].startswith("KEPAHIANG – Badan Pengawas Pemilu")


def test_a_title_with_rich_markup_is_listed_as_text(db, db_path):
    title = "Camat [/] Diduga Kampanye [video] [link=http://x.example]klik[/link]"
    article_id, _ = store.save_article(
        db,
        {
            "url": "https://a.example/1",
            "site": "a",
            "title": title,
            "text": "Camat diduga ikut kampanye di desa pada hari Minggu pagi bersama warga.",
            "fetched_at": "2024-06-11T00:00:00+00:00",
        },
    )
    StoryIndex(db, load_settings().dedup).assign(article_id, title, "teks", None)
    result = runner.invoke(app, ["stories", "--db", str(db_path)], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert "[/]" in result.output and "[video]" in result.output and "[link=" in result.output

"""`pantau cases`: case threads saved in the store, with stable ids and every article."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from test_alerts_support import add_story
from typer.testing import CliRunner

import pantau.commands.cases  # noqa: F401  (registers the command)
from pantau.case_threads import refresh_cases
from pantau.commands import app

THREADS = Path(__file__).parent / "fixtures" / "cases" / "threads.yaml"
REGIONS = {"17.05": "Kabupaten Seluma", "17.01": "Kabupaten Bengkulu Selatan"}
runner = CliRunner()


def thread(name: str) -> dict:
    return yaml.safe_load(THREADS.read_text(encoding="utf-8"))[name]


def add_thread_story(db, name: str) -> int:
    entry = thread(name)
    code = entry["region"]
    finding = {
        "verdict": "breach",
        "score": 0.9,
        "officials": entry["accused"],
        "region": {"code": code, "name": REGIONS.get(code, code), "province": "Bengkulu"},
        "violations": entry["violations"],
        "evidence": [],
    }
    articles = [
        {
            "url": f"https://{name}.example/{k}",
            "site": name,
            "title": a["title"],
            "text": a["text"],
            "published": a["published"],
        }
        for k, a in enumerate(entry["articles"])
    ]
    return add_story(db, finding, articles)


def cases_jsonl(db_path: Path, *args: str) -> list[dict]:
    result = runner.invoke(app, ["cases", "--db", str(db_path), "--format", "jsonl", *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines() if line.strip()]


def test_cases_jsonl_prints_one_object_per_case_with_every_article_url(db, db_path) -> None:
    for name in ("camat-report", "camat-summoned", "camat-neighbour"):
        add_thread_story(db, name)
    found = cases_jsonl(db_path)
    urls = sorted(sorted(a["url"] for a in case["articles"]) for case in found)
    assert urls == [
        ["https://camat-neighbour.example/0"],
        ["https://camat-report.example/0", "https://camat-summoned.example/0"],
    ]
    seluma = next(case for case in found if case["region"]["code"] == "17.05")
    assert seluma["stage"] == "clarification"
    assert [event["stage"] for event in seluma["timeline"]] == ["reported", "clarification"]


def test_a_case_keeps_its_id_as_later_reports_join_it(db) -> None:
    report = add_thread_story(db, "camat-report")
    add_thread_story(db, "camat-neighbour")
    first = next(case.id for case in refresh_cases(db) if report in case.cluster_ids)
    sanctioned = add_thread_story(db, "camat-sanctioned")
    after = refresh_cases(db)
    grown = next(case for case in after if sanctioned in case.cluster_ids)
    assert grown.id == first
    assert grown.stage == "sanction"
    assert len({case.id for case in after}) == len(after) == 2


def set_violations(db, cluster_id: int, violations: str) -> None:
    db.execute(
        "update findings set violations = ? where article_id in "
        "(select id from articles where cluster_id = ?)",
        [violations, cluster_id],
    )


def test_the_id_of_a_case_merged_into_another_is_not_reused(db) -> None:
    add_thread_story(db, "camat-report")
    sanctioned = add_thread_story(db, "camat-sanctioned")
    set_violations(db, sanctioned, '["media_sosial"]')  # first read as another act
    assert len(refresh_cases(db)) == 2
    set_violations(db, sanctioned, '["kampanye"]')  # a re-analysis: the same act
    (merged,) = refresh_cases(db)
    add_thread_story(db, "camat-neighbour")
    newest = max(case.id for case in refresh_cases(db))
    assert merged.id == 1
    assert newest == 3


def test_cases_filters_by_region_code_without_wildcards(db, db_path) -> None:
    add_thread_story(db, "camat-report")
    add_thread_story(db, "camat-neighbour")
    assert [c["region"]["code"] for c in cases_jsonl(db_path, "--region", "17.01")] == ["17.01"]
    assert len(cases_jsonl(db_path, "--region", "17")) == 2
    result = runner.invoke(app, ["cases", "--db", str(db_path), "--region", "%"])
    assert result.exit_code != 0
    assert "not a region code" in result.output


def test_cases_filters_by_date_of_the_latest_report(db, db_path) -> None:
    add_thread_story(db, "camat-report")
    add_thread_story(db, "camat-sanctioned")
    add_thread_story(db, "camat-neighbour")
    found = cases_jsonl(db_path, "--since", "2024-11-01")
    assert [case["stage"] for case in found] == ["sanction"]

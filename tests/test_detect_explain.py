"""`pantau analyze --explain`: each person found, the role they got and why."""

from __future__ import annotations

import json

from detect_support import DETECT_FIXTURES
from typer.testing import CliRunner

from pantau.commands import app


def explain(name: str) -> dict:
    result = CliRunner().invoke(app, ["analyze", "--explain", str(DETECT_FIXTURES / name)])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def roles(payload: dict) -> dict[str, str]:
    return {p["name"] or p["position"]: p["role"] for p in payload["people"]}


def test_explain_names_the_accused_with_the_allegation_that_decided_it() -> None:
    payload = explain("quoted_bawaslu.txt")
    accused = [p for p in payload["people"] if p["role"] == "accused"]
    assert [p["name"] for p in accused] == ["Sutarno"]
    assert "allegation 'diduga'" in accused[0]["reason"]
    assert accused[0]["sentence"] in payload["evidence"]


def test_explain_says_the_supervisor_investigates_and_is_not_accused() -> None:
    payload = explain("quoted_bawaslu.txt")
    assert roles(payload)["Dewi Lestari"] == "investigator"


def test_explain_shows_a_quoted_official_as_speaker_with_the_speech_cue() -> None:
    payload = explain("advisory_rule_list.txt")
    person = next(p for p in payload["people"] if p["name"] == "Hidayatullah")
    assert person["role"] == "speaker"
    assert "'mengimbau'" in person["reason"]


def test_without_explain_the_contract_keeps_its_fields() -> None:
    result = CliRunner().invoke(app, ["analyze", str(DETECT_FIXTURES / "quoted_bawaslu.txt")])
    assert "people" not in json.loads(result.output)

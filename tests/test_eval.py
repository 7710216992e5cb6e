"""pantau eval: metrics on labelled folders, and floors the detector must keep."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import pantau.commands.evaluate  # noqa: F401  (registers `eval` on the app)
from extract.evaluate import evaluate_directory, names_match
from pantau.commands import app

TESTS = Path(__file__).parent
DETECT_FIXTURES = TESTS / "fixtures" / "detect"
DEV_CORPUS = TESTS / "fixtures" / "corpus"
SEEDS = Path(__file__).parents[2] / "shared" / "corpus" / "seeds"
REAL = Path(__file__).parents[2] / "shared" / "corpus" / "real"
ACCUSED_DEV = TESTS / "fixtures" / "accused" / "dev"

HELDOUT = Path(__file__).parents[1] / "benchmarks/heldout"
BLIND = Path(__file__).parents[1] / "benchmarks/blind"

# Figures reached on the day these floors were set; raise them when the detector improves.
# Detector 1.1: dev 1.0/0.972/0.986/0.971, heldout 1.0/1.0/0.972/1.0 (accused precision 0.972
# and 1.0). The held-out set served as development material for 1.1, so its floors keep a margin.
DEV_FLOORS = {
    "breach_f1": 0.97,
    "accused_recall": 0.94,
    "accused_precision": 0.94,
    "verdict_accuracy": 0.95,
    "region": 0.95,
}
SEED_FLOORS = {"breach_f1": 1.0, "accused_recall": 1.0, "verdict_accuracy": 1.0, "region": 1.0}
# The real set (45 real articles, articles/NNN.txt): detector 1.1 scored breach F1 0.791,
# accused recall 0.262 / precision 0.423, verdict 0.778; detector 1.2 0.829, 0.571 / 0.857,
# 0.822 (region 0.844); detector 1.3 (the accused-person model) 0.829, 0.524 / 0.917 (2 people
# wrongly named, against 4). It is development material: these floors keep the lessons learnt.
REAL_FLOORS = {
    "breach_f1": 0.8,
    "accused_recall": 0.52,
    "accused_precision": 0.9,
    "verdict_accuracy": 0.8,
    "region": 0.82,
    "advisory_as_breach_max": 3,
}
# The accused-person development corpus (200 written articles, tuned on; the model is fitted
# on it). The first 110: detector 1.1 scored breach F1 0.927, accused recall 0.564 / precision
# 0.596, verdict 0.845; detector 1.2 0.968, 0.83 / 0.876, 0.891. All 200: detector 1.2 0.947,
# 0.744 / 0.74 (43 wrongly named); detector 1.3 0.947, 0.787 / 0.849 (23), verdict 0.885.
ACCUSED_DEV_FLOORS = {
    "breach_f1": 0.94,
    "accused_recall": 0.78,
    "accused_precision": 0.84,
    "verdict_accuracy": 0.88,
    "region": 0.97,
    "advisory_as_breach_max": 7,
    "quoted_as_accused_max": 8,
}
HELDOUT_FLOORS = {
    "breach_f1": 0.9,
    "accused_recall": 0.85,
    "accused_precision": 0.85,
    "verdict_accuracy": 0.9,
    "region": 0.94,
}
# The blind set was never used for tuning: these floors are what detector 1.1 reached on
# first contact (F1 0.966, accused recall 0.882 / precision 0.75, verdict 0.889, region
# 0.972). They catch regressions; do not tune rules against this set to raise them.
BLIND_FLOORS = {
    "breach_f1": 0.96,
    "accused_recall": 0.88,
    "accused_precision": 0.75,
    "verdict_accuracy": 0.88,
    "region": 0.97,
    "advisory_as_breach_max": 1,  # b13: a Dandim's warning read as an accusation
    "quoted_as_accused_max": 1,
}


def labelled_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "set"
    folder.mkdir()
    shutil.copy(DETECT_FIXTURES / "quoted_bawaslu.txt", folder / "a.txt")
    shutil.copy(DETECT_FIXTURES / "advisory_rule_list.txt", folder / "b.txt")
    labels = [
        {
            "id": "a",
            "label": "breach",
            "region": {"name": "Kabupaten Cianjur", "province": "Jawa Barat"},
            "officials": [{"name": "sutarno", "position": "Kepala Desa"}],
            "not_accused": ["Dewi Lestari (anggota Bawaslu)"],
        },
        {
            "id": "b",
            "label": "breach",
            "region": {"name": "Kota Bogor", "code": "32.71"},
            "officials": [{"name": "Hidayatullah", "position": "Kepala BKPSDM"}],
        },
    ]
    (folder / "labels.jsonl").write_text("\n".join(json.dumps(x) for x in labels) + "\n")
    return folder


def run_eval(*args: str):
    """The conftest registers every command, so `eval` is always a named subcommand."""
    return CliRunner().invoke(app, ["eval", *args])


def test_initials_match_initials_and_names_ignore_case() -> None:
    assert names_match("A.B.", "AB")
    assert names_match("HARTONO", "Hartono")
    assert names_match("Hartono", "Hartono Wijaya")
    assert not names_match("AB", "AC")
    assert not names_match("Budi", "Budiman")


def test_metrics_count_breach_names_and_regions(tmp_path: Path) -> None:
    report = evaluate_directory(labelled_folder(tmp_path))
    metrics = report.metrics()
    assert metrics["breach"] == {
        "precision": 1.0,
        "recall": 0.5,
        "f1": 0.667,
        "tp": 1,
        "fp": 0,
        "fn": 1,
    }
    assert metrics["accused"]["recall"] == 0.5
    assert metrics["accused"]["quoted_as_accused"] == 0
    assert metrics["region_accuracy"] == 0.5
    assert [item.id for item in report.mistakes()] == ["b"]


def test_eval_command_prints_json(tmp_path: Path) -> None:
    result = run_eval(str(labelled_folder(tmp_path)), "--format", "json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["metrics"]["items"] == 2
    assert payload["mistakes"][0]["id"] == "b"


def test_eval_command_prints_a_table_with_mistakes(tmp_path: Path) -> None:
    result = run_eval(str(labelled_folder(tmp_path)))
    assert result.exit_code == 0, result.output
    assert "breach F1" in result.output
    assert "advisory" in result.output  # item b: labelled breach, predicted advisory


def assert_floors(folder: Path, floors: dict[str, float]) -> None:
    metrics = evaluate_directory(folder).metrics()
    assert metrics["breach"]["f1"] >= floors["breach_f1"], metrics
    assert metrics["advisory_as_breach"] <= floors.get("advisory_as_breach_max", 0), metrics
    assert metrics["accused"]["recall"] >= floors["accused_recall"], metrics
    assert metrics["accused"]["precision"] >= floors.get("accused_precision", 0.0), metrics
    assert metrics["accused"]["quoted_as_accused"] <= floors.get("quoted_as_accused_max", 0), (
        metrics
    )
    assert metrics["verdict_accuracy"] >= floors["verdict_accuracy"], metrics
    assert metrics["region_accuracy"] >= floors["region"], metrics


def test_dev_corpus_stays_above_its_floors() -> None:
    labels = DEV_CORPUS / "labels.jsonl"
    if not labels.is_file() or sum(1 for line in labels.open() if line.strip()) < 10:
        pytest.skip("dev corpus missing or smaller than 10 items")
    assert_floors(DEV_CORPUS, DEV_FLOORS)


def test_seed_articles_stay_above_their_floors() -> None:
    if not (SEEDS / "labels.jsonl").is_file():
        pytest.skip("seed corpus not present")
    assert_floors(SEEDS, SEED_FLOORS)


def test_accused_dev_corpus_stays_above_its_floors() -> None:
    if not (ACCUSED_DEV / "labels.jsonl").is_file():
        pytest.skip("accused development corpus not present")
    assert_floors(ACCUSED_DEV, ACCUSED_DEV_FLOORS)


def test_real_set_stays_above_its_floors() -> None:
    if not (REAL / "labels.jsonl").is_file():
        pytest.skip("real set not present")
    assert_floors(REAL, REAL_FLOORS)


def test_heldout_set_stays_above_its_floors() -> None:
    if not (HELDOUT / "labels.jsonl").is_file():
        pytest.skip("held-out set not present")
    assert_floors(HELDOUT, HELDOUT_FLOORS)


def test_blind_set_stays_above_its_floors() -> None:
    if not (BLIND / "labels.jsonl").is_file():
        pytest.skip("blind set not present")
    assert_floors(BLIND, BLIND_FLOORS)


def test_a_missed_person_comes_with_the_role_they_got_and_its_sentence(tmp_path: Path) -> None:
    report = evaluate_directory(labelled_folder(tmp_path))
    missed = report.items[1].missed_why
    assert len(missed) == 1
    person, sentence = missed[0].split(" | ")
    assert person.startswith("Hidayatullah: read as speaker")
    assert "mengimbau seluruh pegawai" in sentence


def test_a_wrongly_named_person_comes_with_the_evidence_sentence(tmp_path: Path) -> None:
    folder = labelled_folder(tmp_path)
    labels = (folder / "labels.jsonl").read_text().replace('"sutarno"', '"Dewi Lestari"')
    (folder / "labels.jsonl").write_text(labels)
    report = evaluate_directory(folder)
    assert report.metrics()["wrongly_named"] == 1
    assert report.items[0].wrong_why[0].startswith("Sutarno: accused")
    assert "allegation 'diduga' and act kampanye | Kades Mekarsari" in report.items[0].wrong_why[0]


def test_the_table_shows_accused_precision_first(tmp_path: Path) -> None:
    result = run_eval(str(labelled_folder(tmp_path)))
    assert result.exit_code == 0, result.output
    first_row = next(
        line for line in result.output.splitlines() if "│" in line and "metric" not in line
    )
    assert "accused precision" in first_row
    assert "people wrongly named or missed" in result.output


def test_names_match_without_the_titles_written_before_and_after_them() -> None:
    assert names_match("La Ode Muhammad Arfan", "Dr. La Ode Muhammad Arfan, S.Sos., M.Si.")
    assert names_match("Abdul Hafid Mangkona", "Dr. Ir. H. Abdul Hafid Mangkona, M.Si.")
    assert not names_match("La Ode Rahman", "La Ode Muhammad Arfan")

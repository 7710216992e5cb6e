"""Rules live in config/rules/*.yaml and a broken entry is reported by file and entry."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from extract.detect.rules import DEFAULT_RULES_DIR, load_rules
from pantau.core.settings import ConfigError


def copy_rules(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, target)
    return target


def test_shipped_rules_load_and_cover_every_category() -> None:
    rules = load_rules()
    assert {v.id for v in rules.violations} >= {"kampanye", "media_sosial", "fasilitas_negara"}
    assert all(v.legal_basis and v.sanction for v in rules.violations)
    assert sum(len(p.aliases) for p in rules.positions) >= 100


def test_elected_officials_and_press_are_not_bound_to_neutrality() -> None:
    bound = {p.id: p.bound_to_neutrality for p in load_rules().positions}
    for position in ("bupati", "wakil_bupati", "wali_kota", "gubernur", "dprd", "calon"):
        assert bound[position] is False
    for position in ("menteri", "bawaslu", "kpu", "pers"):
        assert bound[position] is False
    for position in ("pj_bupati", "sekda", "camat", "kepala_desa", "bpd", "polri", "pppk"):
        assert bound[position] is True


def test_rules_file_error_names_the_file_and_the_entry(tmp_path: Path) -> None:
    rules_dir = copy_rules(tmp_path)
    path = rules_dir / "positions.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            "bound_to_neutrality: true, specific: true, attaches: region,\n     aliases: [sekda",
            "bound_to_neutrality: maybe, specific: true, attaches: region,\n     aliases: [sekda",
            1,
        ),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as error:
        load_rules(rules_dir)
    message = str(error.value)
    assert "positions.yaml" in message
    assert "(id 'sekda')" in message
    assert "bound_to_neutrality" in message


def test_a_violation_category_id_must_be_an_identifier(tmp_path: Path) -> None:
    rules_dir = copy_rules(tmp_path)
    path = rules_dir / "violations.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("- id: alat_peraga", "- id: Alat Peraga", 1),
        encoding="utf-8",
    )
    with pytest.raises(
        ConfigError, match=r"violations\.yaml: violations\[\d+\] \(id 'Alat Peraga'\)"
    ):
        load_rules(rules_dir)


def test_a_category_added_to_violations_yaml_is_known(tmp_path: Path) -> None:
    rules_dir = copy_rules(tmp_path)
    path = rules_dir / "violations.yaml"
    added = (
        "\n  - id: survei_elektabilitas\n    name: Survei elektabilitas calon\n"
        "    legal_basis: [SKB Netralitas ASN 2022]\n    sanction: [sedang]\n"
        "    triggers: [survei elektabilitas]\n"
    )
    path.write_text(path.read_text(encoding="utf-8") + added, encoding="utf-8")
    assert load_rules(rules_dir).category_ids[-1] == "survei_elektabilitas"


def test_name_filter_lists_load_and_a_bad_academic_title_is_rejected(tmp_path: Path) -> None:
    cues = load_rules().cues
    assert "spd" in cues.academic_titles  # "S.Pd", "S.Pd." and "SPd" compare alike
    assert {"bripka", "serka", "irjen"} <= set(cues.ranks)
    assert {"propam", "pamong", "praja"} <= set(cues.organisation_words)
    rules_dir = copy_rules(tmp_path)
    path = rules_dir / "cues.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "academic_titles: [S.Pd,", "academic_titles: [S-1,"
        ),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"cues\.yaml.*academic_titles"):
        load_rules(rules_dir)

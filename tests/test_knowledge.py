"""Shared knowledge files: one parser each, a broken entry names file, entry and problem."""

from __future__ import annotations

from datetime import timedelta, timezone
from pathlib import Path

import pytest

from alerts.categories import load_catalog
from extract.detect.rules import load_rules
from pantau.core.calendar import load_zones
from pantau.core.knowledge import is_furniture, load_furniture, load_violations
from pantau.core.settings import DEFAULT_CONFIG_DIR, ConfigError

FURNITURE = """\
article: ['^baca juga']
comparison: ['^sumber\\s*:']
detection: ['^\\s*editor\\s*:']
"""


def write(directory: Path, name: str, text: str) -> Path:
    (directory / name).write_text(text, encoding="utf-8")
    return directory


def test_each_stage_has_its_own_furniture_list(tmp_path: Path):
    furniture = load_furniture(write(tmp_path, "furniture.yaml", FURNITURE))
    assert is_furniture("Baca Juga: Camat dipanggil", furniture.article)
    assert not is_furniture("Sumber: Antara", furniture.article)
    assert is_furniture("Sumber: Antara", furniture.comparison)
    assert is_furniture("  Editor: Redaksi", furniture.detection)


def test_a_config_directory_without_furniture_uses_the_shipped_file(tmp_path: Path):
    assert load_furniture(tmp_path) == load_furniture(DEFAULT_CONFIG_DIR)
    assert is_furniture("Baca juga: Bawaslu memanggil Kades", load_furniture().article)


def test_a_bad_furniture_pattern_is_named_by_list_and_index(tmp_path: Path):
    write(tmp_path, "furniture.yaml", FURNITURE.replace("['^sumber\\s*:']", "['ok', '(sumber']"))
    with pytest.raises(ConfigError) as err:
        load_furniture(tmp_path)
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'furniture.yaml'}: comparison[1]:")
    assert "'(sumber' is not a valid regular expression" in message


def test_a_missing_furniture_list_is_named(tmp_path: Path):
    write(tmp_path, "furniture.yaml", "article: []\ncomparison: []\n")
    with pytest.raises(ConfigError, match=r"furniture\.yaml: detection: Field required"):
        load_furniture(tmp_path)


ZONES = """\
zones:
  - {abbreviation: WIB, utc_offset: 7, iana: [Asia/Jakarta]}
  - {abbreviation: WITA, utc_offset: 8, iana: [Asia/Makassar]}
default: WIB
"""


def test_time_zones_read_both_ways(tmp_path: Path):
    zones = load_zones(write(tmp_path, "timezones.yaml", ZONES))
    assert zones.of("wita") == timezone(timedelta(hours=8))
    assert zones.of(None) == timezone(timedelta(hours=7))
    assert zones.abbreviation("Asia/Makassar") == "WITA"
    assert zones.abbreviation("Europe/Paris") is None


def test_an_iana_zone_with_another_offset_is_refused(tmp_path: Path):
    write(tmp_path, "timezones.yaml", ZONES.replace("[Asia/Makassar]", "[Asia/Jayapura]"))
    with pytest.raises(ConfigError) as err:
        load_zones(tmp_path)
    assert str(err.value).startswith(f"{tmp_path / 'timezones.yaml'}: zones[1]:")
    assert "Asia/Jayapura is UTC+9, not UTC+8" in str(err.value)


def test_the_default_zone_must_be_listed(tmp_path: Path):
    write(tmp_path, "timezones.yaml", ZONES.replace("default: WIB", "default: WIT"))
    with pytest.raises(ConfigError, match=r"default 'WIT' is not one of the zones"):
        load_zones(tmp_path)


VIOLATIONS = """\
sanction_levels:
  sedang: hukuman disiplin sedang
  berat: hukuman disiplin berat
violations:
  - id: survei_elektabilitas
    name: Survei elektabilitas calon
    legal_basis: [SKB Netralitas ASN 2022, {law: UU 6/2014 Pasal 29, for: [village]}]
    sanction: [sedang]
    triggers: [Survei  Elektabilitas]
"""


def test_the_detector_and_the_digest_read_violations_yaml_alike(tmp_path: Path):
    rules = tmp_path / "rules"
    rules.mkdir()
    for name in ("positions.yaml", "cues.yaml", "parties.yaml"):
        (rules / name).write_bytes((DEFAULT_CONFIG_DIR / "rules" / name).read_bytes())
    write(rules, "violations.yaml", VIOLATIONS)
    [rule] = load_rules(rules).violations
    category = load_catalog(rules / "violations.yaml").get("survei_elektabilitas")
    assert rule.triggers == ["survei elektabilitas"] and category.cues == tuple(rule.triggers)
    assert category.label == "Survei elektabilitas calon"
    assert category.sanctions == ("hukuman disiplin sedang",)
    assert category.laws_for({"asn"}) == ["SKB Netralitas ASN 2022"]


def test_a_bad_violation_entry_is_named_by_file_entry_and_problem(tmp_path: Path):
    path = write(tmp_path, "violations.yaml", VIOLATIONS.replace("[sedang]", "[keras]"))
    path = path / "violations.yaml"
    with pytest.raises(
        ConfigError,
        match=r"violations\.yaml: violations\[0\] \(id 'survei_elektabilitas'\)\.sanction\[0\]",
    ):
        load_violations(path)


def test_the_digest_shows_category_ids_when_violations_yaml_is_invalid(tmp_path: Path, caplog):
    path = write(tmp_path, "violations.yaml", "violations:\n  - id: x\n    label: X\n")
    catalog = load_catalog(path / "violations.yaml")
    assert catalog.categories == {} and catalog.get("kampanye").label == "Kampanye"
    assert "violations.yaml" in caplog.text

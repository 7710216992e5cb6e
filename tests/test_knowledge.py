"""Shared knowledge files: one parser each, a broken entry names file, entry and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from pantau.core.knowledge import is_furniture, load_furniture
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

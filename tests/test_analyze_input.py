"""`pantau analyze` of bad files: one line naming each file, and no detector loaded for them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import FIXTURES

pytestmark = pytest.mark.slow  # starts interpreters

FILES = FIXTURES / "files"

# Runs the real command in a fresh interpreter, then says whether spaCy (which the detector
# needs, seconds to load) was ever imported.
PROBE = """
import sys
from typer.testing import CliRunner
from pantau.cli import register_commands
from pantau.commands import app
register_commands()
result = CliRunner().invoke(app, ["analyze", *sys.argv[1:]])
print(result.exit_code)
print("spacy" in sys.modules)
print(result.output)
"""


def analyze(*names: str) -> tuple[int, bool, list[str]]:
    paths = [str(FILES / name) for name in names]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *paths],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "300"},  # one line per file, however long its path
    )
    code, spacy_loaded, *output = done.stdout.splitlines()
    return int(code), spacy_loaded == "True", [line for line in output if line.strip()]


def test_empty_and_binary_files_fail_without_loading_the_detector():
    code, spacy_loaded, output = analyze("kosong.txt", "program.txt")
    assert code == 1
    assert not spacy_loaded
    assert output == [
        f"skipped {FILES / 'kosong.txt'}: empty file",
        f"skipped {FILES / 'program.txt'}: binary content, not a text or HTML file",
    ]


def test_a_utf16_file_is_analysed_as_indonesian_beside_a_refused_one():
    code, spacy_loaded, output = analyze("kosong.txt", "berita_utf16le_bom.txt")
    assert code == 1 and spacy_loaded
    assert output[0] == f"skipped {FILES / 'kosong.txt'}: empty file"
    finding = json.loads(output[1])
    assert finding["lang"] == "id"
    assert finding["title"] == "Camat Diminta Jaga Netralitas Jelang Pilkada"

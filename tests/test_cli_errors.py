"""Every error is one line on stderr (`pantau: error: ...`) and a non-zero exit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "pantau.cli"]


def pantau(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=60)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["digest", "--since", "kemarin"], "pantau digest: Invalid value for --since: 'kemarin'"),
        (["digest", "--bogus"], "pantau digest: No such option: --bogus"),
        (["nosuch"], "pantau: No such command 'nosuch'"),
        (["crawl", "--max-pages", "0"], "pantau crawl: Invalid value for '--max-pages'"),
    ],
)
def test_a_usage_error_is_one_line_naming_the_command(tmp_path: Path, args, expected) -> None:
    result = pantau(*args, cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"pantau: error: {expected}")
    assert line.endswith("--help)")


def test_help_still_prints_and_succeeds(tmp_path: Path) -> None:
    result = pantau("--help", cwd=tmp_path)
    assert result.returncode == 0 and "digest" in result.stdout


def test_a_command_that_fails_on_purpose_keeps_its_exit_code(tmp_path: Path) -> None:
    result = pantau("offices", "list", "--offices", str(tmp_path / "none.yaml"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"pantau: error: {tmp_path / 'none.yaml'}: file not found"
    ]

"""Installed as a wheel (not editable), Pantau carries everything it needs and runs the demo
from an empty directory, writing only into that directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
from test_demo_site import free_port_base

PROJECT = Path(__file__).resolve().parent.parent
# What a checkout makes at run time and a wheel must never carry.
LOCAL_FILES = shutil.ignore_patterns(
    "__pycache__", "*.db", "*.db-*", "*.lock", "outbox", "*crawl-state", "*.egg-info"
)


def listed_packages() -> set[str]:
    config = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))
    return set(config["tool"]["setuptools"]["packages"])


def test_every_code_package_is_listed_for_the_wheel() -> None:
    found = {
        ".".join(init.parent.relative_to(PROJECT).parts)
        for top in ("pantau", "crawler", "extract", "alerts")
        for init in (PROJECT / top).rglob("__init__.py")
    }
    assert found <= listed_packages(), sorted(found - listed_packages())


@pytest.mark.slow
def test_an_installed_wheel_runs_the_demo_from_an_empty_directory(tmp_path: Path) -> None:
    # Built from a copy: an in-place build leaves build/ and pantau.egg-info/ in the checkout.
    source = tmp_path / "source"
    for name in ("pyproject.toml", "README.md"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT / name, source / name)
    for name in ("pantau", "crawler", "extract", "alerts", "config", "data"):
        shutil.copytree(PROJECT / name, source / name, ignore=LOCAL_FILES)
    wheels = tmp_path / "wheels"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "PANTAU_CONFIG", "PANTAU_DB"}
    }
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(wheels), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    [wheel] = wheels.glob("pantau-*.whl")

    # A fresh venv that reuses the shared venv's dependencies through a .pth file, added
    # after the install (the shared venv's own .pth files, such as its editable install of
    # Pantau, are not read through it).
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q"]
        + [str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    # Only now: pip must not see the shared venv's (editable) Pantau as already installed.
    shared = sysconfig.get_paths()["purelib"]
    (Path(purelib) / "shared-venv.pth").write_text(shared + "\n", encoding="utf-8")

    empty = tmp_path / "empty"
    empty.mkdir()
    where = subprocess.run(
        [str(python), "-c", "import pantau; print(pantau.__file__)"],
        capture_output=True,
        text=True,
        cwd=empty,
        env=env,
        check=True,
    ).stdout
    assert where.startswith(purelib), where  # the wheel's copy, not the checkout
    demo = subprocess.run(
        [str(venv / "bin" / "pantau"), "demo", "--port-base", str(free_port_base())],
        capture_output=True,
        text=True,
        cwd=empty,
        env=env,
        timeout=300,
    )
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "6 digest(s) sent, 6 message(s) received by the SMTP sink" in demo.stdout
    assert (empty / "data" / "demo.db").is_file()
    assert (
        sorted(p.name for p in (empty / "data").iterdir())
        == [
            "demo-crawl-state",
            "demo.db",
            "demo.db-shm",
            "demo.db-wal",
            "outbox",
        ]
        or (empty / "data" / "outbox").is_dir()
    )

"""Knowledge files the stages share, each read by one parser and validated on load.

Knowledge (word lists, patterns) lives in YAML an operator can read; a broken entry fails at
load with the file, the entry and the problem (`load_model`), never later in a crawl. A file
missing from an operator's config directory falls back to the shipped one, so a config
directory only needs the files it changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator

from pantau.core.settings import DEFAULT_CONFIG_DIR, StrictModel, config_dir, load_model


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{pattern!r} is not a valid regular expression: {exc}") from None
    return pattern


# A regular expression, checked when its file is loaded.
Regex = Annotated[str, AfterValidator(_compiles)]


def config_file(name: str, directory: Path | None = None) -> Path:
    """`name` in the operator's config directory, else the shipped one."""
    path = config_dir(directory) / name
    return path if path.exists() else DEFAULT_CONFIG_DIR / name


# --- config/furniture.yaml --------------------------------------------------------------


class FurnitureFile(StrictModel):
    article: list[Regex]
    comparison: list[Regex]
    detection: list[Regex]


@dataclass(frozen=True)
class Furniture:
    """Compiled furniture patterns, one list per use (see config/furniture.yaml)."""

    article: tuple[re.Pattern[str], ...]
    comparison: tuple[re.Pattern[str], ...]
    detection: tuple[re.Pattern[str], ...]


def is_furniture(line: str, patterns: tuple[re.Pattern[str], ...]) -> bool:
    return any(pattern.search(line) for pattern in patterns)


def load_furniture(directory: Path | None = None) -> Furniture:
    return _furniture(config_file("furniture.yaml", directory))


@lru_cache(maxsize=4)
def _furniture(path: Path) -> Furniture:
    loaded = load_model(path, FurnitureFile)

    def compiled(patterns: list[str]) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(pattern, re.IGNORECASE) for pattern in patterns)

    return Furniture(
        article=compiled(loaded.article),
        comparison=compiled(loaded.comparison),
        detection=compiled(loaded.detection),
    )

"""Which kind of official an accused is, from config/accused_kinds.yaml (for the overview)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from pantau.core.settings import DEFAULT_CONFIG_DIR, config_dir, load_model


class KindEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field(min_length=1)
    words: list[str] = Field(min_length=1)


class KindsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fallback: str = Field(min_length=1)
    kinds: list[KindEntry] = []


@dataclass(frozen=True)
class KindRules:
    fallback: str
    patterns: tuple[tuple[str, re.Pattern[str]], ...]

    def kind_of(self, position: str | None) -> str:
        text = position or ""
        for label, pattern in self.patterns:
            if pattern.search(text):
                return label
        return self.fallback


SHIPPED = DEFAULT_CONFIG_DIR / "accused_kinds.yaml"


def kinds_path(directory: Path | None = None) -> Path:
    """The config folder's file, else the one shipped with Pantau (a test config may lack it)."""
    path = config_dir(directory) / "accused_kinds.yaml"
    return path if path.exists() else SHIPPED


@lru_cache(maxsize=4)
def load_kinds(path: Path | None = None) -> KindRules:
    data = load_model(path or kinds_path(), KindsFile)
    patterns = tuple(
        (
            entry.label,
            re.compile(
                r"(?<!\w)(?:" + "|".join(re.escape(w) for w in entry.words) + r")(?!\w)",
                re.IGNORECASE,
            ),
        )
        for entry in data.kinds
    )
    return KindRules(fallback=data.fallback, patterns=patterns)

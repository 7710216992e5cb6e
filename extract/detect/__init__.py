"""Neutrality-breach detection. (Interface placeholder: the detection helper builds it.)"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from extract.models import Article, Finding


class Detector:
    version = "0-placeholder"

    def analyze(self, article: Article) -> Finding:
        return Finding(verdict="other", score=0.0, analyzer_version=self.version)


@lru_cache(maxsize=4)
def load_detector(rules_dir: Path | None = None) -> Detector:
    return Detector()

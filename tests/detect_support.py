"""What the detector test modules share (the `detector` fixture is in conftest.py)."""

from __future__ import annotations

from pathlib import Path

from extract.detect import Detector
from extract.models import Finding
from extract.text import read_document

DETECT_FIXTURES = Path(__file__).parent / "fixtures" / "detect"


def analyse(detector: Detector, name: str) -> Finding:
    _, article = read_document(DETECT_FIXTURES / name)
    return detector.analyze(article)


def accused_names(finding: Finding) -> list[str | None]:
    return [official.name for official in finding.officials]

"""The accused-person model: rebuilt from the corpus it names, refused when it does not fit."""

from __future__ import annotations

from pathlib import Path

import pytest

from extract.detect.accused_model import MODEL_FILE, load_accused_model
from extract.detect.rules import DEFAULT_RULES_DIR
from extract.detect.train_accused import build_model, corpus_digest, write_model
from pantau.core.settings import ConfigError

DEV = Path(__file__).parent / "fixtures" / "accused" / "dev"


def test_the_shipped_model_was_fitted_on_the_development_corpus_as_it_is() -> None:
    model = load_accused_model(DEFAULT_RULES_DIR)
    assert model is not None
    assert model.trained_on["digest"] == corpus_digest([DEV]), "run `make accused-model`"


def test_fitting_twice_gives_the_same_file(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    for out in (first, second):
        write_model(build_model([DEV], DEFAULT_RULES_DIR, l2=1.0, threshold=0.5, floor=0.15), out)
    assert first.read_bytes() == second.read_bytes()
    shipped = (DEFAULT_RULES_DIR / MODEL_FILE).read_text(encoding="utf-8")
    assert (
        first.read_text(encoding="utf-8").split("trained_on:")[0] == shipped.split("trained_on:")[0]
    )


def test_a_model_built_for_other_features_is_refused_naming_the_file(tmp_path: Path) -> None:
    text = (DEFAULT_RULES_DIR / MODEL_FILE).read_text(encoding="utf-8")
    (tmp_path / MODEL_FILE).write_text(text.replace("- rule_accused\n", "- old_feature\n"))
    with pytest.raises(ConfigError, match=r"accused_model\.yaml: .*make accused-model"):
        load_accused_model(tmp_path)


def test_without_a_model_file_the_rules_decide(tmp_path: Path) -> None:
    assert load_accused_model(tmp_path) is None

"""Configuration loads into typed objects; a broken file names file, entry and problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from pantau.core.settings import (
    DEFAULT_CONFIG_DIR,
    DEFAULTS,
    DEFAULTS_FILE,
    ConfigError,
    Settings,
    database_path,
    load_offices,
    load_settings,
    load_sites,
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_the_shipped_config_loads():
    settings = load_settings(DEFAULT_CONFIG_DIR)
    assert settings.digest.timezone == "Asia/Jakarta"
    load_sites(DEFAULT_CONFIG_DIR)
    load_offices(DEFAULT_CONFIG_DIR)


def test_a_bad_site_entry_is_named_by_index_and_id(tmp_path: Path):
    write(
        tmp_path,
        "sites.yaml",
        "sites:\n  - id: ok\n    name: A\n    url: https://a.id\n"
        "  - id: beritaku\n    name: B\n    url: ftp://b.id\n",
    )
    with pytest.raises(ConfigError) as err:
        load_sites(tmp_path)
    assert str(err.value).startswith(f"{tmp_path / 'sites.yaml'}: sites[1] (id 'beritaku').url:")
    assert "not an http(s) URL" in str(err.value)


def test_an_invalid_regex_is_reported(tmp_path: Path):
    write(
        tmp_path,
        "sites.yaml",
        "sites:\n  - id: a\n    name: A\n    url: https://a.id\n"
        "    article_pattern: '/berita/(['\n",
    )
    with pytest.raises(ConfigError, match=r"article_pattern: not a valid regular expression"):
        load_sites(tmp_path)


def test_broken_yaml_names_the_line(tmp_path: Path):
    write(tmp_path, "offices.yaml", "offices:\n  - id: x\n   name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"offices.yaml: line \d+ invalid YAML"):
        load_offices(tmp_path)


def test_an_unknown_key_is_rejected_not_ignored(tmp_path: Path):
    write(tmp_path, "settings.yaml", "smtp:\n  hots: mail.example\n")
    with pytest.raises(ConfigError, match=r"smtp.hots: Extra inputs are not permitted"):
        load_settings(tmp_path)


def test_duplicate_site_ids_are_rejected(tmp_path: Path):
    entry = "  - id: a\n    name: A\n    url: https://a.id\n"
    write(tmp_path, "sites.yaml", "sites:\n" + entry + entry)
    with pytest.raises(ConfigError, match="appears twice"):
        load_sites(tmp_path)


def test_environment_overrides_smtp_host_and_port(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("PANTAU_SMTP_HOST", "mail.bawaslu.example")
    monkeypatch.setenv("PANTAU_SMTP_PORT", "2525")
    monkeypatch.setenv("PANTAU_SMTP_PASSWORD", "rahasia")
    smtp = load_settings(tmp_path).smtp
    assert (smtp.host, smtp.port, smtp.password) == ("mail.bawaslu.example", 2525, "rahasia")


def test_db_flag_beats_environment_beats_settings(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("PANTAU_DB", str(tmp_path / "env.db"))
    assert database_path(tmp_path / "flag.db") == tmp_path / "flag.db"
    assert database_path(None) == tmp_path / "env.db"


def setting_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every leaf setting of a settings model, as dotted keys."""
    keys = []
    for name, field in model.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            keys.extend(setting_keys(kind, f"{prefix}{name}."))
        else:
            keys.append(prefix + name)
    return keys


def commented_keys(path: Path) -> dict[str, bool]:
    """Each key of a YAML mapping file, and whether a comment right above or beside says
    what it is."""
    found: dict[str, bool] = {}
    parents: list[tuple[int, str]] = []
    previous = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith(("#", "-")) and ":" in stripped:
            indent = len(line) - len(line.lstrip())
            while parents and parents[-1][0] >= indent:
                parents.pop()
            name = stripped.split(":", 1)[0]
            key = ".".join([p for _, p in parents] + [name])
            found[key] = previous.startswith("#") or " # " in stripped
            parents.append((indent, name))
        previous = stripped
    return found


def test_every_setting_has_a_commented_default_in_the_defaults_file():
    documented = commented_keys(DEFAULTS_FILE)
    missing = [key for key in setting_keys(Settings) if key not in documented]
    uncommented = [key for key in setting_keys(Settings) if not documented.get(key, True)]
    assert missing == [], f"settings without a default in {DEFAULTS_FILE.name}"
    assert uncommented == [], "defaults without a comment saying what they mean"


def test_the_defaults_file_holds_nothing_but_settings():
    assert Settings.model_validate(DEFAULTS) == Settings()


def test_relative_paths_resolve_against_the_project_of_the_config_in_use(tmp_path, monkeypatch):
    from pantau.core.settings import resolve_path

    config = tmp_path / "project" / "config"
    config.mkdir(parents=True)
    monkeypatch.setenv("PANTAU_CONFIG", str(config))
    monkeypatch.chdir(tmp_path)
    assert resolve_path("data/pantau.db") == tmp_path / "project" / "data" / "pantau.db"


def test_a_config_folder_in_the_current_directory_is_the_operators(tmp_path, monkeypatch):
    from pantau.core.settings import config_dir, resolve_path

    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.yaml").write_text("", encoding="utf-8")
    monkeypatch.delenv("PANTAU_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert config_dir() == tmp_path / "config"
    assert resolve_path("data/pantau.db") == tmp_path / "data" / "pantau.db"

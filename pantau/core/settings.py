"""Operator-editable configuration, loaded into typed objects.

Every YAML file under ``config/`` is validated on load; a broken file raises
``ConfigError`` whose message names the file, the entry and the problem, so the
CLI can print one line an operator can act on.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)
from pydantic.networks import validate_email

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_DIR = PROJECT_ROOT / "config"
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"


class HasId(Protocol):
    @property
    def id(self) -> str: ...


ModelWithId = TypeVar("ModelWithId", bound=HasId)


class PantauError(Exception):
    """Base for errors the CLI reports as one line and a non-zero exit."""


class ConfigError(PantauError):
    """A configuration file is missing, unreadable or invalid."""


def unique_ids(items: list[ModelWithId], what: str) -> list[ModelWithId]:
    """Validator body for lists whose entries are referred to by id."""
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise ValueError(f"{what} {item.id!r} appears twice")
        seen.add(item.id)
    return items


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- settings.yaml ----------------------------------------------------------------


class CrawlSettings(StrictModel):
    user_agent: str = "PantauBot/0.1 (+mailto:{contact})"
    contact: str = "it@bawaslu.example"
    obey_robots: bool = True
    concurrent_requests: int = Field(16, ge=1)
    concurrent_per_domain: int = Field(2, ge=1)
    download_delay: float = Field(0.5, ge=0)
    autothrottle_max_delay: float = Field(30.0, gt=0)
    autothrottle_target_concurrency: float = Field(1.0, gt=0)
    download_timeout: float = Field(30.0, gt=0)
    max_body_bytes: int = Field(5 * 1024 * 1024, ge=1024)
    retry_times: int = Field(3, ge=0)
    redirect_max: int = Field(5, ge=0)
    default_interval_minutes: int = Field(60, ge=1)
    max_concurrent_crawls: int = Field(2, ge=1)
    jitter_seconds: int = Field(120, ge=0)
    # The scheduler stops a crawl running longer than this, so a hung site cannot hold a slot.
    max_run_minutes: int = Field(120, ge=1)
    max_pages: int = Field(500, ge=1)
    # Processes that extract, dedup, detect and store crawled pages beside the reactor
    # (crawler/worker.py); 0 runs that work inside the crawl process (debugging, tests).
    ingest_processes: int = Field(1, ge=0)

    @property
    def resolved_user_agent(self) -> str:
        return self.user_agent.replace("{contact}", self.contact)


class DedupSettings(StrictModel):
    """Story clustering; the thresholds are chosen from measurements (see settings.yaml)."""

    num_perm: int = Field(128, ge=16)
    shingle_words: int = Field(5, ge=1)
    lsh_threshold: float = Field(0.3, gt=0, lt=1)
    jaccard_min: float = Field(0.4, gt=0, le=1)
    containment_min: float = Field(0.7, gt=0, le=1)
    min_shingles: int = Field(8, ge=1)
    max_words: int = Field(5000, ge=50)
    max_candidates: int = Field(50, ge=1)


class SmtpSettings(StrictModel):
    host: str = "127.0.0.1"
    port: int = Field(25, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "none"
    username: str | None = None
    sender: str = "Pantau <pantau@bawaslu.example>"
    timeout: float = Field(30.0, gt=0)

    @property
    def password(self) -> str | None:
        """Secrets never live in files under git: only the environment holds them."""
        return os.environ.get("PANTAU_SMTP_PASSWORD")


class DigestSettings(StrictModel):
    time: dt.time = dt.time(7, 0)
    timezone: str = "Asia/Jakarta"
    grace_minutes: int = Field(180, ge=0)
    max_stories: int = Field(50, ge=1)
    min_score: float = Field(0.5, ge=0, le=1)
    review_url: str = "http://localhost:8000/findings"


class Settings(StrictModel):
    db_path: str = "data/pantau.db"
    outbox_dir: str = "data/outbox"
    crawl_state_dir: str = "data/crawl-state"
    crawl: CrawlSettings = CrawlSettings()
    dedup: DedupSettings = DedupSettings()
    smtp: SmtpSettings = SmtpSettings()
    digest: DigestSettings = DigestSettings()


# --- sites.yaml ---------------------------------------------------------------------


class SiteConfig(StrictModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    url: str
    feeds: list[str] = []
    sitemaps: list[str] = []
    listings: list[str] = []
    article_pattern: str | None = None
    allowed_domains: list[str] = []
    region: str | None = Field(None, pattern=r"^\d{2}(\.\d{2})?$")
    interval_minutes: int | None = Field(None, ge=1)
    # Seconds-level intervals exist so tests can run the real scheduler for a few seconds.
    interval_seconds: int | None = Field(None, ge=1)
    cron: str | None = None
    enabled: bool = True

    @field_validator("url", "feeds", "sitemaps", "listings")
    @classmethod
    def _http_only(cls, value: str | list[str]) -> str | list[str]:
        for url in [value] if isinstance(value, str) else value:
            if not re.match(r"^https?://[^/\s]+", url):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return value

    @field_validator("article_pattern")
    @classmethod
    def _valid_regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value


class SitesFile(StrictModel):
    sites: list[SiteConfig] = []

    @field_validator("sites")
    @classmethod
    def _unique_ids(cls, sites: list[SiteConfig]) -> list[SiteConfig]:
        return unique_ids(sites, "site id")


# --- offices.yaml -------------------------------------------------------------------


def _mail_address(entry: str) -> str:
    """`a@b.id` or `Nama <a@b.id>`, checked as pydantic's EmailStr checks (email-validator)."""
    validate_email(entry)
    return entry


# A To/Cc entry, refused at load (naming the office) rather than at send time.
MailAddress = Annotated[str, AfterValidator(_mail_address)]


class OfficeConfig(StrictModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    name: str
    level: Literal["ri", "provinsi", "kabkota"]
    regions: list[str] = []
    to: list[MailAddress] = []
    cc: list[MailAddress] = []
    min_score: float | None = Field(None, ge=0, le=1)
    send_empty: bool = False

    @field_validator("regions")
    @classmethod
    def _region_codes(cls, codes: list[str]) -> list[str]:
        for code in codes:
            if not re.fullmatch(r"\d{2}(\.\d{2})?", code):
                raise ValueError(f"{code!r} is not a Kemendagri code (NN or NN.NN)")
        return codes


class OfficesFile(StrictModel):
    offices: list[OfficeConfig] = []


# --- loading ------------------------------------------------------------------------

ModelT = TypeVar("ModelT", bound=BaseModel)


def read_yaml(path: Path) -> Any:
    """Parse one YAML file, turning every failure into a ConfigError naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}:{where} invalid YAML: {problem}") from None


def describe_location(data: Any, loc: Sequence[int | str]) -> str:
    """Render a pydantic error location as `sites[2] (id 'x').feeds[0]`."""
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int):
            label = f"[{key}]"
            if isinstance(node, list) and key < len(node):
                node = node[key]
                if isinstance(node, dict) and "id" in node:
                    label += f" (id {node['id']!r})"
            parts.append(label)
        else:
            parts.append(("." if parts else "") + str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return "".join(parts) or "top level"


def load_model(path: Path, model: type[ModelT], data: Any = None) -> ModelT:
    """Validate YAML content against a model; the error names file, entry and problem."""
    if data is None:
        data = read_yaml(path)
    if data is None:
        data = {}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = describe_location(data, first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        more = len(exc.errors()) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise ConfigError(f"{path}: {where}: {message}{suffix}") from None


def config_dir(explicit: str | Path | None = None) -> Path:
    chosen = explicit or os.environ.get("PANTAU_CONFIG") or DEFAULT_CONFIG_DIR
    return Path(chosen)


def load_settings(directory: Path | None = None) -> Settings:
    """settings.yaml plus environment overrides for what differs per machine."""
    path = config_dir(directory) / "settings.yaml"
    settings = load_model(path, Settings) if path.exists() else Settings()
    smtp_overrides: dict[str, Any] = {}
    if host := os.environ.get("PANTAU_SMTP_HOST"):
        smtp_overrides["host"] = host
    if port := os.environ.get("PANTAU_SMTP_PORT"):
        if not port.isdigit():
            raise ConfigError(f"PANTAU_SMTP_PORT: {port!r} is not a port number")
        smtp_overrides["port"] = int(port)
    if smtp_overrides:
        settings = settings.model_copy(
            update={"smtp": settings.smtp.model_copy(update=smtp_overrides)}
        )
    return settings


def load_sites(directory: Path | None = None) -> list[SiteConfig]:
    return load_model(config_dir(directory) / "sites.yaml", SitesFile).sites


def load_offices(directory: Path | None = None) -> list[OfficeConfig]:
    return load_model(config_dir(directory) / "offices.yaml", OfficesFile).offices


def resolve_path(value: str | Path) -> Path:
    """Relative runtime paths in settings are relative to the project root."""
    path = Path(value)
    return path if path.is_absolute() else PROJECT_ROOT / path


def database_path(explicit: str | Path | None = None, settings: Settings | None = None) -> Path:
    """--db beats PANTAU_DB beats settings.yaml."""
    if explicit:
        return Path(explicit)
    if env := os.environ.get("PANTAU_DB"):
        return Path(env)
    return resolve_path((settings or load_settings()).db_path)

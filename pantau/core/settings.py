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

# What the program ships beside its code: the default config and rules (config/) and its
# data (data/: demo outlets, region data). In a source checkout they are the repository's
# folders; an installed wheel carries them inside the package, under pantau/shipped/.
PROJECT_ROOT = Path(__file__).resolve().parents[2]  # the checkout (site-packages if installed)
_INSTALLED = Path(__file__).resolve().parents[1] / "shipped"


def _shipped(name: str) -> Path:
    installed = _INSTALLED / name
    return installed if installed.is_dir() else PROJECT_ROOT / name


DEFAULT_CONFIG_DIR = _shipped("config")
DEFAULT_DATA_DIR = _shipped("data")
DEFAULTS_FILE = Path(__file__).with_name("defaults.yaml")


def _load_defaults() -> dict[str, Any]:
    with open(DEFAULTS_FILE, encoding="utf-8") as handle:
        loaded = yaml.safe_load(handle)
    return loaded if isinstance(loaded, dict) else {}


DEFAULTS = _load_defaults()


def default(key: str) -> Any:
    """The default of a setting (`crawl.max_pages`), as written in defaults.yaml: the one
    place defaults live, so no second copy can drift from it."""
    node: Any = DEFAULTS
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"{DEFAULTS_FILE}: no default for {key}")
        node = node[part]
    return node


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


class SettingsModel(StrictModel):
    """A section of settings.yaml; its defaults come from defaults.yaml and are validated
    like the operator's values (so "07:00" there becomes a time here)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


# --- settings.yaml (every default and what it means: defaults.yaml) ----------------


class CrawlSettings(SettingsModel):
    user_agent: str = Field(default("crawl.user_agent"))
    contact: str = Field(default("crawl.contact"))
    obey_robots: bool = Field(default("crawl.obey_robots"))
    concurrent_requests: int = Field(default("crawl.concurrent_requests"), ge=1)
    concurrent_per_domain: int = Field(default("crawl.concurrent_per_domain"), ge=1)
    download_delay: float = Field(default("crawl.download_delay"), ge=0)
    autothrottle_max_delay: float = Field(default("crawl.autothrottle_max_delay"), gt=0)
    autothrottle_target_concurrency: float = Field(
        default("crawl.autothrottle_target_concurrency"), gt=0
    )
    download_timeout: float = Field(default("crawl.download_timeout"), gt=0)
    max_body_bytes: int = Field(default("crawl.max_body_bytes"), ge=1024)
    retry_times: int = Field(default("crawl.retry_times"), ge=0)
    redirect_max: int = Field(default("crawl.redirect_max"), ge=0)
    max_retry_after: float = Field(default("crawl.max_retry_after"), ge=0)
    default_interval_minutes: int = Field(default("crawl.default_interval_minutes"), ge=1)
    max_concurrent_crawls: int = Field(default("crawl.max_concurrent_crawls"), ge=1)
    jitter_seconds: int = Field(default("crawl.jitter_seconds"), ge=0)
    max_run_minutes: int = Field(default("crawl.max_run_minutes"), ge=1)
    max_pages: int = Field(default("crawl.max_pages"), ge=1)
    max_requests: int = Field(default("crawl.max_requests"), ge=10)
    listing_depth: int = Field(default("crawl.listing_depth"), ge=1)
    max_sitemap_depth: int = Field(default("crawl.max_sitemap_depth"), ge=1)
    recent_sitemap_days: int = Field(default("crawl.recent_sitemap_days"), ge=1)
    recent_sitemap_children: int = Field(default("crawl.recent_sitemap_children"), ge=1)
    max_article_pages: int = Field(default("crawl.max_article_pages"), ge=1)
    ingest_processes: int = Field(default("crawl.ingest_processes"), ge=0)
    worker_max_pages: int = Field(default("crawl.worker_max_pages"), ge=1)
    worker_max_mb: int = Field(default("crawl.worker_max_mb"), ge=100)
    host_max_crawls: int = Field(default("crawl.host_max_crawls"), ge=1)
    host_max_mb: int = Field(default("crawl.host_max_mb"), ge=100)
    handoff_timeout_seconds: float = Field(default("crawl.handoff_timeout_seconds"), gt=0)

    @property
    def resolved_user_agent(self) -> str:
        return self.user_agent.replace("{contact}", self.contact)


class DedupSettings(SettingsModel):
    """Story clustering; the thresholds are chosen from measurements (see defaults.yaml)."""

    num_perm: int = Field(default("dedup.num_perm"), ge=16)
    shingle_words: int = Field(default("dedup.shingle_words"), ge=1)
    lsh_threshold: float = Field(default("dedup.lsh_threshold"), gt=0, lt=1)
    jaccard_min: float = Field(default("dedup.jaccard_min"), gt=0, le=1)
    containment_min: float = Field(default("dedup.containment_min"), gt=0, le=1)
    min_shingles: int = Field(default("dedup.min_shingles"), ge=1)
    max_words: int = Field(default("dedup.max_words"), ge=50)
    max_candidates: int = Field(default("dedup.max_candidates"), ge=1)
    sentence_near_identical: float = Field(default("dedup.sentence_near_identical"), gt=0, le=1)
    sentence_min_matched: int = Field(default("dedup.sentence_min_matched"), ge=1)
    sentence_min_share: float = Field(default("dedup.sentence_min_share"), gt=0, le=1)


class SmtpSettings(SettingsModel):
    host: str = Field(default("smtp.host"))
    port: int = Field(default("smtp.port"), ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = Field(default("smtp.security"))
    username: str | None = Field(default("smtp.username"))
    sender: str = Field(default("smtp.sender"))
    timeout: float = Field(default("smtp.timeout"), gt=0)

    @property
    def password(self) -> str | None:
        """Secrets never live in files under git: only the environment holds them."""
        return os.environ.get("PANTAU_SMTP_PASSWORD")


class DigestSettings(SettingsModel):
    time: dt.time = Field(default("digest.time"))
    timezone: str = Field(default("digest.timezone"))
    grace_minutes: int = Field(default("digest.grace_minutes"), ge=0)
    max_stories: int = Field(default("digest.max_stories"), ge=1)
    min_score: float = Field(default("digest.min_score"), ge=0, le=1)
    review_url: str = Field(default("digest.review_url"))
    stale_after_minutes: int = Field(default("digest.stale_after_minutes"), ge=1)
    retry_backoff_minutes: int = Field(default("digest.retry_backoff_minutes"), ge=1)
    retry_backoff_max_minutes: int = Field(default("digest.retry_backoff_max_minutes"), ge=1)
    refused_max_attempts: int = Field(default("digest.refused_max_attempts"), ge=1)


class WorkspaceSettings(SettingsModel):
    session_hours: int = Field(default("workspace.session_hours"), ge=1)
    page_size: int = Field(default("workspace.page_size"), ge=1, le=500)
    lockout_failures: int = Field(default("workspace.lockout_failures"), ge=1)
    lockout_window_minutes: int = Field(default("workspace.lockout_window_minutes"), ge=1)
    lockout_minutes: int = Field(default("workspace.lockout_minutes"), ge=1)


class Settings(SettingsModel):
    db_path: str = Field(default("db_path"))
    outbox_dir: str = Field(default("outbox_dir"))
    crawl_state_dir: str = Field(default("crawl_state_dir"))
    crawl: CrawlSettings = CrawlSettings()
    dedup: DedupSettings = DedupSettings()
    smtp: SmtpSettings = SmtpSettings()
    digest: DigestSettings = DigestSettings()
    workspace: WorkspaceSettings = WorkspaceSettings()


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
    """The operator's config folder: given, else PANTAU_CONFIG, else `./config` when the
    current directory has one, else the defaults shipped with Pantau."""
    if chosen := explicit or os.environ.get("PANTAU_CONFIG"):
        return Path(chosen)
    here = Path("config")
    return here.resolve() if (here / "settings.yaml").is_file() else DEFAULT_CONFIG_DIR


def project_root() -> Path:
    """The operator's project, against which relative paths in settings resolve: the parent
    of the config folder in use (a checkout's own config: the checkout). With the config
    shipped inside an installed package, the current directory."""
    chosen = config_dir().resolve()
    if chosen == (_INSTALLED / "config").resolve():
        return Path.cwd()
    return chosen.parent


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
    """A path from settings: relative ones are relative to the operator's project (the
    config folder's parent), never to wherever Pantau happens to be installed."""
    path = Path(value)
    return path if path.is_absolute() else project_root() / path


def per_database_dir(setting: str, db_path: Path, kind: str) -> Path:
    """A folder of files that belong to one database (crawl state...): the one the settings
    name, else `<db stem>-<kind>/` beside the database, so a second database never shares
    or overwrites the first one's files."""
    if setting:
        return resolve_path(setting)
    return db_path.parent / f"{db_path.stem}-{kind}"


def database_path(explicit: str | Path | None = None, settings: Settings | None = None) -> Path:
    """--db beats PANTAU_DB beats settings.yaml."""
    if explicit:
        return Path(explicit)
    if env := os.environ.get("PANTAU_DB"):
        return Path(env)
    return resolve_path((settings or load_settings()).db_path)

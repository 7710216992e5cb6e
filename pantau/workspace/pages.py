"""What every page shares: the configuration, a database connection per request, the
templates, the signed-in user and the office-area check.

Every page needs an account; every story, list, chart and export is limited to the
account's office area, and a story outside it answers 404 exactly like one that does not
exist. Each request opens its own SQLite connection (the file is in WAL mode, so the
crawler and the digest keep writing while officers read).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlite_utils import Database
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse

from alerts.categories import Catalog, load_catalog
from pantau.core import store
from pantau.core.settings import OfficeConfig, SiteConfig
from pantau.core.store import accounts, worklist
from pantau.workspace import auth, labels
from pantau.workspace.auth import User

HERE = Path(__file__).parent


@dataclass
class WorkspaceConfig:
    db_path: Path
    offices: list[OfficeConfig]
    secret_key: str
    sites: list[SiteConfig] = field(default_factory=list)
    timezone: str = "Asia/Jakarta"
    https_only: bool = False
    page_size: int = 25
    session_hours: int = 12
    lockout: accounts.Lockout = field(default_factory=accounts.Lockout)


def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["labels"] = labels
    return environment


class Workspace:
    """One instance per application, shared by every request and every group of pages."""

    def __init__(self, config: WorkspaceConfig):
        self.config = config
        self.offices = {office.id: office for office in config.offices}
        self.zone = ZoneInfo(config.timezone)
        self.templates = _environment()

    @contextmanager
    def database(self) -> Iterator[Database]:
        db = store.open_db(self.config.db_path, migrate=False)
        try:
            yield db
        finally:
            db.close()

    def catalog(self) -> Catalog:
        return load_catalog()

    def render(
        self, request: Request, name: str, context: dict[str, Any], status: int = 200
    ) -> HTMLResponse:
        context = {"request": request, "csrf": auth.csrf_token(request), "user": None, **context}
        html = self.templates.get_template(name).render(context)
        return HTMLResponse(html, status_code=status)

    def user(self, request: Request, db: Database) -> User:
        return auth.current_user(request, db, self.offices)

    def story_in_scope(self, db: Database, user: User, cluster_id: int) -> worklist.StoryRow:
        row = worklist.story(db, cluster_id)
        if row is None or not user.covers(row.region_code):
            raise HTTPException(404)
        return row


def whole_number(value: object, default: int | None) -> Any:
    """A page number or story id typed by hand: digits only, and short enough that a
    pasted run of digits cannot overflow SQLite's integers; anything else is the default."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else default

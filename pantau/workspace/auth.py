"""Who is asking: the signed session cookie, the account behind it, its office's scope, CSRF.

The session (Starlette's SessionMiddleware: JSON signed with itsdangerous) holds only the
account id, a stamp of its password hash (a new password ends older sessions) and the CSRF
token every form carries back.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlite_utils import Database
from starlette.requests import Request

from pantau.core.settings import OfficeConfig, PantauError
from pantau.core.store import accounts

SECRET_ENV = "PANTAU_WORKSPACE_SECRET"


class NotLoggedIn(Exception):
    """Raised by a page that needs an account; answered with a redirect to the login form."""

    def __init__(self, next_path: str):
        super().__init__(next_path)
        self.next_path = next_path


class CsrfError(Exception):
    """A form came back without the token of this session."""


@dataclass(frozen=True)
class User:
    account: accounts.Account
    office: OfficeConfig

    @property
    def scope(self) -> tuple[str, ...] | None:
        """Kemendagri code prefixes this office sees; None: everything (Bawaslu RI)."""
        if self.office.level == "ri" and not self.office.regions:
            return None
        return tuple(self.office.regions)

    def covers(self, code: str | None) -> bool:
        scope = self.scope
        if scope is None:
            return True
        return bool(code) and any(code == c or str(code).startswith(c + ".") for c in scope)

    def may_filter_by(self, code: str) -> bool:
        """A region filter inside the area, or a wider one that contains it."""
        scope = self.scope
        return self.covers(code) or (
            scope is not None and any(c.startswith(code + ".") for c in scope)
        )


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 20:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, submitted: object) -> None:
    expected = request.session.get("csrf")
    if not (isinstance(expected, str) and isinstance(submitted, str)):
        raise CsrfError
    if not hmac.compare_digest(expected.encode(), submitted.encode()):
        raise CsrfError


def start_session(request: Request, account: accounts.Account) -> None:
    request.session.clear()
    request.session.update(
        account=account.id, stamp=account.session_stamp, csrf=secrets.token_urlsafe(32)
    )


def current_user(request: Request, db: Database, offices: dict[str, OfficeConfig]) -> User:
    account_id = request.session.get("account")
    account = accounts.account_by_id(db, account_id) if isinstance(account_id, int) else None
    office = offices.get(account.office) if account else None
    if account is None or office is None or request.session.get("stamp") != account.session_stamp:
        request.session.pop("account", None)
        raise NotLoggedIn(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return User(account=account, office=office)


def login_redirect(next_path: str) -> str:
    return "/login?next=" + quote(safe_next(next_path), safe="")


def safe_next(value: str | None) -> str:
    """Only paths of this site: never another host (`//evil`, `/\\evil`, `https://...`)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/findings"
    return value


def secret_key(db_path: Path) -> str:
    """PANTAU_WORKSPACE_SECRET, else a random key kept beside the database (mode 0600).

    Kept in a file so sessions survive a restart, beside the database it belongs to.
    """
    import os

    if value := os.environ.get(SECRET_ENV):
        return value
    path = db_path.with_name(db_path.name + ".workspace-key")
    try:
        if path.exists():
            return path.read_text(encoding="ascii").strip()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        key = secrets.token_urlsafe(48)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key + "\n")
        return key
    except OSError as exc:
        raise PantauError(f"{path}: cannot keep the session key ({exc.strerror})") from None

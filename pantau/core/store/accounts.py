"""Workspace accounts: one Bawaslu office each, passwords under scrypt, lockout by attempts.

Passwords are hashed with the standard library's scrypt (memory-hard, no extra dependency)
and a random salt; the parameters are stored with each hash so they can be raised later
without breaking old accounts. Login attempts are recorded per e-mail address; repeated
failures lock the address for a while, whether or not an account exists behind it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from pantau.core.settings import PantauError
from pantau.core.store import insert_returning_id, utcnow, write_transaction

# 2**15 x 8 x 128 bytes = 32 MiB and ~0.1 s per hash on one core: slow for a guesser,
# quick enough for a login.
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_MAXMEM = 64 * 1024 * 1024
MIN_PASSWORD_LENGTH = 10

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class AccountError(PantauError):
    """An account cannot be created or changed (bad address, weak password, unknown user)."""


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    office: str
    password_hash: str
    created_at: str

    @property
    def session_stamp(self) -> str:
        """Changes with the password, so a new password ends every older session."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]


# --- passwords ---------------------------------------------------------------------------


def hash_password(password: str, *, n: int = SCRYPT_N) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, n, SCRYPT_R, SCRYPT_P)
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=SCRYPT_MAXMEM, dklen=32
    )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")


def normal_email(email: str) -> str:
    return email.strip().lower()


# --- accounts ----------------------------------------------------------------------------


def add_account(
    db: Database, email: str, office: str, password: str, *, cost: int = SCRYPT_N
) -> Account:
    """`cost` is scrypt's N; it is stored with the hash, so tests may use a cheap one."""
    email = normal_email(email)
    if not EMAIL.fullmatch(email):
        raise AccountError(f"{email!r} is not an e-mail address")
    check_password(password)
    password_hash = hash_password(password, n=cost)
    with write_transaction(db):
        if find_account(db, email) is not None:
            raise AccountError(f"an account for {email} exists already (use `users passwd`)")
        now = utcnow()
        insert_returning_id(
            db,
            "accounts",
            {
                "email": email,
                "office": office,
                "password_hash": password_hash,
                "created_at": now,
                "updated_at": now,
            },
        )
    account = find_account(db, email)
    assert account is not None
    return account


def set_password(db: Database, email: str, password: str, *, cost: int = SCRYPT_N) -> Account:
    check_password(password)
    account = find_account(db, email)
    if account is None:
        raise AccountError(f"no account for {normal_email(email)}")
    with write_transaction(db):
        db.execute(
            "update accounts set password_hash = ?, updated_at = ? where id = ?",
            [hash_password(password, n=cost), utcnow(), account.id],
        )
        # A new password also lifts a lockout.
        _record_attempt(db, account.email, ok=True)
    updated = find_account(db, email)
    assert updated is not None
    return updated


def find_account(db: Database, email: str) -> Account | None:
    row = db.execute(
        "select id, email, office, password_hash, created_at from accounts where email = ?",
        [normal_email(email)],
    ).fetchone()
    return Account(*row) if row else None


def account_by_id(db: Database, account_id: int) -> Account | None:
    row = db.execute(
        "select id, email, office, password_hash, created_at from accounts where id = ?",
        [account_id],
    ).fetchone()
    return Account(*row) if row else None


def list_accounts(db: Database) -> list[Account]:
    return [
        Account(*row)
        for row in db.execute(
            "select id, email, office, password_hash, created_at from accounts "
            "order by office, email"
        ).fetchall()
    ]


def last_login(db: Database, email: str) -> str | None:
    row = db.execute(
        "select max(at) from login_attempts where email = ? and ok = 1", [normal_email(email)]
    ).fetchone()
    return row[0] if row else None


# --- logging in and the lockout --------------------------------------------------------


@dataclass(frozen=True)
class Lockout:
    failures: int = 5  # failed attempts in a row ...
    window: timedelta = timedelta(minutes=15)  # ... within this long lock the address ...
    duration: timedelta = timedelta(minutes=15)  # ... for this long after the last one


@dataclass(frozen=True)
class LoginResult:
    account: Account | None
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.account is not None


def locked_until(
    db: Database, email: str, now: datetime, policy: Lockout = Lockout()
) -> datetime | None:
    """When the address may try again, if recent failures have locked it."""
    email = normal_email(email)
    last_success = db.execute(
        "select max(at) from login_attempts where email = ? and ok = 1", [email]
    ).fetchone()[0]
    since = (now - policy.window).isoformat(timespec="seconds")
    if last_success and last_success > since:
        since = last_success
    failures = [
        row[0]
        for row in db.execute(
            "select at from login_attempts where email = ? and ok = 0 and at > ? order by at desc",
            [email, since],
        ).fetchall()
    ]
    if len(failures) < policy.failures:
        return None
    until = datetime.fromisoformat(failures[0]) + policy.duration
    return until if until > now else None


def log_in(
    db: Database,
    email: str,
    password: str,
    *,
    now: datetime | None = None,
    policy: Lockout = Lockout(),
) -> LoginResult:
    """Check a password, honouring and extending the lockout; every attempt is recorded.

    A locked address is refused without checking the password, so guessing on stops
    counting for anything.
    """
    now = (now or datetime.now(UTC)).astimezone(UTC)
    email = normal_email(email)
    until = locked_until(db, email, now, policy)
    if until is not None:
        return LoginResult(None, locked_until=until)
    account = find_account(db, email)
    ok = account is not None and verify_password(password, account.password_hash)
    if account is None:
        # Spend the same time as a real check, so timing does not tell which addresses exist.
        verify_password(password, _DUMMY_HASH)
    with write_transaction(db):
        _record_attempt(db, email, ok=ok, at=now)
    if ok:
        return LoginResult(account)
    return LoginResult(None, locked_until=locked_until(db, email, now, policy))


def _record_attempt(db: Database, email: str, *, ok: bool, at: datetime | None = None) -> None:
    moment = (at or datetime.now(UTC)).isoformat(timespec="seconds")
    insert_returning_id(db, "login_attempts", {"email": email, "ok": int(ok), "at": moment})


_DUMMY_HASH = (
    f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}$" + _b64(b"\0" * 16) + "$" + _b64(b"\0" * 32)
)

"""One scheduler per database: an flock on `<db>.lock` that names its holder."""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any

from pantau.core import store
from pantau.core.calendar import operator_time
from pantau.core.settings import PantauError


class SchedulerError(PantauError):
    """The service cannot start or run."""


class AlreadyRunningError(SchedulerError):
    """Another `pantau schedule` holds the database."""


@dataclass(frozen=True)
class LockHolder:
    pid: int
    host: str
    started_at: str

    def describe(self, timezone: tzinfo) -> str:
        """Who holds the lock, and since when in the operator's zone (stored in UTC)."""
        return f"pid {self.pid} on {self.host}, since {operator_time(self.started_at, timezone)}"


def lock_path_for(db_path: Path) -> Path:
    db_path = db_path.resolve()
    return db_path.with_name(db_path.name + ".lock")


def _read_holder(handle: Any) -> LockHolder | None:
    handle.seek(0)
    try:
        data = json.loads(handle.read() or "{}")
        return LockHolder(int(data["pid"]), str(data["host"]), str(data["started_at"]))
    except (ValueError, KeyError, TypeError):
        return None


class InstanceLock:
    """An flock on `<db>.lock`: the kernel drops it when the holder dies, so no stale locks.

    The file also records who holds it, so a refused second instance can name the process.
    """

    def __init__(self, db_path: Path, timezone: tzinfo = UTC):
        self.db_path = db_path
        self.timezone = timezone  # the zone a refusal names the holder's start time in
        self.path = lock_path_for(db_path)
        self._handle: Any = None

    def acquire(self, attempts: int = 5) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release
        for attempt in range(attempts):
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                # `pantau status` probes with a brief shared lock: retry past that.
                if attempt == attempts - 1:
                    holder = _read_holder(handle)
                    handle.close()
                    who = holder.describe(self.timezone) if holder else "another process"
                    raise AlreadyRunningError(
                        f"{self.db_path}: already scheduled by another `pantau schedule` "
                        f"({who}); stop it first (lock file {self.path})"
                    ) from None
                time.sleep(0.1)
        holder = LockHolder(os.getpid(), socket.gethostname(), store.utcnow())
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(holder.__dict__))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.seek(0)
            self._handle.truncate()
            self._handle.flush()
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def running_scheduler(db_path: Path) -> LockHolder | None:
    """Who runs the scheduler on this database now, or None (probes without blocking it)."""
    path = lock_path_for(db_path)
    if not path.exists():
        return None
    with open(path, encoding="utf-8") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(handle) or LockHolder(0, "unknown", "")
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return None

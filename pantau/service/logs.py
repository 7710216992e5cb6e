"""The service's log: readable lines, or one JSON object per line for a log shipper."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, for journald/Loki/ELK."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_service_logging(json_lines: bool = False) -> None:
    """A service logs its jobs at INFO to stderr (journald keeps it); PANTAU_LOG_LEVEL wins."""
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonLogFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(os.environ.get("PANTAU_LOG_LEVEL", "INFO").upper())
    # Our own lines say when each job starts and ends; APScheduler's repeat them.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)

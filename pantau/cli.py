"""Entry point: register every command module and turn errors into one clear line."""

from __future__ import annotations

import logging
import os
import sys

from pantau.commands import app
from pantau.core.settings import PantauError

COMMAND_MODULES = (
    "analysis",
    "crawl",
    "alerts",
    "stories",
    "cases",
    "coverage",
    "evaluate",
    "service",
    "demo",
    "workspace",
)


def register_commands() -> None:
    """Import each command module for its side effect of adding commands to `app`.

    The modules import their stages lazily, so this stays cheap and `pantau --help`,
    `pantau status` and every scheduled subprocess start fast.
    """
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(f"pantau.commands.{name}")


def configure_logging(json_lines: bool = False) -> None:
    level = os.environ.get("PANTAU_LOG_LEVEL", "WARNING").upper()
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def main() -> None:
    configure_logging()
    register_commands()
    try:
        app()
    except PantauError as exc:
        print(f"pantau: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("pantau: interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()

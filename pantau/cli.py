"""Entry point: register every command module and turn errors into one clear line."""

from __future__ import annotations

import logging
import os
import sys

from pantau.commands import app
from pantau.settings import PantauError


def _register_commands() -> None:
    # Imported for their side effect: each module adds its commands to `app`.
    import importlib

    for name in ("analysis", "crawl", "alerts", "stories", "evaluate", "service", "demo"):
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
    _register_commands()
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

"""Entry point: register every command module and turn errors into one clear line."""

from __future__ import annotations

import logging
import os
import sys
from typing import NoReturn

import typer

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


def fail(message: str, code: int) -> NoReturn:
    """Every error the operator sees is one line on stderr, and a non-zero exit."""
    print(f"pantau: error: {' '.join(message.split())}", file=sys.stderr)
    sys.exit(code)


def error_line(exc: typer.TyperException) -> str:
    """A usage error names its command: `pantau digest: No such option: --bogus (see
    pantau digest --help)`; any other Click error is its message."""
    ctx = getattr(exc, "ctx", None)
    message = exc.format_message()
    if ctx is None:
        return message
    return f"{ctx.command_path}: {message} (see {ctx.command_path} --help)"


def main() -> None:
    configure_logging()
    register_commands()
    try:
        # Not standalone: Click's and Typer's own error boxes would take several lines.
        code = app(standalone_mode=False, prog_name="pantau")
    except typer.TyperException as exc:  # Click's errors, as Typer vendors them
        if type(exc).__name__ == "NoArgsIsHelpError":
            exc.show()  # type: ignore[attr-defined]  # `pantau` alone shows the help
            sys.exit(exc.exit_code)
        fail(error_line(exc), exc.exit_code)
    except typer.Abort:
        print("pantau: aborted", file=sys.stderr)
        sys.exit(1)
    except PantauError as exc:
        fail(str(exc), 2)
    except KeyboardInterrupt:
        code = 130
    if code == 130:
        print("pantau: interrupted", file=sys.stderr)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()

"""Why a request failed, named from the exception's type, in words `pantau status` shows.

Our own downloader middlewares raise the `Skipped` subclasses below, each carrying its
cause; Scrapy's and Twisted's exceptions map by type. Nothing is read from message text.
"""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    DropItem,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as tx_error
from twisted.internet.defer import CancelledError
from twisted.python.failure import Failure

KNOWN = "known"


class Skipped(IgnoreRequest):
    """A request our middlewares refuse; `cause` is what the run records."""

    cause = "ignored"


class KnownArticle(Skipped):
    cause = KNOWN


class RobotsForbidden(Skipped):
    cause = "robots-forbidden"


class RedirectLoop(Skipped):
    cause = "redirect-loop"


class Offsite(Skipped):
    cause = "offsite"


class NotHttp(Skipped):
    cause = "not-http"


class Oversize(Skipped):
    cause = "oversize"


class OverBudget(Skipped):
    cause = "request-budget"


class Dropped(DropItem):
    """An item a pipeline does not pass on; the store extension counts it by `cause`.

    A failure (`failed=True`) is recorded like a failed request; anything else (an
    article older than --since) counts as skipped.
    """

    def __init__(self, cause: str, detail: str = "", failed: bool = True):
        super().__init__(f"{cause}: {detail}" if detail else cause, log_level="DEBUG")
        self.cause = cause
        self.detail = detail
        self.failed = failed


BY_TYPE: tuple[tuple[tuple[type[BaseException], ...], str], ...] = (
    ((CannotResolveHostError, tx_error.DNSLookupError), "dns"),
    ((DownloadTimeoutError, tx_error.TimeoutError, tx_error.TCPTimedOutError), "timeout"),
    # The only thing that cancels our downloads is the DOWNLOAD_MAXSIZE cap (a body
    # announced too large, or one that grew past it while streaming).
    ((DownloadCancelledError, CancelledError), "oversize"),
    ((DownloadConnectionRefusedError, tx_error.ConnectionRefusedError), "connection-refused"),
    ((ResponseDataLossError,), "data-loss"),
    ((DownloadFailedError, tx_error.ConnectionLost, tx_error.ConnectError), "connection"),
    ((IgnoreRequest,), "ignored"),
)


def cause_of(exc: BaseException) -> str:
    if isinstance(exc, HttpError):
        return f"http-{exc.response.status}"
    if isinstance(exc, Skipped):
        return exc.cause
    for types, cause in BY_TYPE:
        if isinstance(exc, types):
            return cause
    return "error"


def classify(failure: Failure) -> tuple[str, str]:
    """(cause, detail) for a request errback failure."""
    exc = failure.value
    if exc is None:
        return "error", "a failure without an exception"
    cause = cause_of(exc)
    detail = str(exc) or type(exc).__name__
    if cause == "error":
        detail = f"{type(exc).__name__}: {detail}"
    elif cause.startswith("http-"):
        detail = f"HTTP {cause.removeprefix('http-')}"
    elif cause == "oversize" and not str(exc):
        detail = "body larger than the size cap"
    return cause, detail

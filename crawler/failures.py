"""Name the cause of a failed request, in words an operator reads in `pantau status`."""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as tx_error
from twisted.internet.defer import CancelledError
from twisted.python.failure import Failure

KNOWN = "known"


def classify(failure: Failure) -> tuple[str, str]:
    """(cause, detail) for a request errback failure."""
    exc = failure.value
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, HttpError):
        status = exc.response.status
        return f"http-{status}", f"HTTP {status}"
    if isinstance(exc, IgnoreRequest):
        text = str(exc).lower()
        if "robots.txt" in text:
            return "robots-forbidden", detail
        if "redirect" in text:
            return "redirect-loop", detail
        if "already stored" in text:
            return KNOWN, detail
        if "offsite" in text or "allowed_domains" in text:
            return "offsite", detail
        if "http(s)" in text:
            return "not-http", detail
        return "ignored", detail
    if isinstance(exc, CannotResolveHostError | tx_error.DNSLookupError):
        return "dns", detail
    if isinstance(exc, DownloadTimeoutError | tx_error.TimeoutError | tx_error.TCPTimedOutError):
        return "timeout", detail
    if isinstance(exc, DownloadCancelledError | CancelledError):
        # The only thing that cancels our downloads is the DOWNLOAD_MAXSIZE cap (a body
        # announced too large, or one that grew past it while streaming).
        return "oversize", detail if str(exc) else "body larger than the size cap"
    if isinstance(exc, DownloadConnectionRefusedError | tx_error.ConnectionRefusedError):
        return "connection-refused", detail
    if isinstance(exc, ResponseDataLossError):
        return "data-loss", detail
    if isinstance(exc, DownloadFailedError | tx_error.ConnectionLost | tx_error.ConnectError):
        return "connection", detail
    return "error", f"{type(exc).__name__}: {detail}"


def text_of(exc: BaseException) -> str:
    return str(exc).lower()

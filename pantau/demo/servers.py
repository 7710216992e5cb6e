"""The demo's loopback servers: one HTTP server per outlet on its fixed port, and an SMTP
sink (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import email
import email.policy
import errno
import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from aiosmtpd.controller import Controller

from pantau.demo.data import HOST, DemoError, Outlet
from pantau.demo.site import Resource

log = logging.getLogger(__name__)

# --- serving -------------------------------------------------------------------------


class _OutletHandler(BaseHTTPRequestHandler):
    server: _OutletServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.respond(with_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self.respond(with_body=False)

    def respond(self, *, with_body: bool) -> None:
        path = urlsplit(self.path).path or "/"
        resource = self.server.pages.get(path)
        status = 200
        if resource is None:
            status = 404
            resource = Resource("text/html; charset=utf-8", b"<h1>404 Halaman tidak ditemukan</h1>")
        self.send_response(status)
        self.send_header("Content-Type", resource.content_type)
        self.send_header("Content-Length", str(len(resource.body)))
        self.end_headers()
        if with_body:
            self.wfile.write(resource.body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log.debug("%s %s", self.server.outlet_id, format % args)


class _OutletServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, outlet_id: str, pages: dict[str, Resource]):
        self.outlet_id = outlet_id
        self.pages = pages
        super().__init__((HOST, port), _OutletHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A crawler dropping a keep-alive connection is normal: no traceback on stderr."""
        log.debug(
            "%s: connection from %s ended abruptly", self.outlet_id, client_address, exc_info=True
        )


def port_in_use(port: int, detail: str) -> DemoError:
    return DemoError(
        f"{HOST}:{port} is already in use ({detail}); is another `pantau demo` running? "
        "Stop it or choose other ports with --port-base"
    )


@contextmanager
def serving(outlets: list[Outlet], sites: dict[str, dict[str, Resource]]) -> Iterator[None]:
    """Serve every outlet on its fixed port in background threads for the block's duration."""
    servers: list[_OutletServer] = []
    try:
        for outlet in outlets:
            try:
                server = _OutletServer(outlet.port, outlet.id, sites[outlet.id])
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise port_in_use(outlet.port, outlet.name) from None
                raise DemoError(
                    f"cannot serve {outlet.name} on {HOST}:{outlet.port}: {exc}"
                ) from None
            servers.append(server)
            threading.Thread(
                target=server.serve_forever, name=f"demo-{outlet.id}", daemon=True
            ).start()
        yield
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


# --- the SMTP sink -------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message_id: str | None
    subject: str | None
    content: bytes


class _SinkHandler:
    def __init__(self) -> None:
        self.received: list[ReceivedMail] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        content = bytes(envelope.original_content or envelope.content or b"")
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        mail = ReceivedMail(
            envelope.mail_from,
            list(envelope.rcpt_tos),
            str(parsed["Message-ID"]) if parsed["Message-ID"] else None,
            str(parsed["Subject"]) if parsed["Subject"] else None,
            content,
        )
        with self.lock:
            self.received.append(mail)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_sink(port: int | None = None) -> Iterator[tuple[int, _SinkHandler]]:
    """A real SMTP server on loopback that keeps what it receives (aiosmtpd)."""
    handler = _SinkHandler()
    chosen = port or free_port()
    controller = Controller(handler, hostname=HOST, port=chosen, ready_timeout=10)
    try:
        controller.start()
    except Exception as exc:  # aiosmtpd wraps bind errors in several ways
        raise DemoError(f"cannot start the SMTP sink on {HOST}:{chosen}: {exc}") from None
    try:
        yield chosen, handler
    finally:
        controller.stop()

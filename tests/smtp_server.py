"""A real SMTP server (aiosmtpd) on 127.0.0.1 that records what it receives.

Usage::

    from smtp_server import SmtpServer   # tests/ is on sys.path under pytest

    with SmtpServer(refuse={"bad@example.id"}, users={"pantau": "rahasia"}) as server:
        server.port           # a free loopback port
        server.messages       # every message accepted: list of Received
        server.refuse.add(x)  # refuse another recipient from now on

`drop_during_data=True` closes the connection once the body has arrived, without a reply: the
client cannot tell whether the message was delivered.

`SmtpServer.reserve()` gives a server object whose port is chosen but not yet listening, so a
test can send to a server that is down and `start()` it later on the same port.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        content = body.get_content()
        assert isinstance(content, str)
        return content


class _Handler:
    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_MAIL(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        if self.server.users is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower() in {a.lower() for a in self.server.refuse}:
            return self.server.refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        if self.server.drop_during_data:
            server.transport.close()  # the client never hears whether the body arrived
            return "451 4.3.0 connection dropped"
        with self.server.lock:
            self.server.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
            )
        return "250 2.0.0 accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    def __init__(
        self,
        *,
        refuse: set[str] | None = None,
        users: dict[str, str] | None = None,
        port: int | None = None,
        drop_during_data: bool = False,
        tls: str | None = None,
        certificate: tuple[Path, Path] | None = None,
        refusal: str = "550 5.1.1 mailbox unavailable",
    ):
        """tls: None, "starttls" (offered and required) or "tls" (implicit, as on port 465);
        certificate: (cert, key) PEM files for either."""
        self.drop_during_data = drop_during_data
        self.tls = tls
        self.certificate = certificate
        self.port = port or free_port()
        self.refuse: set[str] = set(refuse or ())
        self.refusal = refusal  # the reply to a refused recipient
        self.users = users
        self.messages: list[Received] = []
        self.lock = threading.Lock()
        self.controller: Controller | None = None

    @classmethod
    def reserve(cls, **kwargs: Any) -> SmtpServer:
        """A server with its port chosen but not listening: a mail server that is down."""
        return cls(**kwargs)

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword) or self.users is None:
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode()
        ok = self.users.get(login) == auth_data.password.decode()
        return AuthResult(success=ok, handled=False)

    def start(self) -> SmtpServer:
        options: dict[str, Any] = {}
        if self.users is not None:
            # AUTH is required by handle_MAIL below: aiosmtpd's own auth_required warns when
            # it is combined with AUTH over plain loopback, which these tests do on purpose.
            options = {"authenticator": self._authenticate, "auth_require_tls": False}
        if self.tls is not None:
            assert self.certificate is not None, "TLS needs a certificate"
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*map(str, self.certificate))
            if self.tls == "starttls":
                options.update(tls_context=context, require_starttls=True)
            else:
                options["ssl_context"] = context
        self.controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, **options
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def __enter__(self) -> SmtpServer:
        return self if self.controller is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def received_by(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.recipients]


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 (openssl CLI); clients trust it via SSL_CERT_FILE."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key

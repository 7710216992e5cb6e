"""Hand one message to the SMTP server, saying exactly how far it got.

The SMTP dialogue is driven step by step (rather than `sendmail`) for two reasons: each
recipient's refusal is recorded on its own, and the caller is told the moment the message
body starts to travel (`before_data`). Until then a failure means "certainly not delivered"
(safe to retry); after it, a broken connection means "maybe delivered" and the caller must not
resend blindly. A 4xx/5xx reply to the body itself is still a clear refusal.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr

from pantau.core.settings import PantauError, SmtpSettings

log = logging.getLogger(__name__)


class MailError(PantauError):
    """The message was certainly not accepted; sending it again later is safe."""


class DeliveryUncertain(PantauError):
    """The connection failed while the body was in flight: it may have been delivered."""


class SendAborted(Exception):
    """Raised by a `before_data` callback to stop before the body is sent (re-raised as is)."""


@dataclass
class SendResult:
    accepted: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)

    def as_record(self) -> dict[str, str]:
        """Per recipient: "accepted" or the server's refusal."""
        record = dict.fromkeys(self.accepted, "accepted")
        record.update(self.refused)
        return record


def envelope_address(header_value: str) -> str:
    return parseaddr(header_value)[1] or header_value


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        message = exc.smtp_error
        text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
        return f"{exc.smtp_code} {text}".strip()
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if settings.security == "tls":
        client = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=context
        )
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    client.ehlo()
    if settings.security == "starttls":
        client.starttls(context=context)
        client.ehlo()
    if settings.username:
        password = settings.password
        if password is None:
            raise MailError(
                f"smtp.username is {settings.username!r} but PANTAU_SMTP_PASSWORD is not set"
            )
        client.login(settings.username, password)
    return client


def send_message(
    message: EmailMessage,
    settings: SmtpSettings,
    recipients: list[str],
    *,
    before_data: Callable[[], None] | None = None,
) -> SendResult:
    """Send to every recipient the server accepts; raise if it accepts none.

    Raises MailError when nothing was delivered (server down, TLS or login refused, every
    recipient refused, body rejected) and DeliveryUncertain when the link broke mid-body.
    """
    result = SendResult()
    try:
        client = _connect(settings)
    except MailError:
        raise
    except Exception as exc:
        raise MailError(f"{settings.host}:{settings.port}: {_describe(exc)}") from exc
    body_started = False
    try:
        sender = envelope_address(str(message["From"]))
        code, reply = client.mail(sender, ["SMTPUTF8"] if _needs_smtputf8(client, sender) else [])
        if code != 250:
            raise MailError(f"sender {sender} refused: {code} {reply.decode('utf-8', 'replace')}")
        for recipient in recipients:
            code, reply = client.rcpt(recipient)
            if code in (250, 251):
                result.accepted.append(recipient)
            else:
                result.refused[recipient] = f"{code} {reply.decode('utf-8', 'replace')}".strip()
        if not result.accepted:
            client.rset()
            refusals = "; ".join(f"{r}: {why}" for r, why in result.refused.items())
            raise MailError(f"every recipient refused ({refusals})")
        if before_data is not None:
            before_data()
        # CRLF line ends whatever policy the message carries: smtplib sends bytes as they
        # are, and a message read back from the outbox (email.policy.default) ends its lines
        # with bare LF, which a server reads as one endless line (or as smuggling) and refuses.
        payload = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
        body_started = True
        code, reply = client.data(payload)
        if code != 250:
            raise MailError(f"message refused: {code} {reply.decode('utf-8', 'replace')}")
    except (MailError, DeliveryUncertain, SendAborted):
        raise
    except smtplib.SMTPDataError as exc:
        raise MailError(f"message refused: {_describe(exc)}") from exc
    except Exception as exc:
        if body_started:
            raise DeliveryUncertain(f"connection lost while sending: {_describe(exc)}") from exc
        raise MailError(f"{settings.host}:{settings.port}: {_describe(exc)}") from exc
    finally:
        _quit(client)
    log.info("sent %s to %s", message["Message-ID"], ", ".join(result.accepted))
    return result


def _needs_smtputf8(client: smtplib.SMTP, sender: str) -> bool:
    return not sender.isascii() and client.has_extn("smtputf8")


def _quit(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()

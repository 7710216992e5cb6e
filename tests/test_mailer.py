"""The SMTP client against a real aiosmtpd server on loopback: TLS, login, refusals, faults."""

from __future__ import annotations

import shutil
from email.message import EmailMessage
from pathlib import Path

import pytest
from smtp_server import SmtpServer, free_port, self_signed_certificate

from alerts.mailer import DeliveryUncertain, MailError, SendAborted, send_message
from pantau.core.settings import SmtpSettings


def message(subject: str = "Uji Pantau – ✓") -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Pantau <pantau@bawaslu.example>"
    mail["To"] = "a@example.id"
    mail["Subject"] = subject
    mail["Message-ID"] = "<uji-1@bawaslu.example>"
    mail.set_content("Isi pesan dengan karakter khusus: é ✌️")
    return mail


def settings(port: int, **overrides) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=port, timeout=5, **overrides)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not available to make a test certificate")
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


def test_a_message_reaches_every_accepted_recipient_intact():
    with SmtpServer() as server:
        result = send_message(message(), settings(server.port), ["a@example.id", "b@example.id"])
    assert result.accepted == ["a@example.id", "b@example.id"]
    [received] = server.messages
    assert received.sender == "pantau@bawaslu.example"
    assert received.message["Subject"] == "Uji Pantau – ✓"
    assert "é ✌️" in received.part("plain")


def test_each_refused_recipient_is_reported_with_the_server_reply():
    with SmtpServer(refuse={"b@example.id"}) as server:
        result = send_message(message(), settings(server.port), ["a@example.id", "b@example.id"])
    assert result.accepted == ["a@example.id"]
    assert result.refused == {"b@example.id": "550 5.1.1 mailbox unavailable"}
    assert result.as_record() == {
        "a@example.id": "accepted",
        "b@example.id": "550 5.1.1 mailbox unavailable",
    }
    assert server.messages[0].recipients == ["a@example.id"]


def test_when_every_recipient_is_refused_nothing_is_sent():
    with (
        SmtpServer(refuse={"a@example.id"}) as server,
        pytest.raises(MailError, match="every recipient refused"),
    ):
        send_message(message(), settings(server.port), ["a@example.id"])
    assert server.messages == []


def test_a_server_that_is_down_is_a_mail_error_naming_it():
    port = free_port()
    with pytest.raises(MailError, match=f"127.0.0.1:{port}"):
        send_message(message(), settings(port), ["a@example.id"])


def test_login_with_the_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("PANTAU_SMTP_PASSWORD", "rahasia")
    with SmtpServer(users={"pantau": "rahasia"}) as server:
        send_message(message(), settings(server.port, username="pantau"), ["a@example.id"])
    assert len(server.messages) == 1


def test_a_refused_login_is_a_mail_error(monkeypatch):
    monkeypatch.setenv("PANTAU_SMTP_PASSWORD", "keliru")
    with SmtpServer(users={"pantau": "rahasia"}) as server, pytest.raises(MailError, match="535"):
        send_message(message(), settings(server.port, username="pantau"), ["a@example.id"])
    assert server.messages == []


def test_a_server_requiring_auth_refuses_an_anonymous_client():
    with SmtpServer(users={"pantau": "rahasia"}) as server, pytest.raises(MailError, match="530"):
        send_message(message(), settings(server.port), ["a@example.id"])


def test_starttls_then_login(certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    monkeypatch.setenv("PANTAU_SMTP_PASSWORD", "rahasia")
    with SmtpServer(tls="starttls", certificate=certificate, users={"pantau": "rahasia"}) as server:
        smtp = settings(server.port, security="starttls", username="pantau")
        send_message(message(), smtp, ["a@example.id"])
    assert len(server.messages) == 1


def test_implicit_tls(certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    with SmtpServer(tls="tls", certificate=certificate) as server:
        send_message(message(), settings(server.port, security="tls"), ["a@example.id"])
    assert len(server.messages) == 1


def test_an_untrusted_certificate_is_refused(certificate, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with (
        SmtpServer(tls="tls", certificate=certificate) as server,
        pytest.raises(MailError, match="CERTIFICATE_VERIFY_FAILED|certificate"),
    ):
        send_message(message(), settings(server.port, security="tls"), ["a@example.id"])
    assert server.messages == []


def test_plain_smtp_to_a_server_requiring_starttls_is_refused(certificate):
    with (
        SmtpServer(tls="starttls", certificate=certificate) as server,
        pytest.raises(MailError, match="530"),
    ):
        send_message(message(), settings(server.port), ["a@example.id"])


def test_a_connection_lost_during_the_body_is_uncertain_not_failed():
    with SmtpServer(drop_during_data=True) as server, pytest.raises(DeliveryUncertain):
        send_message(message(), settings(server.port), ["a@example.id"])


def test_the_caller_hears_just_before_the_body_and_can_still_stop_it():
    calls: list[str] = []

    def stop() -> None:
        calls.append("before body")
        raise SendAborted("not any more")

    with SmtpServer() as server, pytest.raises(SendAborted):
        send_message(message(), settings(server.port), ["a@example.id"], before_data=stop)
    assert calls == ["before body"]
    assert server.messages == []

"""E-mail through a real SMTP server (aiosmtpd on 127.0.0.1), from the `send_message` step on.

The STARTTLS test makes its self-signed certificate with the `openssl` command (the `cryptography`
package is not a dependency); it skips where there is no `openssl`.
"""

from __future__ import annotations

import email
import functools
import logging
import shutil
import socket
import ssl
import subprocess
import threading
from dataclasses import replace
from email.header import decode_header, make_header
from email.policy import default as default_policy

import pytest
from sqlalchemy import select

pytest.importorskip("aiosmtpd")
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from metacrm.flows import channels, executor, service
from metacrm.flows.channels import DeliveryError, Message, SmtpAdapter
from metacrm.flows.delivery import deliver
from metacrm.flows.runs import utcnow
from metacrm.flows.tables import outbox, steps, suppressions
from metacrm.meta.kinds import kind

PASSWORD = "s3cr#t:p@ss/word"
PASSWORD_IN_URL = "s3cr%23t%3Ap%40ss%2Fword"
MAILING = {"name": "mailing", "object": "lead", "trigger": {"type": "manual"},
           "steps": [{"id": "mail", "type": "send_message", "channel": "email",
                      "subject": "您好 {name}，欢迎", "body": "亲爱的 {name}：\n感谢您关注我们的新品。\n"}]}


class Inbox:
    """What the server accepted; recipients starting with `reject` get 550, `busy` get 451 `busy` times."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes, bool]] = []
        self.logins: list[tuple[str, str]] = []
        self.rcpts: list[str] = []
        self.busy = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            self.rcpts.append(address)
            if address.startswith("reject"):
                return f"550 5.1.1 <{address}>: mailbox unavailable"
            if address.startswith("busy") and self.busy > 0:
                self.busy -= 1
                return "451 4.3.0 greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content,
                                  bool(session.authenticated)))
        return "250 2.0.0 queued"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.password.decode() == PASSWORD
        with self.lock:
            self.logins.append((mechanism, auth_data.login.decode()))
        return AuthResult(success=ok, handled=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """An aiosmtpd Controller that can be stopped and started again on the same port."""

    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = _free_port()
        self.controller: Controller | None = None

    def start(self, tls: ssl.SSLContext | None = None) -> None:
        """Plain SMTP with AUTH allowed in the clear, or (`tls`) STARTTLS required before AUTH and MAIL."""
        secure = {"tls_context": tls, "require_starttls": True, "auth_require_tls": True} if tls else {
            "auth_require_tls": False}
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port,
                                     authenticator=self.inbox.authenticate, enable_SMTPUTF8=True, **secure)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp():
    server = Server()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(settings, smtp):
    """This module's services send e-mail to the test server, logging in as crm."""
    return replace(settings, smtp_url=f"smtp://crm:{PASSWORD_IN_URL}@127.0.0.1:{smtp.port}"
                                      f"?from=MetaCRM%20%3Cnews%2Bbounce@example.com%3E")


@pytest.fixture
def pack(standard_pack):
    standard_pack.metadata.apply([("workflow", kind("workflow").id_of(MAILING), MAILING)])
    yield standard_pack
    executor.shutdown(standard_pack)


def _send(pack, to: str, name: str = "王伟") -> int:
    lead = pack.records.create("lead", {"name": name, "email": to, "consent_marketing": True})
    service.start_workflow(pack, "mailing", lead["id"])
    assert executor.wait_idle(pack, 20)
    with pack.engine.connect() as conn:
        return conn.execute(select(outbox.c.id).where(outbox.c.recipient == to)).scalar_one()


def _row(pack, message_id: int):
    with pack.engine.connect() as conn:
        return conn.execute(select(outbox).where(outbox.c.id == message_id)).one()


def _retry_now(pack, message_id: int) -> None:
    """Run the delivery job as the sweeper would once the backoff has passed."""
    row = _row(pack, message_id)
    assert row.next_at is not None
    with pack.engine.begin() as conn:
        conn.execute(outbox.update().where(outbox.c.id == message_id).values(next_at=utcnow()))
    deliver(pack, message_id)


def _header(msg, name: str) -> str:
    return str(make_header(decode_header(msg[name])))


def test_chinese_mail_goes_out_with_login_from_the_url_sender_to_the_record(pack, smtp):
    message_id = _send(pack, "wang@example.com")
    row = _row(pack, message_id)
    assert (row.status, row.attempts, row.error, row.adapter) == ("sent", 1, None, "smtp")
    [(mail_from, rcpts, content, authenticated)] = smtp.inbox.messages
    assert smtp.inbox.logins == [("LOGIN", "crm")] or smtp.inbox.logins == [("PLAIN", "crm")]
    assert authenticated
    assert mail_from == "news+bounce@example.com"  # '+' in the URL's from stays a '+'
    assert rcpts == ["wang@example.com"]
    msg = email.message_from_bytes(content, policy=default_policy)
    assert _header(msg, "Subject") == "您好 王伟，欢迎"
    assert _header(msg, "From") == "MetaCRM <news+bounce@example.com>"
    assert msg["To"] == "wang@example.com"
    assert msg["Message-ID"] == f"<{row.key}@metacrm>" and row.key.startswith("run-")
    assert msg["Date"]
    assert msg.get_content_charset() == "utf-8"
    assert msg.get_content().replace("\r\n", "\n") == "亲爱的 王伟：\n感谢您关注我们的新品。\n"
    assert content.isascii()  # 7-bit clean: RFC 2047 headers, base64 body (no 8BITMIME needed)


def test_server_down_retries_with_backoff_and_the_row_says_why(pack, smtp):
    smtp.stop()
    message_id = _send(pack, "li@example.com", "李娜")
    row = _row(pack, message_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in row.error and f"127.0.0.1:{smtp.port}" in row.error
    first_wait = (row.next_at - utcnow()).total_seconds()
    assert 3 < first_wait <= 5.5
    _retry_now(pack, message_id)
    row = _row(pack, message_id)
    assert (row.status, row.attempts) == ("pending", 2)
    assert 8 < (row.next_at - utcnow()).total_seconds() <= 10.5  # backoff doubles
    smtp.start()
    _retry_now(pack, message_id)
    row = _row(pack, message_id)
    assert (row.status, row.attempts, row.error) == ("sent", 3, None)
    assert [m[1] for m in smtp.inbox.messages] == [["li@example.com"]]
    assert smtp.inbox.logins  # the password from the URL logs in


def test_permanent_reject_fails_at_once_and_is_not_retried(pack, smtp):
    message_id = _send(pack, "reject-me@example.com")
    row = _row(pack, message_id)
    assert (row.status, row.attempts, row.next_at) == ("failed", 1, None)
    assert "550" in row.error and "mailbox unavailable" in row.error
    deliver(pack, message_id)  # a stray second job (sweeper, duplicate) does nothing
    assert _row(pack, message_id).attempts == 1
    assert smtp.inbox.rcpts == ["reject-me@example.com"] and smtp.inbox.messages == []
    with pack.engine.connect() as conn:  # the send step itself is done: the run went on
        assert conn.execute(select(steps.c.status)).scalar_one() == "done"
        # a 550 on the recipient is a hard bounce: the address is suppressed, with the server's words
        bounced = conn.execute(select(suppressions)).one()
    assert (bounced.channel, bounced.address, bounced.reason) == ("email", "reject-me@example.com", "bounce")
    assert "550" in bounced.detail


def test_temporary_reject_is_retried_until_accepted(pack, smtp):
    smtp.inbox.busy = 2
    message_id = _send(pack, "busy@example.com")
    row = _row(pack, message_id)
    assert (row.status, row.attempts) == ("pending", 1) and "451" in row.error and "greylisted" in row.error
    _retry_now(pack, message_id)
    assert _row(pack, message_id).status == "pending"
    _retry_now(pack, message_id)
    assert _row(pack, message_id).status == "sent"
    assert smtp.inbox.rcpts == ["busy@example.com"] * 3 and len(smtp.inbox.messages) == 1


def test_the_password_never_shows(pack, smtp, caplog):
    smtp.inbox.busy = 1
    wrong = replace(pack.settings, smtp_url=pack.settings.smtp_url.replace(PASSWORD_IN_URL, "wrong%20one"))
    adapter = SmtpAdapter(pack.settings.smtp_url)
    assert PASSWORD not in repr(adapter) and PASSWORD_IN_URL not in repr(adapter)
    assert "crm:***@127.0.0.1" in repr(adapter)
    assert PASSWORD not in repr(pack.settings) and PASSWORD_IN_URL not in repr(pack.settings)
    with caplog.at_level(logging.DEBUG):
        busy = _send(pack, "busy@example.com")
        smtp.stop()
        down = _send(pack, "down@example.com")
    texts = [caplog.text, _row(pack, busy).error, _row(pack, down).error,
             str(service.list_runs(pack)), str([service.get_run(pack, r["id"]) for r in service.list_runs(pack)])]
    for text in texts:
        assert PASSWORD not in text and PASSWORD_IN_URL not in text
    assert "451" in texts[1] and "ConnectionRefusedError" in texts[2]
    smtp.start()
    rejected = SmtpAdapter(wrong.smtp_url)
    with pytest.raises(DeliveryError) as err:
        rejected.send(Message(1, "email", "x@example.com", "s", "b", "k-1"))
    assert err.value.permanent and "535" in str(err.value) and "wrong one" not in str(err.value)


def test_bad_smtp_urls_are_refused_without_echoing_them():
    with pytest.raises(ValueError) as err:
        SmtpAdapter(f"smtp://crm:{PASSWORD_IN_URL}@host?tls=ssl")
    assert PASSWORD not in str(err.value) and PASSWORD_IN_URL not in str(err.value)
    with pytest.raises(ValueError):
        SmtpAdapter("http://host")


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1: (cert path, key path)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl command to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def test_starttls_checks_the_certificate_then_logs_in_over_tls(certificate, monkeypatch):
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = Server()
    server.start(tls=context)
    try:
        adapter = SmtpAdapter(f"smtp://crm:{PASSWORD_IN_URL}@127.0.0.1:{server.port}?from=crm@example.com&tls=starttls")
        message = Message(1, "email", "wang@example.com", "主题", "正文", "run-1-mail-0")
        with pytest.raises(DeliveryError) as err:  # self-signed: not trusted, nothing sent, no password given
            adapter.send(message)
        assert "CERTIFICATE_VERIFY_FAILED" in str(err.value) and not err.value.permanent
        assert server.inbox.messages == [] and server.inbox.logins == []
        trusting = functools.partial(ssl.create_default_context, cafile=str(cert))
        monkeypatch.setattr(channels.ssl, "create_default_context", trusting)  # as if a CA had signed it
        assert adapter.send(message) == "<run-1-mail-0@metacrm>"
    finally:
        server.stop()
    [(mail_from, rcpts, content, authenticated)] = server.inbox.messages
    assert (mail_from, rcpts, authenticated) == ("crm@example.com", ["wang@example.com"], True)
    assert email.message_from_bytes(content, policy=default_policy).get_content().strip() == "正文"

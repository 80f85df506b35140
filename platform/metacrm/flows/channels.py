"""Message channels: how a `send_message` step's message leaves the building.

Every message is first written to `wf_outbox` in the step's transaction (so it is recorded
exactly once). What happens next depends on the channel's adapter:
- no adapter (the default): the message stays in the outbox with status `stored`, so a demo or
  a test shows what would have been sent;
- an adapter (SMTP for e-mail when METACRM_SMTP_URL is set; SMS/WeChat adapters registered by
  an integration with `register_adapter`): status `pending`, and the `workflows.deliver` job
  sends it, retrying with backoff; the outbox key goes with it (Message-ID / idempotency key),
  so a retried delivery can be recognised by the receiver.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

if TYPE_CHECKING:
    from ..config import Settings

CHANNELS = ("email", "sms", "wechat")


@dataclass(frozen=True)
class Message:
    id: int
    channel: str
    recipient: str
    subject: str | None
    body: str
    key: str


class MessageAdapter(Protocol):
    """Sends one message; raises to fail (the delivery job retries); returns a provider id or None."""

    name: str

    def send(self, message: Message) -> str | None: ...


class SmtpAdapter:
    """E-mail over SMTP: smtp[s]://user:password@host:port?from=addr&tls=starttls|none."""

    name = "smtp"

    def __init__(self, url: str, timeout: float = 20.0) -> None:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self.ssl = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.ssl else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = query.get("from", [f"metacrm@{self.host}"])[0]
        self.starttls = query.get("tls", ["none"])[0] == "starttls"
        self.timeout = timeout

    def send(self, message: Message) -> str | None:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.recipient
        email["Subject"] = message.subject or ""
        message_id = f"<{message.key}@metacrm>"
        email["Message-ID"] = message_id
        email.set_content(message.body)
        smtp_class = smtplib.SMTP_SSL if self.ssl else smtplib.SMTP
        with smtp_class(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(email)
        return message_id


AdapterFactory = Callable[["Settings"], MessageAdapter | None]
_factories: dict[str, AdapterFactory] = {
    "email": lambda s: SmtpAdapter(s.smtp_url) if s.smtp_url else None,
}


def register_adapter(channel: str, factory: AdapterFactory) -> None:
    """Plug in an adapter for a channel (e.g. an SMS gateway or WeChat template messages)."""
    _factories[channel] = factory


def adapter_for(settings: Settings, channel: str) -> MessageAdapter | None:
    """The adapter that delivers this channel, or None: keep messages in the outbox (`stored`)."""
    factory = _factories.get(channel)
    return factory(settings) if factory else None

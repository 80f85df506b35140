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
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote, urlsplit

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


class DeliveryError(Exception):
    """A delivery that failed; `permanent` ones (a 5xx reject) are not retried.

    Adapters raise it with a message safe to store and log (no credentials). Any other exception
    an adapter raises counts as temporary: the delivery job retries it with backoff. `bounce`
    ("bounce" or "complaint") says the recipient refused for good: the address is suppressed
    (bounces.py), so no later message goes to it.
    """

    def __init__(self, message: str, permanent: bool = False, bounce: str | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent or bounce is not None
        self.bounce = bounce


class MessageAdapter(Protocol):
    """Sends one message; raises to fail (the delivery job retries); returns a provider id or None."""

    name: str

    def send(self, message: Message) -> str | None: ...


def _query(query: str) -> dict[str, str]:
    """URL query values, percent-decoded only: '+' stays '+' (plus-addressed senders, bounces+x@...)."""
    pairs = (part.partition("=") for part in query.split("&") if part)
    return {unquote(k): unquote(v) for k, _, v in pairs}


class SmtpAdapter:
    """E-mail over SMTP: smtp[s]://user:password@host:port?from=addr&tls=starttls|none.

    TLS (smtps, starttls) verifies the server's certificate against the system's trust store:
    without that, anyone on the path could read the password. The password is kept out of
    repr, logs and stored errors.
    """

    name = "smtp"

    def __init__(self, url: str, timeout: float = 20.0) -> None:
        parts = urlsplit(url)
        query = _query(parts.query)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"METACRM_SMTP_URL must start with smtp:// or smtps://, not {parts.scheme!r}")
        tls = query.get("tls", "none")
        if tls not in ("none", "starttls"):
            raise ValueError(f"METACRM_SMTP_URL: tls must be 'starttls' or 'none', not {tls!r}")
        self.ssl = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.ssl else 25)
        self.username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self.sender = query.get("from") or f"metacrm@{self.host}"
        self.starttls = tls == "starttls"
        self.timeout = timeout

    def __repr__(self) -> str:
        user = f"{self.username}:***@" if self.username else ""
        scheme = "smtps" if self.ssl else "smtp"
        return f"<SmtpAdapter {scheme}://{user}{self.host}:{self.port} from={self.sender}>"

    def compose(self, message: Message) -> EmailMessage:
        """The e-mail as it goes on the wire (the Message-ID is the step's idempotency key)."""
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.recipient
        email["Subject"] = message.subject or ""
        email["Date"] = formatdate(localtime=False, usegmt=True)
        email["Message-ID"] = f"<{message.key}@metacrm>"
        # 7-bit clean on the wire: smtplib sends 8bit bodies without BODY=8BITMIME, which relays
        # without 8BITMIME may mangle; base64 is the shorter safe form for Chinese text.
        email.set_content(message.body, cte=None if message.body.isascii() else "base64")
        return email

    def send(self, message: Message) -> str | None:
        email = self.compose(message)
        try:
            if self.ssl:
                client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                        context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self._password or "")
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:  # our one recipient was refused
            code, reply = next(iter(exc.recipients.values()), (0, b""))
            raise self._error(f"recipient refused: {code} {_text(reply)}", code, recipient=True) from None
        except smtplib.SMTPResponseException as exc:  # sender refused, data refused, auth failed, ...
            raise self._error(f"{type(exc).__name__}: {exc.smtp_code} {_text(exc.smtp_error)}",
                              exc.smtp_code) from None
        except (OSError, smtplib.SMTPException) as exc:  # refused, timed out, dropped: try again later
            raise self._error(f"{type(exc).__name__}: {exc}", 0) from None
        return str(email["Message-ID"])

    def _error(self, text: str, code: int, recipient: bool = False) -> DeliveryError:
        """5xx is a permanent reject (RFC 5321 4.2.1); 4xx and network trouble are worth a retry.
        A 5xx refusing the recipient itself is a hard bounce (the address is suppressed)."""
        if self._password:
            text = text.replace(self._password, "***")
        permanent = 500 <= code < 600
        return DeliveryError(f"{self.host}:{self.port}: {text}", permanent=permanent,
                             bounce="bounce" if permanent and recipient else None)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


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

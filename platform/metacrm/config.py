"""Settings, read from the environment in one place and passed explicitly from there on."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

ENV_PREFIX = "METACRM_"


def _instance_dir(env: dict[str, str]) -> Path:
    return Path(env.get(ENV_PREFIX + "INSTANCE_DIR", "instance")).resolve()


def _secret_key(env: dict[str, str], instance: Path) -> str:
    """Use the configured key, or one generated once and kept in the instance folder.

    A key generated per process would log everyone out at every restart; a fixed default
    would be a known secret. Keeping one per instance avoids both.
    """
    key = env.get(ENV_PREFIX + "SECRET_KEY")
    if key:
        return key
    path = instance / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key, encoding="utf-8")
    path.chmod(0o600)
    return key


@dataclass(frozen=True)
class Settings:
    """Everything configurable about one MetaCRM installation."""

    database_url: str
    redis_url: str | None = None
    secret_key: str = field(default="", repr=False)
    instance_dir: Path = Path("instance")
    default_region: str = "CN"
    default_language: str = "en"
    timezone: str = "UTC"
    """The installation's time zone: what "today", "this month" and schedules mean."""
    queue_name: str = "metacrm"
    """RQ queue (and job id prefix) for background jobs; letters, digits, '_' and '-' only."""
    job_lease_seconds: int = 300
    """How long a started workflow step may run before the sweeper treats its worker as lost."""
    smtp_url: str | None = field(default=None, repr=False)
    """smtp://user:password@host:587?from=crm@example.com&tls=starttls: workflow e-mail goes out over SMTP."""
    send_rates: tuple[tuple[str, int, int], ...] = ()
    """(channel, messages, window seconds): at most that many messages a window per channel, across
    all workers (METACRM_SEND_RATE="email=600/min,sms=100/min"); messages over it wait for the next."""
    frontend_dist: str | None = None
    """The built web app to serve (METACRM_FRONTEND_DIST); default frontend/dist of the source tree."""
    bulk_batch_size: int = 1000
    max_bulk_records: int = 10_000
    cookie_secure: bool = False
    """Mark the session cookie Secure always (METACRM_COOKIE_SECURE=1); it is Secure anyway on an HTTPS request."""
    trusted_proxies: int = 0
    """How many reverse proxies' X-Forwarded-For/-Proto to trust (METACRM_TRUSTED_PROXIES): the client
    address the login limiter counts and whether the request came over HTTPS."""
    maintenance_cron: str = "15 3 * * *"
    """When (cron, in `timezone`) the sweeper starts the daily pass over rules that read the clock
    (automatic tags and tracked segments with relative dates); "" turns it off."""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        instance = _instance_dir(env)
        default_db = f"sqlite:///{instance / 'metacrm.db'}"
        return cls(
            database_url=env.get(ENV_PREFIX + "DATABASE_URL") or default_db,
            redis_url=env.get(ENV_PREFIX + "REDIS_URL") or None,
            secret_key=_secret_key(env, instance),
            instance_dir=instance,
            default_region=env.get(ENV_PREFIX + "DEFAULT_REGION", "CN").upper(),
            default_language=env.get(ENV_PREFIX + "DEFAULT_LANGUAGE", "en"),
            timezone=env.get(ENV_PREFIX + "TIMEZONE", "UTC"),
            queue_name=env.get(ENV_PREFIX + "QUEUE", "metacrm"),
            job_lease_seconds=int(env.get(ENV_PREFIX + "JOB_LEASE_SECONDS", "300")),
            smtp_url=env.get(ENV_PREFIX + "SMTP_URL") or None,
            send_rates=_send_rates(env.get(ENV_PREFIX + "SEND_RATE", "")),
            maintenance_cron=_cron(env.get(ENV_PREFIX + "MAINTENANCE_CRON", "15 3 * * *")),
            cookie_secure=env.get(ENV_PREFIX + "COOKIE_SECURE", "").lower() in ("1", "true", "yes", "on"),
            trusted_proxies=int(env.get(ENV_PREFIX + "TRUSTED_PROXIES", "0") or 0),
            frontend_dist=env.get(ENV_PREFIX + "FRONTEND_DIST") or None,
        )


_RATE_UNITS = {"s": 1, "sec": 1, "second": 1, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
               "day": 86400}


def _send_rates(value: str) -> tuple[tuple[str, int, int], ...]:
    """"email=600/min,sms=100/min" -> (("email", 600, 60), ("sms", 100, 60)); refused at start if malformed."""
    rates: dict[str, tuple[str, int, int]] = {}
    for part in filter(None, (p.strip() for p in value.split(","))):
        channel, _, rate = part.partition("=")
        count, _, unit = rate.strip().partition("/")
        channel, unit = channel.strip().lower(), unit.strip().lower()
        if not channel.isidentifier() or not count.strip().isdigit() or int(count) < 1 or unit not in _RATE_UNITS:
            raise ValueError(f"{ENV_PREFIX}SEND_RATE: {part!r} is not channel=N/unit "
                             f"(unit one of {', '.join(_RATE_UNITS)}), e.g. email=600/min")
        rates[channel] = (channel, int(count), _RATE_UNITS[unit])
    return tuple(rates.values())


def _cron(value: str) -> str:
    """A cron expression, or "" (off): refused at start rather than failing in every sweep."""
    from croniter import croniter

    value = value.strip()
    if value.lower() in ("", "off", "none"):
        return ""
    if not croniter.is_valid(value):
        raise ValueError(f"{ENV_PREFIX}MAINTENANCE_CRON is not a cron expression: {value!r}")
    return value

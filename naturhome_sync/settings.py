"""Typed configuration, read from ``NATURHOME_*`` environment variables and ``.env`` files.

Nested sections use ``__``: ``NATURHOME_WORKER__COUNT=4``, ``NATURHOME_DATABASE__URL=...``.
Every default is safe for a laptop (SQLite under the state directory, loopback HTTP, one
worker). Invalid values stop start-up with one message that names the variable to fix
(:func:`load_settings`). Connector sections (``salesforce``, ``hubspot``...) are added by
the flows that need them; they stay ``None`` until configured.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.hubspot_settings import HubSpotSettings
from connectors.salesforce_settings import SalesforceSettings
from naturhome_sync.errors import ConfigurationError
from naturhome_sync.logs import is_secret_name
from naturhome_sync.paths import shipped_dir

ENV_PREFIX = "NATURHOME_"


def _default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "naturhome-sync"


class _Section(BaseModel):
    model_config = {"extra": "forbid", "frozen": True}


class DatabaseSettings(_Section):
    """Where the inbox, job runs and cursors live.

    Empty ``url`` means an SQLite file in the state directory (one machine, one worker).
    Use PostgreSQL (``postgresql://user@host/db``) to run several workers or machines.
    """

    url: str | None = None
    pool_size: int = Field(default=5, ge=1, le=100)
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=0)


class HttpSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    #: The URL the outside world calls us at (behind a reverse proxy). Webhook signatures
    #: that cover the URL (HubSpot v2/v3) are checked against this base, not the socket.
    public_base_url: str | None = None


class WorkerSettings(_Section):
    count: int = Field(default=1, ge=1, le=64)
    lease_seconds: float = Field(default=300.0, gt=0)
    poll_interval_seconds: float = Field(default=1.0, gt=0)
    max_attempts: int = Field(default=8, ge=1)
    #: Rate-limited attempts do not count against max_attempts; they stop after this long.
    rate_limited_max_age_hours: float = Field(default=48.0, gt=0)
    shutdown_grace_seconds: float = Field(default=30.0, ge=0)


class RetrySettings(_Section):
    """Backoff between attempts of a failed event: ``base * 2**(attempt-1)``, capped, jittered."""

    base_seconds: float = Field(default=10.0, gt=0)
    max_seconds: float = Field(default=3600.0, gt=0)
    jitter: float = Field(default=0.2, ge=0, le=1)


class LogSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: ``auto``: readable console on a TTY, JSON lines otherwise.
    format: Literal["auto", "json", "console"] = "auto"


class HousekeepingSettings(_Section):
    retention_days: int = Field(default=30, ge=1)
    job_run_retention_days: int = Field(default=90, ge=1)


class Settings(BaseSettings):
    """The effective configuration of one naturhome-sync environment."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="forbid",
        frozen=True,
    )

    environment: str = "development"
    state_dir: Path = Field(default_factory=_default_state_dir)
    timezone: str = "Europe/Brussels"
    database: DatabaseSettings = DatabaseSettings()
    http: HttpSettings = HttpSettings()
    worker: WorkerSettings = WorkerSettings()
    retry: RetrySettings = RetrySettings()
    log: LogSettings = LogSettings()
    housekeeping: HousekeepingSettings = HousekeepingSettings()
    #: Connectors: unset until configured (flows that need one fail with a config error).
    salesforce: SalesforceSettings | None = None
    hubspot: HubSpotSettings | None = None
    #: flow name -> schedule (``every 5m``, a 5-field cron line, or ``off``); overrides the
    #: schedules file, which overrides each flow's own default.
    schedules: dict[str, str] = Field(default_factory=dict)
    schedules_file: Path = Field(default_factory=lambda: shipped_dir("config") / "schedules.yaml")
    #: Extra modules whose ``register(registry)`` adds flows (e.g. ``naturhome_sync.testing``).
    plugins: list[str] = Field(default_factory=list)
    mappings_dir: Path = Field(default_factory=lambda: shipped_dir("mappings"))
    config_dir: Path = Field(default_factory=lambda: shipped_dir("config"))
    salesforce_dir: Path = Field(default_factory=lambda: shipped_dir("salesforce"))

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite:///{self.state_dir / 'naturhome.db'}"


def load_settings(env_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Build the settings, or raise one ConfigurationError naming the variable to fix.

    ``env_file`` replaces the default ``.env`` (one machine can hold several environments).
    """
    if env_file is not None and not Path(env_file).is_file():
        raise ConfigurationError("file not found", source=str(env_file))
    try:
        if env_file is not None:
            return Settings(_env_file=env_file, **overrides)
        return Settings(**overrides)
    except ValidationError as exc:
        raise _configuration_error(exc, env_file) from None


def _configuration_error(exc: ValidationError, env_file: Path | str | None) -> ConfigurationError:
    first = exc.errors()[0]
    loc = [str(part) for part in first["loc"]]
    key = ENV_PREFIX + "__".join(loc).upper() if loc else ENV_PREFIX + "*"
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown setting"
    elif "input" in first and not isinstance(first["input"], dict):
        message = f"{message} (got {first['input']!r})"
    others = len(exc.errors()) - 1
    if others:
        message += f" (and {others} more problem{'s' if others > 1 else ''})"
    return ConfigurationError(message, source=str(env_file) if env_file else None, key=key)


def redacted(settings: BaseModel) -> dict[str, Any]:
    """The settings as plain data with every secret replaced, for ``config show``."""

    def walk(value: Any, name: str = "") -> Any:
        if isinstance(value, BaseModel):
            return {k: walk(getattr(value, k), k) for k in type(value).model_fields}
        if isinstance(value, SecretStr):
            return "**********" if value.get_secret_value() else ""
        if isinstance(value, dict):
            return {k: walk(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [walk(v, name) for v in value]
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, str) and value and is_secret_name(name):
            return "**********"
        if isinstance(value, str) and "://" in value and "@" in value:
            return _redact_url_password(value)
        return value

    result = walk(settings)
    assert isinstance(result, dict)
    return result


def _redact_url_password(url: str) -> str:
    scheme, _, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not at or ":" not in creds:
        return url
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:**********@{host}"

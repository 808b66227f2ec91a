"""One Settings object, read from the environment (and an optional `.env` file)."""

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import StringConstraints, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
DEVELOPMENT_SECRET = "development-only-secret-change-me"

# A rate limit: "<attempts>/<second|minute|hour|day>", or "off" (see app/ratelimit.py).
Rate = Annotated[str, StringConstraints(pattern=r"^(\d+/(second|minute|hour|day)|off)$")]


class Settings(BaseSettings):
    """Runtime configuration; every field maps to an upper-case environment variable."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite:///{ROOT / 'var' / 'convene.db'}"
    broker_url: str = "memory://"
    secret_key: str = DEVELOPMENT_SECRET
    base_url: str = ""  # default: http://localhost:PORT
    port: int = 8000

    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_from: str = "Convene <convene@localhost>"
    outbox_poll_seconds: float = 5.0
    outbox_max_backoff_seconds: float = 900.0

    session_days: int = 14
    invitation_days: int = 30
    reader_link_days: int = 365  # a report-back is read, and answered, long after

    # Logs: JSON lines (one object per line) or plain text, on standard error.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"

    # Refused attempts allowed per client address (app/ratelimit.py); counted in this process,
    # or shared by every process through Redis when BROKER_URL is redis://.
    rate_limit_sign_in: Rate = "10/minute"  # per address and email
    rate_limit_sign_in_address: Rate = "30/minute"  # per address, whatever the email
    rate_limit_invitation: Rate = "20/minute"
    rate_limit_progress_link: Rate = "20/minute"
    rate_limit_reader_link: Rate = "20/minute"

    metrics_token: str = ""  # when set, GET /metrics needs "Authorization: Bearer <token>"

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_capitals(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> "Settings":
        if not self.base_url:
            self.base_url = f"http://localhost:{self.port}"
        if self.environment != "development" and self.secret_key == DEVELOPMENT_SECRET:
            raise ValueError("SECRET_KEY must be set outside development")
        if len(self.secret_key) < 16:
            raise ValueError("SECRET_KEY must be at least 16 characters")
        return self

    @property
    def async_database_url(self) -> str:
        """The database URL with the asynchronous driver the app uses."""
        return to_async_url(self.database_url)

    @property
    def sync_database_url(self) -> str:
        """The database URL with a synchronous driver, for migrations and the CLI."""
        return to_sync_url(self.database_url)

    @property
    def is_sqlite(self) -> bool:
        """Whether the configured database is an SQLite file."""
        return self.database_url.startswith("sqlite")


def to_async_url(url: str) -> str:
    """Map a plain database URL to the asynchronous driver Convene uses for it."""
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url.removeprefix("sqlite:")
    for prefix in ("postgresql:", "postgres:", "postgresql+asyncpg:"):
        if url.startswith(prefix):
            return "postgresql+psycopg:" + url.removeprefix(prefix)
    return url


def to_sync_url(url: str) -> str:
    """Map a database URL to a synchronous driver (psycopg serves both)."""
    if url.startswith("sqlite"):
        return "sqlite:" + url.split(":", 1)[1]
    return to_async_url(url)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()

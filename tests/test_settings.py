"""Settings come from the environment; a default secret is refused outside development."""

import pytest
from pydantic import ValidationError

from app.config import DEVELOPMENT_SECRET, Settings, to_async_url, to_sync_url


def test_defaults_run_embedded_in_development(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "BROKER_URL", "SECRET_KEY", "BASE_URL", "ENVIRONMENT", "PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url.startswith("sqlite:///") and "/var/" in settings.database_url
    assert settings.broker_url == "memory://"
    assert settings.base_url == "http://localhost:8000"


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/convene")
    monkeypatch.setenv("BROKER_URL", "redis://cache:6379/0")
    monkeypatch.setenv("PORT", "9000")
    monkeypatch.setenv("SMTP_HOST", "mail.example.org")
    monkeypatch.setenv("SMTP_PORT", "2525")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.async_database_url == "postgresql+psycopg://db/convene"
    assert settings.broker_url == "redis://cache:6379/0"
    assert settings.base_url == "http://localhost:9000"
    assert (settings.smtp_host, settings.smtp_port) == ("mail.example.org", 2525)


@pytest.mark.parametrize("environment", ["production", "test"])
def test_default_secret_is_refused_outside_development(environment: str) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY must be set"):
        Settings(_env_file=None, environment=environment, secret_key=DEVELOPMENT_SECRET)  # type: ignore[call-arg]
    Settings(_env_file=None, environment=environment, secret_key="a-real-secret-of-some-length")  # type: ignore[call-arg]


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 16"):
        Settings(_env_file=None, secret_key="short")  # type: ignore[call-arg]


def test_database_urls_map_to_the_right_drivers() -> None:
    assert to_async_url("sqlite:///var/x.db") == "sqlite+aiosqlite:///var/x.db"
    assert to_sync_url("sqlite+aiosqlite:///var/x.db") == "sqlite:///var/x.db"
    assert to_async_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert to_sync_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"

"""Convener accounts and the credentials that prove who is calling."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class Convener(SQLModel, table=True):
    """A person who prepares and runs convenings; signs in with email and password."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(max_length=200)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AccountSession(SQLModel, table=True):
    """A signed-in browser: the cookie holds the token, the row only its hash."""

    __tablename__ = "account_session"

    id: int | None = Field(default=None, primary_key=True)
    convener_id: int = Field(foreign_key="convener.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class ApiToken(SQLModel, table=True):
    """A bearer token for scripts that use the API on a convener's behalf."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    convener_id: int = Field(foreign_key="convener.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

"""Convener accounts: creation, sign-in sessions and API tokens. Never commits."""

from datetime import timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import AccountSession, ApiToken, Convener
from app.db import utcnow
from app.errors import Conflict
from app.security import hash_password, new_token, token_hash, verify_password

# A fixed hash to verify against when the email is unknown, so timing does not tell.
_DUMMY_HASH = hash_password("not-a-real-password")


def normalize_email(email: str) -> str:
    """Emails compare case-insensitively and without surrounding spaces."""
    return email.strip().lower()


async def create_convener(
    session: AsyncSession, *, email: str, name: str, password: str
) -> Convener:
    """Create a convener account; raises Conflict if the email is taken."""
    email = normalize_email(email)
    existing = await session.exec(select(Convener).where(Convener.email == email))
    if existing.first() is not None:
        raise Conflict(f"a convener with email {email} already exists")
    convener = Convener(email=email, name=name.strip(), password_hash=hash_password(password))
    session.add(convener)
    await session.flush()
    return convener


async def authenticate(session: AsyncSession, email: str, password: str) -> Convener | None:
    """The convener with these credentials, or None."""
    result = await session.exec(select(Convener).where(Convener.email == normalize_email(email)))
    convener = result.first()
    if convener is None:
        verify_password(_DUMMY_HASH, password)
        return None
    return convener if verify_password(convener.password_hash, password) else None


async def start_session(session: AsyncSession, convener: Convener, days: int) -> str:
    """Open a browser session; returns the token to put in the cookie."""
    token = new_token()
    session.add(
        AccountSession(
            convener_id=convener.id,  # type: ignore[arg-type]
            token_hash=token_hash(token),
            expires_at=utcnow() + timedelta(days=days),
        )
    )
    await session.flush()
    return token


async def end_session(session: AsyncSession, token: str) -> None:
    """Close the browser session that holds this token, if any."""
    result = await session.exec(
        select(AccountSession).where(AccountSession.token_hash == token_hash(token))
    )
    row = result.first()
    if row is not None:
        await session.delete(row)


async def convener_for_session(session: AsyncSession, token: str) -> Convener | None:
    """The convener signed in with this session token, if it is valid."""
    result = await session.exec(
        select(Convener)
        .join(AccountSession, AccountSession.convener_id == Convener.id)  # type: ignore[arg-type]
        .where(AccountSession.token_hash == token_hash(token))
        .where(AccountSession.expires_at > utcnow())
    )
    return result.first()


async def create_api_token(
    session: AsyncSession, convener: Convener, name: str
) -> tuple[ApiToken, str]:
    """Issue a bearer token for scripts; the plain token is returned once, never stored."""
    token = new_token()
    row = ApiToken(
        convener_id=convener.id,  # type: ignore[arg-type]
        name=name,
        token_hash=token_hash(token),
    )
    session.add(row)
    await session.flush()
    return row, token


async def convener_for_api_token(session: AsyncSession, token: str) -> Convener | None:
    """The convener a bearer token belongs to, if it is valid; records its last use."""
    result = await session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
    api_token = result.first()
    if api_token is None or api_token.revoked_at is not None:
        return None
    api_token.last_used_at = utcnow()
    return await session.get(Convener, api_token.convener_id)

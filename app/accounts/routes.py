"""JSON API for signing in and out and for API tokens."""

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from sqlmodel import col, select

from app.accounts import service
from app.accounts.models import ApiToken
from app.accounts.schemas import ConvenerRead, SignIn, TokenCreate, TokenIssued, TokenRead
from app.authz import SESSION_COOKIE, SignedIn
from app.db import SessionDep, utcnow
from app.errors import NotFound, refusals
from app.ratelimit import RateLimited, email_in_body

router = APIRouter(prefix="/api", tags=["accounts"])


@router.post(
    "/auth/sign-in",
    response_model=ConvenerRead,
    dependencies=[
        Depends(RateLimited("sign-in", by=email_in_body)),
        Depends(RateLimited("sign-in-address")),
    ],
    responses=refusals(401, 429),
)
async def sign_in(
    data: SignIn, request: Request, response: Response, session: SessionDep
) -> object:
    """Sign in with email and password; sets the HttpOnly session cookie. Each sign-in gets a
    new session; the one this browser had before ends."""
    convener = await service.authenticate(session, data.email, data.password)
    if convener is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong email or password")
    if old := request.cookies.get(SESSION_COOKIE):
        await service.end_session(session, old)
    settings = request.app.state.settings
    token = await service.start_session(session, convener, settings.session_days)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=settings.base_url.startswith("https://"),
    )
    response.headers["Cache-Control"] = "no-store"
    return convener


@router.post("/auth/sign-out", status_code=status.HTTP_204_NO_CONTENT)
async def sign_out(request: Request, response: Response, session: SessionDep) -> None:
    """End this browser's session, on the server too: the token no longer works anywhere."""
    if token := request.cookies.get(SESSION_COOKIE):
        await service.end_session(session, token)
    response.delete_cookie(
        SESSION_COOKIE,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.base_url.startswith("https://"),
    )


@router.get("/me", response_model=ConvenerRead, responses=refusals(401))
async def me(convener: SignedIn) -> object:
    """The signed-in convener."""
    return convener


@router.post(
    "/tokens",
    response_model=TokenIssued,
    status_code=status.HTTP_201_CREATED,
    responses=refusals(401),
)
async def create_token(data: TokenCreate, convener: SignedIn, session: SessionDep) -> TokenIssued:
    """Issue a bearer token for scripts; it is shown once and stored only as a hash."""
    row, token = await service.create_api_token(session, convener, data.name)
    return TokenIssued(id=row.id, name=row.name, token=token)  # type: ignore[arg-type]


@router.get("/tokens", response_model=list[TokenRead], responses=refusals(401))
async def list_tokens(convener: SignedIn, session: SessionDep) -> object:
    """The convener's API tokens (never the tokens themselves)."""
    result = await session.exec(
        select(ApiToken).where(ApiToken.convener_id == convener.id).order_by(col(ApiToken.id))
    )
    return result.all()


@router.delete(
    "/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=refusals(401, 404),
)
async def revoke_token(token_id: int, convener: SignedIn, session: SessionDep) -> None:
    """Revoke one of the convener's API tokens."""
    row = await session.get(ApiToken, token_id)
    if row is None or row.convener_id != convener.id:
        raise NotFound("token not found")
    row.revoked_at = row.revoked_at or utcnow()
    session.add(row)

"""Request and response shapes for accounts and tokens."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, EmailStr, StringConstraints

from app.convenings.schemas import Strict


class SignIn(Strict):
    email: EmailStr
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class ConvenerRead(BaseModel):
    id: int
    email: str
    name: str


class TokenCreate(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class TokenIssued(BaseModel):
    id: int
    name: str
    token: str


class TokenRead(BaseModel):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

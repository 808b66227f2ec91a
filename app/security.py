"""Secrets: password hashing (argon2), random tokens and their at-rest hashes."""

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

TOKEN_BYTES = 32  # 256 bits, well above the 128-bit floor


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the stored hash (never raises on a mismatch)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """A fresh random URL-safe token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_nonce() -> str:
    """A random 128-bit nonce, hex encoded."""
    return secrets.token_hex(16)


def token_hash(token: str) -> str:
    """The SHA-256 hex digest stored in place of a high-entropy token."""
    return hashlib.sha256(token.encode()).hexdigest()


def derive_token(secret_key: str, purpose: str, nonce: str) -> str:
    """A token recomputable only with the secret key: HMAC-SHA256(key, purpose:nonce)."""
    digest = hmac.new(secret_key.encode(), f"{purpose}:{nonce}".encode(), hashlib.sha256)
    return digest.hexdigest()

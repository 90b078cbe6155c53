"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106)."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

# The shortest password staff may choose (account page, invitation, reset).
MIN_LENGTH = 10


@cache
def _hasher_with(parameters: tuple[tuple[str, int], ...]) -> tuple[PasswordHasher, str]:
    """A hasher and a hash it made, verified against when the email is unknown, so both
    failures take the same time."""
    hasher = PasswordHasher(**dict(parameters))
    return hasher, hasher.hash("not-a-password")


def _hasher() -> tuple[PasswordHasher, str]:
    """argon2-cffi's defaults, unless the app's PASSWORD_HASH_PARAMETERS (PasswordHasher's
    keywords) say otherwise: the tests' config makes hashing cheap, as thousands of sign-ins
    at the defaults' 64 MiB and 3 passes took minutes of CI."""
    parameters = current_app.config.get("PASSWORD_HASH_PARAMETERS") if has_app_context() else None
    return _hasher_with(tuple(sorted((parameters or {}).items())))


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher, dummy_hash = _hasher()
    try:
        return hasher.verify(password_hash or dummy_hash, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher()[0].check_needs_rehash(password_hash)

"""Errors the domain services raise; only the web layer turns them into HTTP answers.

Each kind says what went wrong in domain terms; `server.errors` maps the kinds to HTTP
statuses, and the CLI shows the message (they are ValueErrors, which the CLI reports).
"""

from __future__ import annotations

from typing import Any


class DomainError(ValueError):
    """A request a domain rule refuses, with a code and a message a user can act on."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class Invalid(DomainError):
    """The request breaks a rule (a bad value, a used code)."""


class NotFound(DomainError, LookupError):
    """The thing asked for does not exist, or is not visible to the asker."""


class Unauthenticated(DomainError):
    """The caller's credentials are unknown or revoked."""


class TooLarge(DomainError):
    """The request is larger than the server accepts (bytes, pixels)."""


class UnsupportedMedia(DomainError):
    """The content is of a type the server does not take."""


class Unprocessable(DomainError):
    """The content has the right type but cannot be used (a damaged image)."""


class StorageFull(DomainError):
    """The server has no room to store the content now; the same request may succeed later."""


class QuotaExceeded(DomainError):
    """A limit per period is used up; the same request may succeed after `retry_after` seconds."""

    def __init__(
        self,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(code, message, details)
        self.retry_after = retry_after

"""Domain errors raised by services; the app maps each to one HTTP status."""


class DomainError(Exception):
    """Base of the errors a service raises for a request it refuses."""

    status_code = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    """The request is valid but the current state does not allow it."""

    status_code = 409


class Invalid(DomainError):
    """The input breaks a rule that needs the database to check (reported as 422)."""

    status_code = 422


class Gone(DomainError):
    status_code = 410

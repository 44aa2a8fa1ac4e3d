"""Domain errors shared by the CLI, the TUI and the tests.

Every failure a person can provoke ends up as one of these, so each front end can turn it
into one clear line (and the CLI into an exit code) instead of a traceback. The error codes
follow the system description (INVALID_LICENSE, VAULT_ERROR, UNAUTHORIZED, ...); a few more
name cases it does not cover.
"""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2
EXIT_VAULT = 3


class LicenseConsoleError(Exception):
    """Base class: a message a person can act on, a stable code and an exit status."""

    code = "ERROR"
    exit_code = EXIT_REFUSED

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.message, "code": self.code, "details": self.details}


class InvalidInput(LicenseConsoleError):
    """The request itself is wrong: a bad date, an empty customer, a malformed file."""

    code = "INVALID_LICENSE"
    exit_code = EXIT_BAD_INPUT


class NotFound(LicenseConsoleError):
    """A license id that the registry does not know."""

    code = "NOT_FOUND"
    exit_code = EXIT_REFUSED


class OperationRefused(LicenseConsoleError):
    """The request is well formed but the current state forbids it (renew a revoked license)."""

    code = "OPERATION_REFUSED"
    exit_code = EXIT_REFUSED


class VaultError(LicenseConsoleError):
    """Vault answered, but not with what we needed (an unexpected server-side error)."""

    code = "VAULT_ERROR"
    exit_code = EXIT_VAULT


class VaultUnreachable(VaultError):
    """No answer at the configured address, or the answer timed out."""


class VaultSealed(VaultError):
    """Vault is sealed (or not initialised): nothing can be signed until it is unsealed."""


class VaultStandby(VaultError):
    """The node is a standby that cannot serve the request."""


class PermissionDenied(VaultError):
    """The token is missing, expired, or its policies do not allow the call."""

    code = "UNAUTHORIZED"


class KeyMissing(LicenseConsoleError):
    """The Transit mount or the signing key does not exist yet."""

    code = "KEY_MISSING"
    exit_code = EXIT_REFUSED

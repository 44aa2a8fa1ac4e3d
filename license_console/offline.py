"""`validate --offline`: verify.py's verdict in the same JSON shape as online validation.

Nothing here talks to Vault or opens the registry: the public key ring and (optionally) a
signed revocation list are all the trust there is, exactly as in a customer's application.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from license_console.errors import InvalidInput
from license_console.files import read_text
from license_console.licenses import format_ts, utcnow
from license_console.operations import ValidationResult
from license_console.verify import (
    KeyRing,
    RevocationList,
    RevocationListError,
    load_json,
    load_public_keys,
    load_revocation_list,
    verify_license,
)


def read_key_ring(path: Path) -> KeyRing:
    try:
        return load_public_keys(read_text(path, "public key file"))
    except ValueError as exc:
        raise InvalidInput(f"{path}: not a usable public key file: {exc}") from exc


def read_revocation_list(path: Path, keys: KeyRing) -> RevocationList:
    """A list that fails its own signature is an error, never an empty list."""
    text = read_text(path, "revocation list")
    try:
        document = load_json(text)
    except ValueError as exc:
        raise InvalidInput(f"{path}: the revocation list is not valid JSON: {exc}") from exc
    try:
        return load_revocation_list(document, keys)
    except RevocationListError as exc:
        raise InvalidInput(f"{path}: {exc}") from exc


def read_license_document(path: Path) -> dict[str, Any]:
    try:
        value = load_json(read_text(path, "license file"))
    except ValueError as exc:
        raise InvalidInput(f"{path}: the license is not valid JSON: {exc}") from exc
    if isinstance(value, dict) and isinstance(value.get("license"), dict):
        value = value["license"]  # the `{"success": true, "license": ...}` envelope of --json
    if not isinstance(value, dict):
        raise InvalidInput(f"{path}: the license is not a JSON object")
    return value


def validate_offline(
    license_path: Path,
    public_key_path: Path,
    revocations_path: Path | None = None,
    clock_skew_seconds: int = 300,
    now: datetime | None = None,
) -> ValidationResult:
    now = now or utcnow()
    keys = read_key_ring(public_key_path)
    revocations = read_revocation_list(revocations_path, keys) if revocations_path else None
    document = read_license_document(license_path)
    result = verify_license(
        document,
        keys,
        now=now,
        clock_skew=timedelta(seconds=clock_skew_seconds),
        revocations=revocations,
    )
    warnings = list(result.warnings)
    if revocations is None:
        warnings.append("checked offline without a revocation list: revocation is not known")
    if result.revoked:
        status = "revoked"
    elif result.expired:
        status = "expired"
    elif result.valid:
        status = "active"
    else:
        status = "unknown"
    return ValidationResult(
        valid=result.valid,
        signature_valid=result.signature_valid,
        expired=result.expired,
        revoked=result.revoked,
        days_until_expiry=result.days_until_expiry,
        status=status,
        reasons=list(result.reasons),
        warnings=warnings,
        license=document,
        validation_timestamp=format_ts(now),
    )

"""The license document: its fields, its canonical (signed) form, and input normalisation.

A license is a JSON object. The signed bytes are RFC 8785 (JCS) of every member except
`signature`; the key name, key version and `alg` are members too, so a license can never be
checked against the wrong key and any edit, metadata included, breaks the signature.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import rfc8785
from pydantic import BaseModel, ConfigDict, Field, field_validator
from ulid import ULID

from license_console.errors import InvalidInput

FORMAT_VERSION = "1.0"
MAX_SAFE_INTEGER = 2**53 - 1
MODULE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+-]{0,63}$")
MAX_CUSTOMER_LENGTH = 200
SIGNATURE_PATTERN = re.compile(r"^vault:v(\d+):[A-Za-z0-9+/]+={0,2}$")


def utcnow() -> datetime:
    """Now, in UTC, at the millisecond precision licenses are written with."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def format_ts(moment: datetime) -> str:
    """`2025-09-28T08:37:14.567Z`: the timestamp format of the system description."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_ts(text: str) -> datetime:
    """Parse an ISO 8601 date-time; a naive one is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except (ValueError, AttributeError) as exc:
        raise ValueError(f"{text!r} is not an ISO 8601 date-time") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_expiry(text: str) -> datetime:
    """A bare date (any ISO 8601 date form) means the end of that day in UTC.

    `2030-12-31` and `20301231` -> 2030-12-31T23:59:59.999Z; a date-time without an offset is UTC.
    """
    text = (text or "").strip()
    if not text:
        raise InvalidInput("an expiry date is required (YYYY-MM-DD or an ISO 8601 date-time)")
    try:
        return datetime.combine(date.fromisoformat(text), time(23, 59, 59, 999000), tzinfo=UTC)
    except ValueError:
        pass
    try:
        return parse_ts(text)
    except ValueError as exc:
        raise InvalidInput(
            f"expiry {text!r} is not a date: use YYYY-MM-DD or an ISO 8601 date-time"
        ) from exc


def parse_moment(text: str, what: str) -> datetime:
    """A date (start of that day, UTC) or a date-time, for revocation effective dates."""
    text = (text or "").strip()
    try:
        return datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
    except ValueError:
        pass
    try:
        return parse_ts(text)
    except ValueError as exc:
        raise InvalidInput(f"{what} {text!r} is not a date or ISO 8601 date-time") from exc


def new_license_id() -> str:
    """A ULID: sortable by time like the seed's timestamps, but collision-free."""
    return str(ULID())


def check_json_value(value: Any, path: str = "metadata") -> None:
    """Refuse what RFC 8785 cannot represent exactly, before anything is signed."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise InvalidInput(
                f"{path} = {value} is beyond 2^53-1 and cannot be signed exactly; "
                "store it as a string"
            )
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(f"{path} = {value} is not a finite number")
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            check_json_value(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInput(f"{path} has a non-string key {key!r}")
            check_json_value(item, f"{path}.{key}")
        return
    raise InvalidInput(f"{path} has a value of type {type(value).__name__} that JSON cannot hold")


def parse_meta_pairs(pairs: Iterable[str]) -> dict[str, Any]:
    """`KEY=VALUE` pairs; a VALUE that parses as JSON (100, true, "x") keeps its type."""
    result: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidInput(f"metadata {pair!r} is not KEY=VALUE")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        check_json_value(value, f"metadata.{key}")
        result[key] = value
    return result


def normalize_customer(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("customer must be a non-empty name")
    value = value.strip()
    if len(value) > MAX_CUSTOMER_LENGTH:
        raise InvalidInput(f"customer is longer than {MAX_CUSTOMER_LENGTH} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
        raise InvalidInput("customer contains control characters")
    return value


def normalize_modules(values: Iterable[Any]) -> list[str]:
    """Modules are a set: deduplicated and sorted, so their order is never signed."""
    modules = set()
    for raw in values:
        if not isinstance(raw, str) or not MODULE_PATTERN.match(raw.strip()):
            raise InvalidInput(
                f"module {raw!r} is not a valid name (ASCII letters, digits and _ . : + -, "
                "starting with a letter or digit, at most 64 characters)"
            )
        modules.add(raw.strip())
    if not modules:
        raise InvalidInput("at least one module is required")
    return sorted(modules)


def canonical_bytes(document: Mapping[str, Any]) -> bytes:
    """The exact bytes that are signed: JCS of every member except `signature`."""
    try:
        return rfc8785.dumps({k: v for k, v in document.items() if k != "signature"})
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise InvalidInput(f"the license cannot be canonicalised: {exc}") from exc


def signature_version(signature: str) -> int | None:
    match = SIGNATURE_PATTERN.match(signature or "")
    return int(match.group(1)) if match else None


class LicenseRequest(BaseModel):
    """What a person asks for; normalised and checked before anything reaches Vault."""

    customer: str
    modules: list[str]
    expires_at: datetime
    metadata: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def build(
        cls,
        customer: Any,
        modules: Iterable[Any],
        expires: str | datetime,
        metadata: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> LicenseRequest:
        """Validate raw input into a request, raising InvalidInput with a clear reason."""
        expires_at = parse_expiry(expires) if isinstance(expires, str) else expires
        if expires_at <= (now or utcnow()):
            raise InvalidInput(f"expiry {format_ts(expires_at)} is in the past")
        metadata = dict(metadata or {})
        if not isinstance(metadata, dict):
            raise InvalidInput("metadata must be a JSON object")
        check_json_value(metadata)
        return cls(
            customer=normalize_customer(customer),
            modules=normalize_modules(modules),
            expires_at=expires_at,
            metadata=metadata,
        )


class License(BaseModel):
    """A license as written to `.lic` files, JSON output and the registry."""

    model_config = ConfigDict(extra="forbid")

    license_id: str
    customer: str
    modules: list[str]
    issued_at: str
    expires_at: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    issuer: str
    version: str = FORMAT_VERSION
    renewed_from: str | None = None
    key_name: str
    key_version: int
    alg: str
    signature: str | None = None

    @field_validator("issued_at", "expires_at")
    @classmethod
    def _iso(cls, value: str) -> str:
        parse_ts(value)
        return value

    @property
    def issued(self) -> datetime:
        return parse_ts(self.issued_at)

    @property
    def expires(self) -> datetime:
        return parse_ts(self.expires_at)

    def document(self) -> dict[str, Any]:
        """The JSON object, fields in a reading order (the signature does not depend on it)."""
        return self.model_dump(mode="json")

    def canonical(self) -> bytes:
        return canonical_bytes(self.document())


def draft_license(
    request: LicenseRequest,
    *,
    issuer: str,
    key_name: str,
    key_version: int,
    alg: str,
    renewed_from: str | None = None,
    now: datetime | None = None,
) -> License:
    """An unsigned license for `request`, pinned to one key version and algorithm."""
    return License(
        license_id=new_license_id(),
        customer=request.customer,
        modules=request.modules,
        issued_at=format_ts(now or utcnow()),
        expires_at=format_ts(request.expires_at),
        metadata=request.metadata,
        issuer=issuer,
        renewed_from=renewed_from,
        key_name=key_name,
        key_version=key_version,
        alg=alg,
    )


def load_document(text: str, source: str = "license") -> dict[str, Any]:
    """Parse a `.lic` file's text into its JSON object, with a clear error otherwise."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"{source} is not JSON: {exc}") from exc
    if isinstance(value, dict) and isinstance(value.get("license"), dict):
        value = value["license"]  # accept the `{"success": true, "license": ...}` envelope
    if not isinstance(value, dict):
        raise InvalidInput(f"{source} is not a JSON object")
    return value


def days_until(moment: datetime, now: datetime) -> int:
    return math.floor((moment - now) / timedelta(days=1))

"""Offline verification of signed licenses.

This module is meant to be copied into a customer's application, so it depends on nothing but the
Python standard library and ``cryptography``; it must never import the rest of ``license_console``.

A license is a JSON object signed by Vault/OpenBao Transit. The signed bytes are the RFC 8785 (JCS)
canonical form of the object without its ``signature`` member, so every other member, known or
not, is covered: adding, removing or changing any field breaks the signature.

Public-key file ("key ring") format, one labelled PEM block per key version::

    # License Console public keys
    # key: license-signing-key
    # type: ed25519
    # version: 1
    # created: 2026-12-03T15:54:31Z
    -----BEGIN PUBLIC KEY-----
    ...
    -----END PUBLIC KEY-----

A plain PEM file holding a single unlabelled key is accepted too; that key is then used for any
key name and version, because whoever handed it to us has already said which key it is.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

# --- RFC 8785 JSON Canonicalization Scheme --------------------------------------------------------

MAX_SAFE_INTEGER = 2**53 - 1
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')


def _jcs_string(value: str) -> str:
    """Escape only what RFC 8785 demands; other control characters become lowercase \\u00xx."""
    escaped = _NEEDS_ESCAPE.sub(
        lambda match: _ESCAPES.get(match.group(0)) or f"\\u{ord(match.group(0)):04x}", value
    )
    return f'"{escaped}"'


def _jcs_float(value: float) -> str:
    """Serialize like ECMAScript Number.prototype.toString.

    Python's repr already yields the shortest round-trip digits (the same choice ECMAScript makes);
    only the placement of the decimal point and the exponent differ, so we re-lay them out.
    """
    if not math.isfinite(value):
        raise ValueError(f"{value!r} cannot be represented in JSON")
    if value == 0:
        return "0"  # covers -0.0 too
    if value < 0:
        return "-" + _jcs_float(-value)
    mantissa, _, exp_text = float.__repr__(value).partition("e")
    whole, _, fraction = mantissa.partition(".")
    combined = whole + fraction
    significant = combined.lstrip("0")
    # n is the ECMAScript exponent, value = 0.<digits> * 10**n; repr put the point after `whole`.
    n = len(whole) - (len(combined) - len(significant)) + int(exp_text or 0)
    digits = significant.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * -n + digits
    exponent = n - 1
    sign = "+" if exponent > 0 else "-"
    head = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{head}e{sign}{abs(exponent)}"


def _jcs(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError(f"integer {value} is outside the I-JSON range ±(2**53-1)")
        return int.__repr__(value)  # not str(): an IntEnum member would print its name
    if isinstance(value, float):
        return _jcs_float(value)
    if isinstance(value, str):
        return _jcs_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_jcs(item) for item in value) + "]"
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise TypeError("JSON object keys must be strings")
        ordered = sorted(value, key=lambda key: key.encode("utf-16-be"))  # RFC 8785 §3.2.3
        return "{" + ",".join(_jcs_string(key) + ":" + _jcs(value[key]) for key in ordered) + "}"
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def jcs_dumps(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of a JSON value.

    Raises ValueError for numbers JSON cannot carry exactly (NaN, infinities, integers beyond
    ±(2**53-1)) and for lone surrogates, and TypeError for non-JSON types.
    """
    return _jcs(value).encode("utf-8")


def canonical_bytes(license: dict[str, Any]) -> bytes:  # noqa: A002 - name fixed by the API
    """The bytes that are signed: the whole document except its ``signature`` member."""
    return jcs_dumps({key: value for key, value in license.items() if key != "signature"})


# --- Algorithms and public keys -------------------------------------------------------------------

PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_CURVES: dict[str, tuple[type[ec.EllipticCurve], str]] = {
    "ecdsa-p256+sha2-256": (ec.SECP256R1, "sha256"),
    "ecdsa-p384+sha2-384": (ec.SECP384R1, "sha384"),
    "ecdsa-p521+sha2-512": (ec.SECP521R1, "sha512"),
}
SUPPORTED_ALGS = frozenset(
    ["ed25519", *_CURVES]
    + [f"rsa-{scheme}-{digest}" for scheme in ("pss", "pkcs1v15") for digest in _HASHES]
)
ANY_KEY: tuple[str, int] = ("*", 0)
"""Key-ring slot of a single unlabelled PEM: it stands for every key name and version."""


@dataclass(frozen=True)
class PublicKeyEntry:
    """One version of a signing key, as published to customers."""

    key_name: str
    version: int
    key_type: str
    pem: str
    created: str | None = None

    def public_key(self) -> PublicKey:
        return _load_pem(self.pem)


KeyRing = Mapping[tuple[str, int], PublicKeyEntry]


def _load_pem(pem: str) -> PublicKey:
    key = serialization.load_pem_public_key(pem.encode("ascii"))
    if not isinstance(key, (ed25519.Ed25519PublicKey, ec.EllipticCurvePublicKey, rsa.RSAPublicKey)):
        raise ValueError(f"unsupported public key type {type(key).__name__}")
    return key


def _spki_pem(key: PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def key_type_of(key: PublicKey) -> str:
    """Name a key the way Transit names key types (ed25519, ecdsa-p256, rsa-2048...)."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"ecdsa-p{key.curve.key_size}"
    return f"rsa-{key.key_size}"


def public_key_pem_from_transit(key_type: str, public_key: str) -> str:
    """Normalise a Transit ``read_key`` public key to SubjectPublicKeyInfo PEM.

    Transit hands out ed25519 keys as base64 of the raw 32 bytes but ECDSA/RSA keys as PEM;
    customers should only ever see one format.
    """
    if public_key.lstrip().startswith("-----BEGIN"):
        key: PublicKey = _load_pem(public_key)
    else:
        key = ed25519.Ed25519PublicKey.from_public_bytes(
            base64.b64decode(public_key, validate=True)
        )
    if key_type_of(key) != key_type:
        raise ValueError(f"Transit said {key_type} but the key is {key_type_of(key)}")
    return _spki_pem(key)


def format_public_keys(keys: list[PublicKeyEntry]) -> str:
    """Write a key ring that :func:`load_public_keys` reads back."""
    lines = ["# License Console public keys"]
    for entry in sorted(keys, key=lambda e: (e.key_name, e.version)):
        lines += [
            f"# key: {entry.key_name}",
            f"# type: {entry.key_type}",
            f"# version: {entry.version}",
        ]
        if entry.created:
            lines.append(f"# created: {entry.created}")
        lines.append(_spki_pem(entry.public_key()).strip())
    return "\n".join(lines) + "\n"


_LABEL = re.compile(r"#\s*([A-Za-z_]+)\s*:\s*(.*?)\s*$")


def _pem_blocks(text: str) -> list[tuple[dict[str, str], str]]:
    """Split a key ring into (labels, pem) pairs; labels are the ``# name: value`` lines above."""
    blocks: list[tuple[dict[str, str], str]] = []
    labels: dict[str, str] = {}
    pem: list[str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if pem is not None:
            pem.append(line)
            if line.startswith("-----END"):
                blocks.append((labels, "\n".join(pem) + "\n"))
                labels, pem = {}, None
        elif line.startswith("-----BEGIN"):
            pem = [line]
        elif line.startswith("#"):
            match = _LABEL.match(line)
            if match:
                labels[match.group(1).lower()] = match.group(2)
        elif line:
            raise ValueError(f"line {number}: unexpected text outside a PEM block")
    if pem is not None:
        raise ValueError("the last PEM block has no END line")
    return blocks


def _labelled_entry(labels: dict[str, str], key: PublicKey) -> PublicKeyEntry:
    if "key" not in labels or "version" not in labels:
        raise ValueError("every key in a key ring needs '# key:' and '# version:' lines")
    if not labels["version"].isdigit():
        raise ValueError(f"key version {labels['version']!r} is not a positive integer")
    actual = key_type_of(key)
    if labels.get("type", actual) != actual:
        raise ValueError(
            f"{labels['key']} v{labels['version']} is labelled {labels['type']} "
            f"but holds a {actual} key"
        )
    return PublicKeyEntry(
        labels["key"], int(labels["version"]), actual, _spki_pem(key), labels.get("created")
    )


def load_public_keys(text: str) -> dict[tuple[str, int], PublicKeyEntry]:
    """Read a key ring into ``{(key_name, version): entry}``.

    A single unlabelled PEM is returned under :data:`ANY_KEY` and verifies any key name/version.
    """
    blocks = _pem_blocks(text)
    if not blocks:
        raise ValueError("no PEM public key found")
    if len(blocks) == 1 and not blocks[0][0]:
        key = _load_pem(blocks[0][1])
        return {ANY_KEY: PublicKeyEntry(ANY_KEY[0], ANY_KEY[1], key_type_of(key), _spki_pem(key))}
    ring: dict[tuple[str, int], PublicKeyEntry] = {}
    for labels, pem in blocks:
        entry = _labelled_entry(labels, _load_pem(pem))
        if (entry.key_name, entry.version) in ring:
            raise ValueError(f"{entry.key_name} version {entry.version} appears twice")
        ring[(entry.key_name, entry.version)] = entry
    return ring


# --- Signatures -----------------------------------------------------------------------------------

_SIGNATURE = re.compile(r"vault:v(\d+):([A-Za-z0-9+/=_-]+)")


def _check_key_fits_alg(key: PublicKey, alg: str) -> str | None:
    if alg == "ed25519":
        ok = isinstance(key, ed25519.Ed25519PublicKey)
    elif alg in _CURVES:
        ok = isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, _CURVES[alg][0])
    else:
        ok = isinstance(key, rsa.RSAPublicKey)
    return None if ok else f"alg {alg} does not fit the public key, which is {key_type_of(key)}"


def _verify_raw(key: PublicKey, alg: str, signature: bytes, data: bytes) -> None:
    """Raise InvalidSignature unless ``signature`` is a Transit signature of ``data``."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        key.verify(signature, data)  # Transit signs ed25519 input as is, without prehashing
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(signature, data, ec.ECDSA(_HASHES[_CURVES[alg][1]]()))
    else:
        digest = _HASHES[alg.rsplit("-", 1)[1]]()
        if alg.startswith("rsa-pss-"):
            # Transit's salt length "auto" signs with the longest salt; AUTO accepts any length.
            pad: padding.AsymmetricPadding = padding.PSS(padding.MGF1(digest), padding.PSS.AUTO)
        else:
            pad = padding.PKCS1v15()
        key.verify(signature, data, pad, digest)


def signature_problem(doc: Mapping[str, Any], keys: KeyRing, what: str = "license") -> str | None:
    """Return why the document's signature fails, or None when it is good.

    Shared by licenses and revocation lists, which are signed the same way.
    """
    key_name, version, alg = doc.get("key_name"), doc.get("key_version"), doc.get("alg")
    signature = doc.get("signature")
    if not isinstance(key_name, str) or not key_name:
        return "key_name is missing or not a string"
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return "key_version is missing or not a positive integer"
    if alg not in SUPPORTED_ALGS:
        return f"unsupported alg {alg!r}; expected one of {', '.join(sorted(SUPPORTED_ALGS))}"
    match = _SIGNATURE.fullmatch(signature) if isinstance(signature, str) else None
    if match is None:
        return "signature is missing or not of the form vault:v<N>:<base64>"
    if int(match.group(1)) != version:
        return (
            f"signature was made with key version {match.group(1)} but the document says "
            f"key_version {version}"
        )
    entry = keys.get((key_name, version)) or keys.get(ANY_KEY)
    if entry is None:
        return f"no public key for {key_name} version {version}"
    key = entry.public_key()
    mismatch = _check_key_fits_alg(key, alg)
    if mismatch:
        return mismatch
    try:
        raw = base64.b64decode(match.group(2), validate=True)
        data = canonical_bytes(dict(doc))
    except (TypeError, ValueError) as error:
        return f"cannot check the signature: {error}"
    try:
        _verify_raw(key, alg, raw, data)
    except InvalidSignature:
        return f"signature does not match: the {what} was altered or signed by another key"
    return None


# --- Dates and revocations ------------------------------------------------------------------------


def parse_timestamp(text: Any) -> datetime:
    """Parse ``YYYY-MM-DDTHH:MM:SS.mmmZ`` or any ISO 8601 time with an offset, as aware UTC."""
    if not isinstance(text, str):
        raise ValueError("not a string")
    cleaned = text.strip()
    if cleaned[-1:] in ("Z", "z"):
        cleaned = cleaned[:-1] + "+00:00"
    moment = datetime.fromisoformat(cleaned)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return moment.astimezone(UTC)


class RevocationListError(ValueError):
    """A revocation list that cannot be trusted; refusing it beats ignoring revocations."""


@dataclass(frozen=True)
class Revocation:
    license_id: str
    effective_at: datetime
    effective_at_text: str
    reason: str


@dataclass(frozen=True)
class RevocationList:
    key_name: str
    key_version: int
    issued_at: datetime
    next_update: datetime
    next_update_text: str
    revocations: tuple[Revocation, ...]

    def for_license(self, license_id: str) -> list[Revocation]:
        return [entry for entry in self.revocations if entry.license_id == license_id]


def _revocation_entry(item: Any) -> Revocation:
    if not isinstance(item, dict) or not isinstance(item.get("license_id"), str):
        raise RevocationListError("each revocation needs a license_id string")
    try:
        effective = parse_timestamp(item.get("effective_at"))
    except ValueError as error:
        raise RevocationListError(f"bad effective_at for {item['license_id']}: {error}") from None
    return Revocation(
        item["license_id"],
        effective,
        item["effective_at"],
        str(item.get("reason") or "no reason given"),
    )


def load_revocation_list(doc: Any, keys: KeyRing) -> RevocationList:
    """Check a signed revocation list and return it; raise RevocationListError if untrustworthy."""
    if not isinstance(doc, dict) or doc.get("type") != "license-console-revocations":
        raise RevocationListError("not a license-console-revocations document")
    problem = signature_problem(doc, keys, "revocation list")
    if problem:
        raise RevocationListError(f"revocation list refused: {problem}")
    if not isinstance(doc.get("revocations"), list):
        raise RevocationListError("revocations must be a list")
    try:
        issued, next_update = (
            parse_timestamp(doc.get("issued_at")),
            parse_timestamp(doc.get("next_update")),
        )
    except ValueError as error:
        raise RevocationListError(f"bad issued_at/next_update: {error}") from None
    entries = tuple(_revocation_entry(item) for item in doc["revocations"])
    return RevocationList(
        doc["key_name"], doc["key_version"], issued, next_update, doc["next_update"], entries
    )


# --- License verification -------------------------------------------------------------------------


@dataclass(frozen=True)
class OfflineResult:
    valid: bool
    signature_valid: bool
    expired: bool
    revoked: bool
    days_until_expiry: int | None
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _field_problems(doc: Mapping[str, Any]) -> list[str]:
    problems = [
        f"{name} is missing or not a non-empty string"
        for name in ("license_id", "customer")
        if not isinstance(doc.get(name), str) or not doc[name]
    ]
    modules = doc.get("modules")
    if not isinstance(modules, list) or not all(isinstance(m, str) for m in modules):
        problems.append("modules is missing or not a list of strings")
    return problems


def _timestamp(doc: Mapping[str, Any], name: str, reasons: list[str]) -> datetime | None:
    try:
        return parse_timestamp(doc.get(name))
    except ValueError:
        reasons.append(f"{name} is missing or not an ISO 8601 time with an offset")
        return None


def _check_revocations(
    license_id: Any,
    revocations: RevocationList,
    now: datetime,
    reasons: list[str],
    warnings: list[str],
) -> bool:
    if now > revocations.next_update:
        warnings.append(
            f"revocation list was due for an update on "
            f"{revocations.next_update_text}; fetch a fresh one"
        )
    revoked = False
    for entry in revocations.for_license(license_id) if isinstance(license_id, str) else []:
        if entry.effective_at <= now:
            revoked = True
            reasons.append(f"revoked on {entry.effective_at_text}: {entry.reason}")
        else:
            warnings.append(f"will be revoked on {entry.effective_at_text}: {entry.reason}")
    return revoked


def verify_license(
    doc: Any,
    keys: KeyRing | str,
    *,
    now: datetime | None = None,
    clock_skew: timedelta = timedelta(minutes=5),
    revocations: RevocationList | None = None,
) -> OfflineResult:
    """Check signature, dates and revocation of a license; never raises for a bad document.

    ``keys`` is a key ring from :func:`load_public_keys` or its text. ``now`` defaults to the
    current time (a naive value is taken as UTC). ``clock_skew`` forgives a slightly fast issuer
    clock for ``issued_at``; expiry is exact because the vendor chose that instant.
    """
    if not isinstance(doc, dict):
        return OfflineResult(False, False, False, False, None, ["license is not a JSON object"])
    ring = load_public_keys(keys) if isinstance(keys, str) else keys
    now = now or datetime.now(UTC)
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    reasons = _field_problems(doc)
    warnings: list[str] = []
    problem = signature_problem(doc, ring)
    if problem:
        reasons.insert(0, problem)
    issued, expires = _timestamp(doc, "issued_at", reasons), _timestamp(doc, "expires_at", reasons)
    if issued and issued > now + clock_skew:
        reasons.append(
            f"issued_at lies in the future ({doc['issued_at']}); is this machine's "
            "clock wrong or was the license forged?"
        )
    if issued and expires and expires < issued:
        reasons.append("expires_at is before issued_at")
    expired = bool(expires and now >= expires)
    if expired:
        reasons.append(f"license expired on {doc['expires_at']}")
    revoked = revocations is not None and _check_revocations(
        doc.get("license_id"), revocations, now, reasons, warnings
    )
    days = (expires - now) // timedelta(days=1) if expires else None
    return OfflineResult(not reasons, problem is None, expired, revoked, days, reasons, warnings)


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member names in a JSON object")
    return result


def load_json(text: str) -> Any:
    """Parse strict JSON: duplicate names and NaN/Infinity would make the signed form ambiguous."""
    return json.loads(text, object_pairs_hook=_reject_duplicates, parse_constant=_refuse_constant)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def verify_license_file(
    path: str | Path,
    public_key_path: str | Path,
    revocations_path: str | Path | None = None,
    *,
    now: datetime | None = None,
) -> OfflineResult:
    """Verify a license file against a key-ring file and, optionally, a revocation-list file.

    A revocation list that fails its own checks raises RevocationListError rather than being
    skipped, so a forged or broken list can never silently un-revoke a license.
    """
    ring = load_public_keys(Path(public_key_path).read_text(encoding="utf-8"))
    revocations = None
    if revocations_path is not None:
        try:
            revocation_doc = load_json(Path(revocations_path).read_text(encoding="utf-8"))
        except ValueError as error:
            raise RevocationListError(f"revocation list is not valid JSON: {error}") from None
        revocations = load_revocation_list(revocation_doc, ring)
    try:
        doc = load_json(Path(path).read_text(encoding="utf-8"))
    except ValueError as error:
        return OfflineResult(False, False, False, False, None, [f"not valid JSON: {error}"])
    return verify_license(doc, ring, now=now, revocations=revocations)

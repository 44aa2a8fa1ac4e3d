"""License operations: issue, validate, renew, revoke, list and batch-issue.

The one service the CLI, the TUI and the tests all call. The rule that keeps the registry
honest: Vault signs first, then one database transaction writes the license and its audit
event together, so a Vault failure leaves nothing behind and a database failure leaves only
an unused signature.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from license_console import audit, audit_chain
from license_console.batch_file import (
    BatchEntry,
    BatchError,
    BatchResult,
    check_entry,
    not_issued,
)
from license_console.config import Settings
from license_console.errors import (
    InvalidInput,
    LicenseConsoleError,
    OperationRefused,
    VaultError,
)
from license_console.files import read_text, write_text_atomic
from license_console.licenses import (
    License,
    LicenseRequest,
    canonical_bytes,
    days_until,
    draft_license,
    format_ts,
    load_document,
    signature_version,
    utcnow,
)
from license_console.registry import LicenseRecord, ListQuery, ListResult, Registry
from license_console.vault import (
    BATCH_CHUNK,
    KeyInfo,
    SigningScheme,
    VaultService,
    key_type_matches_alg,
    scheme_for_alg,
    scheme_for_key_type,
)

Progress = Callable[[int, int], None]


class ValidationResult(BaseModel):
    """The verdict on one license, in the JSON shape of the system description plus reasons."""

    valid: bool
    signature_valid: bool
    expired: bool
    revoked: bool
    superseded: bool = False
    days_until_expiry: int | None = None
    status: str = "unknown"
    reasons: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    license: dict[str, Any]
    validation_timestamp: str


class RevokeResult(BaseModel):
    license_id: str
    reason: str
    effective_at: str
    effective_now: bool


def _pydantic_message(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())


class LicenseService:
    """Everything a person can do with licenses, over one Vault and one registry."""

    def __init__(
        self,
        settings: Settings,
        vault: VaultService,
        registry: Registry,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.vault = vault
        self.registry = registry
        self.clock = clock

    # -- signing ---------------------------------------------------------------------------

    def _signing_key(self) -> tuple[KeyInfo, SigningScheme]:
        key = self.vault.read_key()
        if not key.supports_signing:
            raise OperationRefused(f"key {key.name!r} is a {key.type} key and cannot sign")
        return key, scheme_for_key_type(key.type, self.settings.rsa_padding)

    def _draft(
        self, request: LicenseRequest, key: KeyInfo, scheme: SigningScheme, renewed_from: str | None
    ) -> License:
        return draft_license(
            request,
            issuer=self.settings.issuer,
            key_name=key.name,
            key_version=key.latest_version,
            alg=scheme.alg,
            renewed_from=renewed_from,
            now=self.clock(),
        )

    def _sign(self, drafts: Sequence[License], key: KeyInfo, scheme: SigningScheme) -> None:
        """Sign drafts in place with the pinned latest version, checking Vault honoured it."""
        signatures = self.vault.sign([d.canonical() for d in drafts], key.latest_version, scheme)
        for draft, signature in zip(drafts, signatures, strict=True):
            if signature_version(signature) != key.latest_version:
                raise VaultError(
                    f"Vault signed with {signature.split(':')[1]} instead of the pinned "
                    f"v{key.latest_version}"
                )
            draft.signature = signature

    # -- issue ---------------------------------------------------------------------------------

    def issue(self, request: LicenseRequest) -> License:
        key, scheme = self._signing_key()
        actor = self.vault.whoami()
        license_ = self._draft(request, key, scheme, None)
        self._sign([license_], key, scheme)
        with self.registry.write():
            self.registry.add_license(license_.document())
            audit.record("issue", actor, license_.license_id, _summary(license_), self.clock())
        audit_chain.checkpoint_if_due(self.vault)
        return license_

    # -- the signing key -----------------------------------------------------------------------

    def create_key(self, key_type: str = "ed25519") -> tuple[KeyInfo, bool]:
        """Create the signing key if it is missing; the creation is audited, a no-op is not."""
        key, created = self.vault.create_key(key_type)
        if created:
            with self.registry.write():
                details = {"key": key.name, "type": key.type}
                audit.record("key-create", self.vault.whoami(), None, details, self.clock())
        return key, created

    def rotate_key(self) -> KeyInfo:
        """Add a key version: new licenses use it, old ones keep verifying."""
        key = self.vault.rotate_key()
        with self.registry.write():
            details = {"key": key.name, "latest_version": key.latest_version}
            audit.record("key-rotate", self.vault.whoami(), None, details, self.clock())
        return key

    # -- validate ------------------------------------------------------------------------------

    def validate(self, document: Mapping[str, Any], record_audit: bool = True) -> ValidationResult:
        """Online validation: Transit verify plus the registry's revocation and renewal state."""
        now = self.clock()
        doc = dict(document)
        # A member we never write is a tampered license (it is signed over), not a bad file.
        unexpected = sorted(set(doc) - set(License.model_fields))
        try:
            license_ = License.model_validate(
                {k: v for k, v in doc.items() if k in License.model_fields}
            )
        except ValidationError as exc:
            raise InvalidInput(f"malformed license: {_pydantic_message(exc)}") from exc
        reasons: list[str] = []
        if unexpected:
            reasons.append(f"unexpected member(s) {', '.join(unexpected)}: the license was altered")
        warnings: list[str] = []
        signature_valid = self._check_signature(doc, license_, reasons)
        expired = license_.expires < now
        if expired:
            reasons.append(f"license expired on {license_.expires_at}")
        skew = timedelta(seconds=self.settings.clock_skew_seconds)
        if license_.issued > now + skew:
            reasons.append(
                f"issued_at {license_.issued_at} lies in the future: a clock is wrong or the "
                "license was forged"
            )
        record = self.registry.find(license_.license_id, now)
        revoked, superseded = _registry_state(record, license_, reasons, warnings, now)
        valid = signature_valid and not reasons
        result = ValidationResult(
            valid=valid,
            signature_valid=signature_valid,
            expired=expired,
            revoked=revoked,
            superseded=superseded,
            days_until_expiry=days_until(license_.expires, now),
            status=record.status if record else "unknown",
            reasons=reasons,
            warnings=warnings,
            license=doc,
            validation_timestamp=format_ts(now),
        )
        if record_audit:
            self._audit_validation(result, license_.license_id)
        return result

    def _audit_validation(self, result: ValidationResult, license_id: str) -> None:
        details = {"valid": result.valid, "reasons": result.reasons}
        with self.registry.write():
            audit.record("validate", self.vault.whoami(), license_id, details, self.clock())
        audit_chain.checkpoint_if_due(self.vault)

    def _check_signature(self, doc: dict[str, Any], license_: License, reasons: list[str]) -> bool:
        signature = license_.signature or ""
        version = signature_version(signature)
        if version is None:
            reasons.append("signature is missing or malformed (expected vault:vN:<base64>)")
            return False
        if version != license_.key_version:
            reasons.append(
                f"signature names key version {version} but the license says {license_.key_version}"
            )
            return False
        if license_.key_name != self.settings.key_name:
            reasons.append(
                f"signed with key {license_.key_name!r}; this console verifies with "
                f"{self.settings.key_name!r}"
            )
            return False
        key = self.vault.read_key()
        if not key_type_matches_alg(key.type, license_.alg):
            reasons.append(f"alg {license_.alg!r} does not match the {key.type} signing key")
            return False
        try:
            scheme = scheme_for_alg(license_.alg)
        except InvalidInput as exc:
            reasons.append(exc.message)
            return False
        outcome = self.vault.verify([(canonical_bytes(doc), signature)], scheme)[0]
        if outcome.valid:
            return True
        reasons.append(_explain_verify_error(outcome.error, version, key))
        return False

    # -- renew ---------------------------------------------------------------------------------

    def resolve(self, target: str) -> LicenseRecord:
        """A license id (or unambiguous prefix), or a `.lic` file whose signature must hold."""
        path = Path(target)
        if path.suffix in (".lic", ".json") or path.is_file():
            document = read_license_file(path)
            result = self.validate(document, record_audit=False)
            if not result.signature_valid:
                raise OperationRefused(
                    f"{target}: the license does not verify: {'; '.join(result.reasons)}"
                )
            return self.registry.get(str(document.get("license_id", "")), self.clock())
        return self.registry.get(target, self.clock())

    def renew(
        self,
        target: str,
        expires: str | datetime,
        add_modules: Iterable[str] = (),
        metadata_updates: Mapping[str, Any] | None = None,
    ) -> License:
        """A new license (new id, latest key version) that supersedes the old one."""
        old = self.resolve(target)
        now = self.clock()
        if old.revocation is not None:
            when = format_ts(old.revocation.effective_at)
            state = "is revoked" if old.status == "revoked" else "is scheduled for revocation"
            raise OperationRefused(
                f"license {old.license_id} {state} (effective {when}): a revoked license is "
                "not renewed; issue a new one instead"
            )
        if old.superseded_by:
            raise OperationRefused(
                f"license {old.license_id} was already renewed as {old.superseded_by}; "
                "renew that one"
            )
        metadata = {**old.document.get("metadata", {}), **dict(metadata_updates or {})}
        request = LicenseRequest.build(
            old.customer, [*old.modules, *add_modules], expires, metadata, now=now
        )
        key, scheme = self._signing_key()
        actor = self.vault.whoami()
        new = self._draft(request, key, scheme, old.license_id)
        self._sign([new], key, scheme)
        with self.registry.write():
            if not self.registry.mark_superseded(old.license_id, new.license_id):
                raise OperationRefused(f"license {old.license_id} was renewed meanwhile")
            self.registry.add_license(new.document())
            details = {**_summary(new), "renewed_from": old.license_id}
            audit.record("renew", actor, new.license_id, details, now)
            audit.record("supersede", actor, old.license_id, {"by": new.license_id}, now)
        audit_chain.checkpoint_if_due(self.vault)
        return new

    # -- revoke --------------------------------------------------------------------------------

    def revoke(
        self, license_id: str, reason: str, effective: datetime | None = None
    ) -> RevokeResult:
        """Revoke now, or from a future moment (the license stays valid until then).

        A revocation that is only scheduled can be revoked again: the new one (sooner, later, or
        now) replaces it. One already in effect is final.
        """
        reason = (reason or "").strip()
        if not reason:
            raise InvalidInput("a revocation needs a reason")
        now = self.clock()
        record = self.registry.get(license_id, now)
        previous = record.revocation
        if previous is not None and previous.effective_at <= now:
            raise OperationRefused(
                f"license {record.license_id} is already revoked (effective "
                f"{format_ts(previous.effective_at)}: {previous.reason})"
            )
        effective_at = effective or now
        actor = self.vault.whoami()
        # Only the registry changes, so Vault would never refuse: ask it whether this token may
        # sign, since revocations end up in the signed revocation list.
        self.vault.require_signing("revoke licenses")
        with self.registry.write():
            self.registry.add_revocation(record.license_id, reason, effective_at, actor, now)
            details = {"reason": reason, "effective_at": format_ts(effective_at)}
            if previous is not None:
                details["replaces"] = format_ts(previous.effective_at)
            audit.record("revoke", actor, record.license_id, details, now)
        audit_chain.checkpoint_if_due(self.vault)
        return RevokeResult(
            license_id=record.license_id,
            reason=reason,
            effective_at=format_ts(effective_at),
            effective_now=effective_at <= now,
        )

    def cancel_revocation(self, license_id: str) -> str:
        """Withdraw a scheduled revocation before it takes effect; returns the license id."""
        now = self.clock()
        record = self.registry.get(license_id, now)
        revocation = record.revocation
        if revocation is None:
            raise OperationRefused(f"license {record.license_id} has no revocation to cancel")
        if revocation.effective_at <= now:
            raise OperationRefused(
                f"license {record.license_id} was revoked on {format_ts(revocation.effective_at)}:"
                " a revocation in effect is final (it may already be in published lists)"
            )
        actor = self.vault.whoami()
        self.vault.require_signing("cancel revocations")
        with self.registry.write():
            if not self.registry.cancel_revocation(record.license_id, now):
                raise OperationRefused(f"license {record.license_id}: the revocation took effect")
            details = {"cancelled": format_ts(revocation.effective_at), "reason": revocation.reason}
            audit.record("revoke-cancel", actor, record.license_id, details, now)
        audit_chain.checkpoint_if_due(self.vault)
        return record.license_id

    # -- list ----------------------------------------------------------------------------------

    def list(self, query: ListQuery) -> ListResult:
        return self.registry.query(query, self.clock())

    def get(self, license_id: str) -> LicenseRecord:
        return self.registry.get(license_id, self.clock())

    # -- batch ---------------------------------------------------------------------------------

    def batch_issue(
        self,
        entries: Sequence[BatchEntry],
        progress: Progress | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> BatchResult:
        """Issue every valid row; bad rows are reported and nothing is written for them.

        Rows are signed in chunks (one Transit batch each) and each chunk is written in one
        transaction, so an interruption leaves whole licenses only, and says which rows were
        not issued.
        """
        result = BatchResult()
        now = self.clock()
        requests: list[tuple[int, LicenseRequest]] = []
        for entry in entries:
            try:
                requests.append((entry.row, check_entry(entry, now)))
            except LicenseConsoleError as exc:
                customer = entry.customer if isinstance(entry.customer, str) else None
                result.errors.append(
                    BatchError(row=entry.row, error=exc.message, customer=customer)
                )
        if not requests:
            return result
        key, scheme = self._signing_key()
        actor = self.vault.whoami()
        done = 0
        for start in range(0, len(requests), BATCH_CHUNK):
            chunk = requests[start : start + BATCH_CHUNK]
            if cancelled is not None and cancelled():
                not_issued(result, requests[start:], "cancelled before it was issued")
                result.aborted = "cancelled"
                break
            try:
                self._issue_chunk(chunk, key, scheme, actor, result)
            except VaultError as exc:
                not_issued(result, requests[start:], f"not issued: {exc.message}")
                result.aborted = exc.message
                break
            done += len(chunk)
            if progress is not None:
                progress(done, len(requests))
        result.errors.sort(key=lambda e: e.row)
        self._audit_batch(result, actor)
        audit_chain.checkpoint_if_due(self.vault)
        return result

    def _issue_chunk(
        self,
        chunk: Sequence[tuple[int, LicenseRequest]],
        key: KeyInfo,
        scheme: SigningScheme,
        actor: str,
        result: BatchResult,
    ) -> None:
        drafts = [self._draft(request, key, scheme, None) for _, request in chunk]
        self._sign(drafts, key, scheme)
        now = self.clock()
        with self.registry.write():
            for draft in drafts:
                self.registry.add_license(draft.document())
                audit.record("issue", actor, draft.license_id, _summary(draft), now)
        result.issued.extend(d.document() for d in drafts)

    def _audit_batch(self, result: BatchResult, actor: str) -> None:
        details = {
            "issued": len(result.issued),
            "rejected": len(result.errors),
            "aborted": result.aborted,
        }
        with self.registry.write():
            audit.record("batch", actor, None, details, self.clock())


def _summary(license_: License) -> dict[str, Any]:
    return {
        "customer": license_.customer,
        "modules": license_.modules,
        "expires_at": license_.expires_at,
        "key_version": license_.key_version,
    }


def _registry_state(
    record: LicenseRecord | None,
    license_: License,
    reasons: list[str],
    warnings: list[str],
    now: datetime,
) -> tuple[bool, bool]:
    """Fold the registry's view into reasons (invalid) and warnings (still valid)."""
    if record is None:
        warnings.append("not in this console's registry: its revocation state is unknown")
        return False, False
    if record.document.get("signature") != license_.signature:
        reasons.append("differs from the copy in the registry")
    revoked = False
    if record.revocation is not None:
        when = format_ts(record.revocation.effective_at)
        if record.revocation.effective_at <= now:
            revoked = True
            reasons.append(f"revoked on {when}: {record.revocation.reason}")
        else:
            warnings.append(f"scheduled for revocation on {when}: {record.revocation.reason}")
    superseded = bool(record.superseded_by)
    if superseded:
        warnings.append(f"superseded by renewal {record.superseded_by}")
    return revoked, superseded


def _explain_verify_error(error: str | None, version: int, key: KeyInfo) -> str:
    if not error:
        return "signature does not match: the license was altered or signed by another key"
    if "too old" in error:
        return (
            f"key version {version} has been retired (minimum is now "
            f"v{key.min_decryption_version}): the license must be re-issued"
        )
    if "too new" in error:
        return f"signature names key version {version}, which the key does not have"
    return f"signature rejected by Vault: {error}"


def read_license_file(path: Path) -> dict[str, Any]:
    return load_document(read_text(path, "license file"), str(path))


def write_license_file(path: Path, license_: License) -> None:
    """Write a `.lic` file atomically: a reader never sees half a license."""
    write_text_atomic(path, json.dumps(license_.document(), indent=2, ensure_ascii=False) + "\n")

"""Tamper evidence for the audit trail: signed checkpoints and a verifier for the whole chain.

The hash chain (audit.py) alone proves little: anyone who can write the database can also
recompute every hash after an edit. What they cannot do is sign. A checkpoint is the chain
head (event id and hash) signed through Transit; once an event is covered by a checkpoint,
editing, deleting, inserting or reordering anything up to it shows, whatever hashes were
recomputed. Events after the last checkpoint are protected only by the plain chain, so a
truncated tail there goes unnoticed: that is why checkpoints are also taken on demand.

A checkpoint is signed like a license (JCS of every member but `signature`), so an auditor
can also check checkpoints offline with `verify.signature_problem` and the exported key ring.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import peewee as pw
from pydantic import BaseModel, Field

from license_console.audit import GENESIS, event_hash
from license_console.errors import LicenseConsoleError, OperationRefused, VaultError
from license_console.licenses import canonical_bytes, format_ts, signature_version, utcnow
from license_console.registry import AuditCheckpoint, AuditEvent, from_db_time, to_db_time
from license_console.vault import VaultService, scheme_for_alg, scheme_for_key_type
from license_console.verify import ANY_KEY, KeyRing, signature_problem

CHECKPOINT_TYPE = "audit-checkpoint"


class CheckpointRecord(BaseModel):
    """One signed chain head; `document()` is what was signed (plus the signature)."""

    id: int
    event_id: int
    hash: str
    at: datetime
    key_name: str
    key_version: int
    alg: str
    signature: str

    def document(self) -> dict[str, Any]:
        return {
            "type": CHECKPOINT_TYPE,
            "event_id": self.event_id,
            "hash": self.hash,
            "at": format_ts(self.at),
            "key_name": self.key_name,
            "key_version": self.key_version,
            "alg": self.alg,
            "signature": self.signature,
        }


class ChainVerdict(BaseModel):
    """What `audit verify` and the TUI's audit screen report."""

    intact: bool
    events: int = 0
    checkpoints: int = 0
    checkpoints_checked: int = 0  # checkpoints whose hash was compared with the chain
    signatures_verified: bool = False  # every compared checkpoint's signature was checked
    last_checkpoint_event: int | None = None
    unsigned_events: int = 0  # events after the last checkpoint: only the plain chain guards them
    first_bad_event: int | None = None
    bad_checkpoint: int | None = None
    problem: str | None = None
    notes: list[str] = Field(default_factory=list)


def _to_record(row: AuditCheckpoint, default_key: str) -> CheckpointRecord:
    return CheckpointRecord(
        id=row.id,
        event_id=row.event_id,
        hash=row.hash,
        at=from_db_time(row.at),
        key_name=row.key_name or default_key,
        key_version=row.key_version,
        alg=row.alg,
        signature=row.signature,
    )


def list_checkpoints(default_key: str) -> list[CheckpointRecord]:
    rows = AuditCheckpoint.select().order_by(AuditCheckpoint.event_id, AuditCheckpoint.id)
    return [_to_record(row, default_key) for row in rows]


# -- walking the chain -------------------------------------------------------------------------


@dataclass
class _Walk:
    events: int = 0
    last_id: int = 0
    last_hash: str = GENESIS
    hashes: dict[int, str] = field(default_factory=dict)
    first_bad: int | None = None
    problem: str | None = None


def _rows_after(event_id: int) -> Iterator[AuditEvent]:
    query = AuditEvent.select().where(AuditEvent.id > event_id).order_by(AuditEvent.id)
    return iter(query.iterator())


def _walk(after_id: int, prev_hash: str, keep: set[int]) -> _Walk:
    """Recompute every event after `after_id`; stop at the first that does not fit."""
    walk = _Walk(last_id=after_id, last_hash=prev_hash)
    for row in _rows_after(after_id):
        expected = walk.last_id + 1
        if row.id != expected:
            gap = f"{expected}" if row.id == expected + 1 else f"{expected}-{row.id - 1}"
            walk.first_bad = expected
            walk.problem = (
                f"event {gap} missing: the trail jumps from event {expected - 1} to {row.id} "
                "(deleted)"
            )
            return walk
        try:
            computed = event_hash(
                row.id,
                from_db_time(row.at),
                row.action,
                row.license_id,
                row.actor,
                json.loads(row.details),
                row.prev_hash,
            )
        except (TypeError, ValueError) as exc:
            walk.first_bad, walk.problem = row.id, f"event {row.id} is unreadable (edited): {exc}"
            return walk
        if row.prev_hash != prev_hash:
            walk.first_bad = row.id
            walk.problem = (
                f"event {row.id} does not follow event {row.id - 1}: its prev_hash differs "
                "(an event was inserted, deleted or reordered before it)"
            )
            return walk
        if computed != row.hash:
            walk.first_bad = row.id
            walk.problem = (
                f"event {row.id} does not match its hash: it was edited or moved from "
                "another position"
            )
            return walk
        if row.id in keep:
            walk.hashes[row.id] = computed
        prev_hash = row.hash
        walk.last_id, walk.last_hash = row.id, row.hash
        walk.events += 1
    return walk


# -- checkpoints ---------------------------------------------------------------------------------


def _latest_checkpoint() -> AuditCheckpoint | None:
    order = (AuditCheckpoint.event_id.desc(), AuditCheckpoint.id.desc())
    return AuditCheckpoint.select().order_by(*order).first()


def checkpoint(vault: VaultService, now: datetime | None = None) -> tuple[CheckpointRecord, bool]:
    """Sign the chain head and store it; returns (checkpoint, created).

    Refuses to sign a chain that is already broken since the last checkpoint: a signature
    over tampered events would launder them. Call with the registry open (models bound).
    """
    default_key = vault.settings.key_name
    head = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    if head is None:
        raise OperationRefused("the audit trail is empty: there is nothing to checkpoint")
    last = _latest_checkpoint()
    start_id, start_hash = 0, GENESIS
    if last is not None:
        stored = AuditEvent.get_or_none(AuditEvent.id == last.event_id)
        if stored is None or stored.hash != last.hash:
            raise OperationRefused(
                f"event {last.event_id} no longer matches checkpoint #{last.id}: run "
                "`license-console audit verify`; nothing was signed"
            )
        if last.event_id == head.id:
            return _to_record(last, default_key), False
        start_id, start_hash = last.event_id, last.hash
    walk = _walk(start_id, start_hash, set())
    if walk.problem:
        raise OperationRefused(
            f"the audit chain is broken ({walk.problem}): nothing was signed; "
            "run `license-console audit verify`"
        )
    key = vault.read_key()
    if not key.supports_signing:
        raise OperationRefused(f"key {key.name!r} is a {key.type} key and cannot sign")
    scheme = scheme_for_key_type(key.type, vault.settings.rsa_padding)
    at = now or utcnow()
    record = CheckpointRecord(
        id=0,
        event_id=walk.last_id,
        hash=walk.last_hash,
        at=at,
        key_name=key.name,
        key_version=key.latest_version,
        alg=scheme.alg,
        signature="",
    )
    signature = vault.sign([canonical_bytes(record.document())], key.latest_version, scheme)[0]
    if signature_version(signature) != key.latest_version:
        raise VaultError(f"Vault signed with another version than the pinned v{key.latest_version}")
    record.signature = signature
    record.id = AuditCheckpoint.insert(
        event_id=record.event_id,
        hash=record.hash,
        at=to_db_time(at),
        key_name=record.key_name,
        key_version=record.key_version,
        alg=record.alg,
        signature=record.signature,
    ).execute()
    return record, True


def unsigned_events() -> int:
    """Events written after the last checkpoint (two cheap aggregate queries)."""
    head = AuditEvent.select(pw.fn.MAX(AuditEvent.id)).scalar() or 0
    covered = AuditCheckpoint.select(pw.fn.MAX(AuditCheckpoint.event_id)).scalar() or 0
    return max(0, int(head) - int(covered))


def checkpoint_if_due(vault: VaultService) -> CheckpointRecord | None:
    """The automatic checkpoint, run after an operation completes (never per row).

    A failure here must not fail the operation that already succeeded (a support token
    validating a license cannot sign, a Vault may have just gone away): the next operation
    tries again, and `audit verify` reports how many events are still unsigned.
    """
    every = vault.settings.audit_checkpoint_every
    if every <= 0 or unsigned_events() < every:
        return None
    try:
        return checkpoint(vault)[0]
    except LicenseConsoleError:
        return None


# -- verification --------------------------------------------------------------------------------


def _signature_failures(
    records: list[CheckpointRecord], vault: VaultService | None, keys: KeyRing | None
) -> tuple[list[CheckpointRecord], str | None]:
    """Checkpoints whose signature fails, and why signatures could not be checked (if so)."""
    if keys is not None:
        # A key file without the version a checkpoint names cannot judge it: that is "not
        # verified", never "forged".
        known = [r for r in records if (r.key_name, r.key_version) in keys or ANY_KEY in keys]
        forged = [r for r in known if signature_problem(r.document(), keys, "checkpoint")]
        unknown = sorted({f"{r.key_name} v{r.key_version}" for r in records if r not in known})
        if unknown:
            return forged, (
                f"{len(records) - len(known)} checkpoint signature(s) not verified: the key "
                f"file has no key for {', '.join(unknown)} (export the keys again)"
            )
        return forged, None
    if vault is None:
        return [], "checkpoint signatures were not verified (no Vault connection)"
    failed: list[CheckpointRecord] = []
    groups: dict[tuple[str, str], list[CheckpointRecord]] = {}
    for record in records:
        groups.setdefault((record.key_name, record.alg), []).append(record)
    try:
        for (key_name, alg), group in groups.items():
            service = vault
            if key_name != vault.settings.key_name:
                other = vault.settings.model_copy(update={"key_name": key_name})
                service = VaultService(other, vault.client.token)
            items = [(canonical_bytes(r.document()), r.signature) for r in group]
            outcomes = service.verify(items, scheme_for_alg(alg))
            failed.extend(r for r, o in zip(group, outcomes, strict=True) if not o.valid)
    except LicenseConsoleError as exc:
        return [], f"checkpoint signatures were not verified: {exc.message}"
    return failed, None


def verify_chain(vault: VaultService | None = None, keys: KeyRing | None = None) -> ChainVerdict:
    """Walk every event in id order and every checkpoint; the TUI's audit screen calls this.

    Recomputes each hash, checks prev_hash links and that ids run 1, 2, 3... without gaps,
    compares every checkpoint with the event it names, and checks checkpoint signatures with
    Transit (`vault`) or offline with an exported key ring (`keys`); with neither, or when
    Vault cannot be asked, the verdict says the signatures were not verified.
    Needs the registry open (the services open it).
    """
    default_key = vault.settings.key_name if vault is not None else ""
    records = list_checkpoints(default_key)
    walk = _walk(0, GENESIS, {r.event_id for r in records})
    verdict = ChainVerdict(intact=True, events=walk.events, checkpoints=len(records))
    problems: list[tuple[int, str, int | None]] = []  # (event id, problem, checkpoint id)
    if walk.problem and walk.first_bad is not None:
        problems.append((walk.first_bad, walk.problem, None))
    compared: list[CheckpointRecord] = []
    covered = 0
    for record in records:
        if walk.first_bad is not None and record.event_id >= walk.first_bad:
            continue  # the chain is already broken before this point
        if record.event_id > walk.last_id:
            first = walk.last_id + 1
            problems.append(
                (
                    first,
                    f"checkpoint #{record.id} ({format_ts(record.at)}) signed event "
                    f"{record.event_id}, but the trail ends at event {walk.last_id}: "
                    f"events {first}-{record.event_id} were deleted",
                    record.id,
                )
            )
            continue
        if walk.hashes.get(record.event_id) != record.hash:
            problems.append(
                (
                    covered + 1,
                    f"events {covered + 1}-{record.event_id} were rewritten: event "
                    f"{record.event_id} no longer has the hash checkpoint #{record.id} signed",
                    record.id,
                )
            )
            continue
        compared.append(record)
        covered = max(covered, record.event_id)
    failed, not_verified = _signature_failures(compared, vault, keys)
    for record in failed:
        problems.append(
            (
                record.event_id,
                f"checkpoint #{record.id} (event {record.event_id}) has a signature that does "
                "not verify: it was forged or edited",
                record.id,
            )
        )
    verdict.checkpoints_checked = len(compared)
    verdict.signatures_verified = not_verified is None and bool(compared)
    if not_verified and compared:
        verdict.notes.append(not_verified)
    verdict.last_checkpoint_event = max((r.event_id for r in records), default=None)
    verdict.unsigned_events = walk.last_id - covered if not problems else 0
    if verdict.unsigned_events:
        verdict.notes.append(
            f"{verdict.unsigned_events} event(s) after the last checkpoint are protected only by "
            "the hash chain: `license-console audit checkpoint` signs them"
        )
    if problems:
        event_id, problem, checkpoint_id = min(problems, key=lambda p: p[0])
        verdict.intact = False
        verdict.first_bad_event = event_id
        verdict.problem = problem
        verdict.bad_checkpoint = checkpoint_id
    return verdict

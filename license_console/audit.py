"""The audit trail: every operation leaves an event, chained by hash so edits show.

Each event stores the hash of the one before it; the hash covers a canonical (RFC 8785)
encoding of the event, its id and the previous hash, so editing, deleting, inserting or
reordering rows breaks the chain from that point on.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import rfc8785
from pydantic import BaseModel

from license_console.licenses import format_ts, utcnow
from license_console.registry import AuditEvent, from_db_time, to_db_time

GENESIS = "0" * 64
# Every action an event can name, for filters (the TUI's audit screen, `audit --action`).
ACTIONS = (
    "issue",
    "renew",
    "supersede",
    "revoke",
    "revoke-cancel",
    "validate",
    "batch",
    "key-create",
    "key-rotate",
    "revocations-export",
)


class AuditRecord(BaseModel):
    id: int
    at: datetime
    action: str
    license_id: str | None
    actor: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


def event_hash(
    event_id: int,
    at: datetime,
    action: str,
    license_id: str | None,
    actor: str,
    details: dict[str, Any],
    prev_hash: str,
) -> str:
    payload: dict[str, Any] = {
        "id": event_id,
        "at": format_ts(at),
        "action": action,
        "license_id": license_id,
        "actor": actor,
        "details": details,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(rfc8785.dumps(payload)).hexdigest()


def record(
    action: str,
    actor: str,
    license_id: str | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditRecord:
    """Append one event; call inside Registry.write() so it lands with the change it records."""
    at = at or utcnow()
    details = details or {}
    last = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    prev_hash = last.hash if last is not None else GENESIS
    event_id = (last.id if last is not None else 0) + 1
    digest = event_hash(event_id, at, action, license_id, actor, details, prev_hash)
    AuditEvent.insert(
        id=event_id,
        at=to_db_time(at),
        action=action,
        license_id=license_id,
        actor=actor,
        details=json.dumps(details, ensure_ascii=False, sort_keys=True),
        prev_hash=prev_hash,
        hash=digest,
    ).execute()
    return AuditRecord(
        id=event_id,
        at=at,
        action=action,
        license_id=license_id,
        actor=actor,
        details=details,
        prev_hash=prev_hash,
        hash=digest,
    )


def to_record(row: AuditEvent) -> AuditRecord:
    return AuditRecord(
        id=row.id,
        at=from_db_time(row.at),
        action=row.action,
        license_id=row.license_id,
        actor=row.actor,
        details=json.loads(row.details),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def list_events(
    license_id: str | None = None,
    action: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AuditRecord], int]:
    """Newest first, with the total count of matches for paging."""
    query = AuditEvent.select()
    if license_id:  # a full id, or the 6+ character prefix people quote (ids are upper case)
        license_id = license_id.strip().upper()
        if len(license_id) >= 6:
            query = query.where(AuditEvent.license_id.startswith(license_id))
        else:
            query = query.where(AuditEvent.license_id == license_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if actor:
        query = query.where(AuditEvent.actor.contains(actor))
    if since:
        query = query.where(AuditEvent.at >= to_db_time(since))
    if until:
        query = query.where(AuditEvent.at <= to_db_time(until))
    total = query.count()
    rows = query.order_by(AuditEvent.id.desc()).limit(limit).offset(offset)
    return [to_record(r) for r in rows], total

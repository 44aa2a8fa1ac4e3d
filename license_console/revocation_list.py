"""Signed revocation lists: what offline verifiers need to refuse a revoked license.

The list is a JSON document signed through Transit exactly like a license (JCS of every member
but `signature`), so `verify.load_revocation_list` checks it with the same key ring before it
trusts a single entry. `next_update` tells verifiers when to fetch a fresh one.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from license_console import audit
from license_console.errors import InvalidInput, OperationRefused, VaultError
from license_console.licenses import canonical_bytes, format_ts, signature_version, utcnow
from license_console.public_keys import key_ring_entries
from license_console.registry import Registry, Revocation, from_db_time
from license_console.vault import VaultService, scheme_for_key_type
from license_console.verify import RevocationListError, load_revocation_list

LIST_TYPE = "license-console-revocations"
MAX_VALID_DAYS = 366


class RevocationExport(BaseModel):
    out: str
    count: int
    key_name: str
    key_version: int
    issued_at: str
    next_update: str


def revocation_entries(registry: Registry) -> list[dict[str, str]]:
    """Every recorded revocation, scheduled ones included (verifiers honour `effective_at`)."""
    _ = registry  # the models are bound to the registry's database when it opens
    rows = Revocation.select().order_by(Revocation.effective_at, Revocation.license)
    return [
        {
            "license_id": row.license_id,  # type: ignore[attr-defined]  # the FK's raw column
            "effective_at": format_ts(from_db_time(row.effective_at)),
            "reason": row.reason,
        }
        for row in rows
    ]


def build_revocation_list(
    vault: VaultService,
    registry: Registry,
    valid_days: int = 7,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Sign the registry's revocations with the latest key version and self-check the result."""
    if not 1 <= valid_days <= MAX_VALID_DAYS:
        raise InvalidInput(f"--valid-days must be between 1 and {MAX_VALID_DAYS}")
    now = now or utcnow()
    key = vault.read_key()
    if not key.supports_signing:
        raise OperationRefused(f"key {key.name!r} is a {key.type} key and cannot sign")
    scheme = scheme_for_key_type(key.type, vault.settings.rsa_padding)
    document: dict[str, Any] = {
        "type": LIST_TYPE,
        "key_name": key.name,
        "key_version": key.latest_version,
        "alg": scheme.alg,
        "issued_at": format_ts(now),
        "next_update": format_ts(now + timedelta(days=valid_days)),
        "revocations": revocation_entries(registry),
    }
    signature = vault.sign([canonical_bytes(document)], key.latest_version, scheme)[0]
    if signature_version(signature) != key.latest_version:
        raise VaultError(f"Vault signed with another version than the pinned v{key.latest_version}")
    document["signature"] = signature
    try:  # what we publish must pass the very check customers run
        load_revocation_list(document, {(e.key_name, e.version): e for e in key_ring_entries(key)})
    except RevocationListError as exc:
        raise VaultError(f"the signed revocation list does not verify: {exc}") from exc
    return document


def export_revocations(
    vault: VaultService,
    registry: Registry,
    out: Path,
    valid_days: int = 7,
    now: datetime | None = None,
) -> RevocationExport:
    """Write a signed revocation list to `out` (atomically) and record it in the audit trail."""
    document = build_revocation_list(vault, registry, valid_days, now)
    path = out.expanduser()
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc}") from exc
    result = RevocationExport(
        out=str(path),
        count=len(document["revocations"]),
        key_name=document["key_name"],
        key_version=document["key_version"],
        issued_at=document["issued_at"],
        next_update=document["next_update"],
    )
    details = result.model_dump(exclude={"key_name"})
    with registry.write():
        audit.record("revocations-export", vault.whoami(), None, details, now)
    return result

"""Batch rows: reading CSV (`customer,modules,expires_at,metadata`) or JSON (`{"licenses": []}`)
files, checking each row, and the shape of a batch's result.

Rows are numbered from 1 in the order they appear (the CSV header is not a row), and a row
that cannot even be read becomes an error for that row rather than failing the file.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from license_console.errors import InvalidInput
from license_console.files import read_text
from license_console.licenses import LicenseRequest

CSV_COLUMNS = ("customer", "modules", "expires_at", "metadata")
MAX_ROWS = 100_000


class BatchEntry(BaseModel):
    """One row of a batch file, as read; checked only when issued."""

    row: int
    customer: Any = None
    modules: Any = None
    expires_at: Any = None
    metadata: Any = None


class BatchError(BaseModel):
    row: int
    error: str
    customer: str | None = None  # when the row had one, so people can find it in the file


class BatchResult(BaseModel):
    issued: list[dict[str, Any]] = Field(default_factory=list)
    errors: list[BatchError] = Field(default_factory=list)
    aborted: str | None = None  # set when Vault failed part-way; the rest was not issued


def check_entry(entry: BatchEntry, now: datetime) -> LicenseRequest:
    """A batch row as a request, or InvalidInput saying what is wrong with it (for previews)."""
    modules = entry.modules
    if isinstance(modules, str):
        modules = [m for m in (part.strip() for part in modules.split(";")) if m]
    if not isinstance(modules, list):
        raise InvalidInput("modules must be a list (or `a;b;c` in CSV)")
    metadata = entry.metadata if entry.metadata not in (None, "") else {}
    if not isinstance(metadata, dict):
        raise InvalidInput("metadata must be a JSON object")
    if entry.expires_at in (None, ""):
        raise InvalidInput("expires_at is required (YYYY-MM-DD)")
    if not isinstance(entry.expires_at, str):
        raise InvalidInput(
            f"expires_at must be a date string like 2031-12-31, not {entry.expires_at!r}"
        )
    return LicenseRequest.build(entry.customer, modules, entry.expires_at, metadata, now=now)


def not_issued(
    result: BatchResult, remaining: Sequence[tuple[int, LicenseRequest]], why: str
) -> None:
    result.errors.extend(
        BatchError(row=row, error=why, customer=request.customer) for row, request in remaining
    )


def read_batch_file(path: Path) -> tuple[list[BatchEntry], list[BatchError]]:
    return parse_batch(read_text(path, "batch file", encoding="utf-8-sig"), path.name)


def parse_batch(text: str, name: str = "batch") -> tuple[list[BatchEntry], list[BatchError]]:
    """Pick the format by content: a JSON document starts with `{` or `[`."""
    if text.lstrip()[:1] in ("{", "["):
        entries, errors = _parse_json(text, name)
    else:
        entries, errors = _parse_csv(text, name)
    if len(entries) + len(errors) > MAX_ROWS:
        raise InvalidInput(f"{name}: more than {MAX_ROWS} rows; split the file")
    if not entries and not errors:
        raise InvalidInput(f"{name}: no rows to issue")
    return entries, errors


def _parse_json(text: str, name: str) -> tuple[list[BatchEntry], list[BatchError]]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"{name} is not valid JSON: {exc}") from exc
    rows = value.get("licenses") if isinstance(value, dict) else value
    if not isinstance(rows, list):
        raise InvalidInput(f'{name}: expected {{"licenses": [...]}}')
    entries: list[BatchEntry] = []
    errors: list[BatchError] = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            errors.append(BatchError(row=number, error="row is not a JSON object"))
            continue
        entries.append(_entry(number, row))
    return entries, errors


def _parse_csv(text: str, name: str) -> tuple[list[BatchEntry], list[BatchError]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS[:3] if c not in header]
    if missing:
        raise InvalidInput(
            f"{name}: the CSV header must be {','.join(CSV_COLUMNS)} (missing {', '.join(missing)})"
        )
    reader.fieldnames = header
    entries: list[BatchEntry] = []
    errors: list[BatchError] = []
    for number, row in enumerate(reader, start=1):
        if None in row:
            customer = row.get("customer")
            errors.append(
                BatchError(row=number, error="more fields than the header has", customer=customer)
            )
            continue
        try:
            metadata = _csv_metadata(row.get("metadata"))
        except InvalidInput as exc:
            errors.append(BatchError(row=number, error=exc.message, customer=row.get("customer")))
            continue
        entries.append(_entry(number, {**row, "metadata": metadata}))
    return entries, errors


def _csv_metadata(raw: str | None) -> Any:
    if raw is None or not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise InvalidInput(f"metadata is not a JSON object: {exc}") from exc


def _entry(number: int, row: dict[str, Any]) -> BatchEntry:
    return BatchEntry(
        row=number,
        customer=row.get("customer"),
        modules=row.get("modules"),
        expires_at=row.get("expires_at"),
        metadata=row.get("metadata"),
    )

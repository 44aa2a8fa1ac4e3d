"""The license registry: Peewee models, the database connection and the queries.

SQLite by default (WAL, a busy timeout, so the TUI's workers and a CLI in another terminal can
share it); any database URL Peewee understands (postgresql://...) works through the same models.
Times are stored as naive UTC. The status of a license is computed in SQL from its revocation,
its successor and its expiry, so that filtering and paging 100,000 licenses stays in the database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import peewee as pw
from playhouse.db_url import connect
from pydantic import BaseModel, Field

from license_console.errors import InvalidInput, LicenseConsoleError, NotFound

SCHEMA_VERSION = 1
Status = Literal["active", "expired", "revoked", "superseded"]
STATUSES: tuple[str, ...] = ("active", "expired", "revoked", "superseded")
SORT_FIELDS = ("issued_at", "expires_at", "customer", "license_id")


class _Model(pw.Model):
    class Meta:
        legacy_table_names = False


class LicenseRow(_Model):
    license_id = pw.CharField(primary_key=True, max_length=64)
    customer = pw.TextField(index=True)
    customer_key = pw.TextField(index=True)  # casefolded, for case-insensitive search
    modules = pw.TextField()  # JSON list, sorted
    issued_at = pw.DateTimeField(index=True)
    expires_at = pw.DateTimeField(index=True)
    key_name = pw.CharField(max_length=128)
    key_version = pw.IntegerField()
    alg = pw.CharField(max_length=64)
    renewed_from = pw.CharField(max_length=64, null=True, index=True)
    superseded_by = pw.CharField(max_length=64, null=True, index=True)
    document = pw.TextField()  # the license JSON exactly as issued

    class Meta:
        table_name = "licenses"


class LicenseModule(_Model):
    license = pw.ForeignKeyField(LicenseRow, on_delete="CASCADE", backref="module_rows")
    module = pw.CharField(max_length=64, index=True)

    class Meta:
        table_name = "license_modules"
        primary_key = pw.CompositeKey("license", "module")


class Revocation(_Model):
    license = pw.ForeignKeyField(LicenseRow, unique=True, on_delete="CASCADE")
    reason = pw.TextField()
    effective_at = pw.DateTimeField(index=True)
    recorded_at = pw.DateTimeField()
    actor = pw.TextField()

    class Meta:
        table_name = "revocations"


class AuditEvent(_Model):
    id = pw.AutoField()
    at = pw.DateTimeField(index=True)
    action = pw.CharField(max_length=32, index=True)
    license_id = pw.CharField(max_length=64, null=True, index=True)
    actor = pw.TextField()
    details = pw.TextField()  # JSON object
    prev_hash = pw.CharField(max_length=64)
    hash = pw.CharField(max_length=64)

    class Meta:
        table_name = "audit_events"


class AuditCheckpoint(_Model):
    """A signed audit-chain head (see audit.py): evidence that the chain up to `event_id` held."""

    id = pw.AutoField()
    event_id = pw.IntegerField(index=True)
    hash = pw.CharField(max_length=64)
    at = pw.DateTimeField()
    key_name = pw.CharField(max_length=128, null=True)  # null: the console's configured key
    key_version = pw.IntegerField()
    alg = pw.CharField(max_length=64)
    signature = pw.TextField()

    class Meta:
        table_name = "audit_checkpoints"


class SchemaInfo(_Model):
    key = pw.CharField(primary_key=True, max_length=64)
    value = pw.TextField()

    class Meta:
        table_name = "schema_info"


MODELS: list[type[pw.Model]] = [
    SchemaInfo,
    LicenseRow,
    LicenseModule,
    Revocation,
    AuditEvent,
    AuditCheckpoint,
]


def to_db_time(moment: datetime) -> datetime:
    """Naive UTC, the one form every backend stores and compares the same way."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def from_db_time(moment: datetime | str) -> datetime:
    if isinstance(moment, str):  # SQLite hands back text when a value was written as text
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC)


class RevocationInfo(BaseModel):
    reason: str
    effective_at: datetime
    recorded_at: datetime
    actor: str


class LicenseRecord(BaseModel):
    """One registry row as the front ends see it, with its status computed for `now`."""

    license_id: str
    customer: str
    modules: list[str]
    issued_at: datetime
    expires_at: datetime
    key_name: str
    key_version: int
    alg: str
    renewed_from: str | None = None
    superseded_by: str | None = None
    status: Status
    revocation: RevocationInfo | None = None
    document: dict[str, Any]


class ListQuery(BaseModel):
    """Filters of `list` and of the TUI's license table; all optional, all combined."""

    customer: str | None = None  # case-insensitive substring
    customer_exact: str | None = None  # one customer, as written (the customer view)
    search: str | None = None  # customer substring or license id prefix
    status: Status | None = None
    module: str | None = None
    expiring_within: int | None = Field(None, ge=0)
    limit: int = Field(50, ge=1, le=10_000)
    offset: int = Field(0, ge=0)
    sort: Literal["issued_at", "expires_at", "customer", "license_id"] = "issued_at"
    descending: bool = True


class ListResult(BaseModel):
    licenses: list[LicenseRecord]
    total: int


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _contains(field: pw.Field, text: str) -> pw.Expression:
    return pw.Expression(
        field, pw.OP.ILIKE, pw.NodeList((_like_pattern(text), pw.SQL("ESCAPE '\\'")))
    )


def _starts(field: pw.Field, text: str) -> pw.Expression:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return pw.Expression(field, pw.OP.ILIKE, pw.NodeList((f"{escaped}%", pw.SQL("ESCAPE '\\'"))))


def open_database(location: str, create_dirs: bool = False) -> pw.Database:
    """A path means SQLite; anything with `://` is a Peewee database URL.

    Only the default location gets its directories created: a mistyped --db must fail, not
    quietly start an empty registry somewhere new.
    """
    if "://" in location:
        try:
            return connect(location)
        except (RuntimeError, ValueError, ImportError, pw.ImproperlyConfigured) as exc:
            hint = " (pip install 'license-console[postgres]')" if "postgres" in location else ""
            raise InvalidInput(f"cannot use database {location!r}: {exc}{hint}") from exc
    path = Path(location).expanduser()
    if create_dirs:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.parent.is_dir():
        raise InvalidInput(f"cannot use registry {location!r}: {path.parent} is not a directory")
    if path.is_dir():
        raise InvalidInput(f"cannot use registry {location!r}: it is a directory")
    return pw.SqliteDatabase(
        str(path),
        pragmas={"journal_mode": "wal", "busy_timeout": 10_000, "foreign_keys": 1},
        check_same_thread=False,
    )


class Registry:
    """The database and every query on it; no Vault, no Textual."""

    def __init__(self, location: str, create_dirs: bool = False) -> None:
        self.location = location
        self.db = open_database(location, create_dirs)
        try:
            self.db.bind(MODELS, bind_refs=False, bind_backrefs=False)
            self.db.connect(reuse_if_open=True)
            self._migrate()
        except (pw.PeeweeException, OSError) as exc:
            self.db.close()
            raise LicenseConsoleError(f"cannot open the registry {location!r}: {exc}") from exc

    def close(self) -> None:
        if not self.db.is_closed():
            self.db.close()

    def _migrate(self) -> None:
        with self.db.atomic():
            self.db.create_tables(MODELS, safe=True)
            columns = {c.name for c in self.db.get_columns("audit_checkpoints")}
            if "key_name" not in columns:  # registries created before checkpoints were signed
                self.db.execute_sql(
                    "ALTER TABLE audit_checkpoints ADD COLUMN key_name VARCHAR(128)"
                )
            row = SchemaInfo.get_or_none(SchemaInfo.key == "schema_version")
            if row is None:
                SchemaInfo.create(key="schema_version", value=str(SCHEMA_VERSION))
            elif int(row.value) > SCHEMA_VERSION:
                raise LicenseConsoleError(
                    f"the registry {self.location!r} has schema version {row.value}, newer than "
                    f"this console ({SCHEMA_VERSION}); upgrade license-console"
                )

    @contextmanager
    def write(self) -> Iterator[None]:
        """One serialised write transaction: all of an operation lands, or none of it.

        SQLite takes the write lock up front (IMMEDIATE) so the audit chain's head cannot be
        read by two writers at once; PostgreSQL locks the audit table for the same reason.
        """
        if isinstance(self.db, pw.SqliteDatabase):
            with self.db.atomic("IMMEDIATE"):
                yield
            return
        with self.db.atomic():
            self.db.execute_sql("LOCK TABLE audit_events IN SHARE ROW EXCLUSIVE MODE")
            yield

    # -- writes --------------------------------------------------------------------------------

    def add_license(self, document: dict[str, Any]) -> None:
        """Insert an issued license and its modules; call inside `write()`."""
        LicenseRow.insert(
            license_id=document["license_id"],
            customer=document["customer"],
            customer_key=document["customer"].casefold(),
            modules=json.dumps(document["modules"]),
            issued_at=to_db_time(datetime.fromisoformat(document["issued_at"])),
            expires_at=to_db_time(datetime.fromisoformat(document["expires_at"])),
            key_name=document["key_name"],
            key_version=document["key_version"],
            alg=document["alg"],
            renewed_from=document.get("renewed_from"),
            document=json.dumps(document, ensure_ascii=False),
        ).execute()
        LicenseModule.insert_many(
            [{"license": document["license_id"], "module": m} for m in document["modules"]]
        ).execute()

    def mark_superseded(self, license_id: str, successor: str) -> bool:
        """Point a license at its renewal; False when another renewal got there first."""
        updated = (
            LicenseRow.update(superseded_by=successor)
            .where((LicenseRow.license_id == license_id) & LicenseRow.superseded_by.is_null())
            .execute()
        )
        return updated == 1

    def add_revocation(
        self, license_id: str, reason: str, effective_at: datetime, actor: str, now: datetime
    ) -> None:
        """Record a revocation; one that is only scheduled (not yet effective) is replaced."""
        Revocation.delete().where(
            (Revocation.license == license_id) & (Revocation.effective_at > to_db_time(now))
        ).execute()
        Revocation.insert(
            license=license_id,
            reason=reason,
            effective_at=to_db_time(effective_at),
            recorded_at=to_db_time(now),
            actor=actor,
        ).execute()

    def cancel_revocation(self, license_id: str, now: datetime) -> bool:
        """Withdraw a scheduled revocation; one already in effect stays (it may be published)."""
        deleted = (
            Revocation.delete()
            .where((Revocation.license == license_id) & (Revocation.effective_at > to_db_time(now)))
            .execute()
        )
        return deleted == 1

    # -- reads ---------------------------------------------------------------------------------

    def _base(self) -> pw.ModelSelect[LicenseRow]:
        return LicenseRow.select(LicenseRow, Revocation).join(
            Revocation, pw.JOIN.LEFT_OUTER, on=(Revocation.license == LicenseRow.license_id)
        )

    def get(self, license_id: str, now: datetime) -> LicenseRecord:
        """By full id, or by an unambiguous prefix of 6+ characters (the short ids people read)."""
        license_id = license_id.strip()
        row = self._base().where(LicenseRow.license_id == license_id).first()
        if row is None and len(license_id) >= 6:
            rows = list(self._base().where(_starts(LicenseRow.license_id, license_id)).limit(2))
            if len(rows) > 1:
                raise InvalidInput(f"license id prefix {license_id!r} is ambiguous")
            row = rows[0] if rows else None
        if row is None:
            hint = "" if len(license_id) >= 6 else " (a short id needs at least 6 characters)"
            raise NotFound(f"no license {license_id!r} in the registry{hint}")
        return _record(row, now)

    def find(self, license_id: str, now: datetime) -> LicenseRecord | None:
        row = self._base().where(LicenseRow.license_id == license_id).first()
        return _record(row, now) if row is not None else None

    def query(self, query: ListQuery, now: datetime) -> ListResult:
        select = self._base().where(*self._conditions(query, now))
        total = select.count()
        field = getattr(LicenseRow, query.sort)
        order = [field.desc() if query.descending else field.asc(), LicenseRow.license_id.desc()]
        rows = select.order_by(*order).limit(query.limit).offset(query.offset)
        return ListResult(licenses=[_record(r, now) for r in rows], total=total)

    def _conditions(self, query: ListQuery, now: datetime) -> list[pw.Node]:
        db_now = to_db_time(now)
        conditions: list[pw.Node] = [pw.SQL("1 = 1")]
        if query.customer:
            conditions.append(_contains(LicenseRow.customer_key, query.customer.casefold()))
        if query.customer_exact is not None:
            conditions.append(LicenseRow.customer == query.customer_exact)
        if query.search:
            text = query.search.strip()
            conditions.append(
                _contains(LicenseRow.customer_key, text.casefold())
                | _starts(LicenseRow.license_id, text.upper())
            )
        if query.module:
            has_module = LicenseModule.select(LicenseModule.license).where(
                LicenseModule.module == query.module
            )
            conditions.append(LicenseRow.license_id.in_(has_module))
        if query.status:
            conditions.append(status_condition(query.status, db_now))
        if query.expiring_within is not None:
            # Whole days, as they are shown: "7 days left" means less than 8 days from now.
            horizon = db_now + timedelta(days=query.expiring_within + 1)
            conditions.append(
                (LicenseRow.expires_at >= db_now)
                & (LicenseRow.expires_at < horizon)
                & _not_revoked(db_now)
                & LicenseRow.superseded_by.is_null()
            )
        return conditions

    def customers(self, prefix: str = "", limit: int = 20) -> list[str]:
        query = LicenseRow.select(LicenseRow.customer).distinct()
        if prefix:
            query = query.where(_contains(LicenseRow.customer_key, prefix.casefold()))
        return [r.customer for r in query.order_by(LicenseRow.customer).limit(limit)]

    def modules(self) -> list[str]:
        query = LicenseModule.select(LicenseModule.module).distinct()
        return [r.module for r in query.order_by(LicenseModule.module)]

    def status_counts(self, now: datetime) -> dict[str, int]:
        db_now = to_db_time(now)
        return {s: self._base().where(status_condition(s, db_now)).count() for s in STATUSES}


def _not_revoked(db_now: datetime) -> pw.Expression:
    return Revocation.effective_at.is_null() | (Revocation.effective_at > db_now)


def status_condition(status: str, db_now: datetime) -> pw.Expression:
    """SQL for one status; precedence revoked > superseded > expired > active."""
    revoked = Revocation.effective_at.is_null(False) & (Revocation.effective_at <= db_now)
    if status == "revoked":
        return revoked
    live = _not_revoked(db_now)
    if status == "superseded":
        return live & LicenseRow.superseded_by.is_null(False)
    current = live & LicenseRow.superseded_by.is_null()
    if status == "expired":
        return current & (LicenseRow.expires_at < db_now)
    if status == "active":
        return current & (LicenseRow.expires_at >= db_now)
    raise InvalidInput(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")


def compute_status(
    expires_at: datetime, superseded_by: str | None, revoked_at: datetime | None, now: datetime
) -> Status:
    if revoked_at is not None and revoked_at <= now:
        return "revoked"
    if superseded_by:
        return "superseded"
    if expires_at < now:
        return "expired"
    return "active"


def _record(row: LicenseRow, now: datetime) -> LicenseRecord:
    revocation = None
    rev = getattr(row, "revocation", None)
    if rev is not None and rev.effective_at is not None:
        revocation = RevocationInfo(
            reason=rev.reason,
            effective_at=from_db_time(rev.effective_at),
            recorded_at=from_db_time(rev.recorded_at),
            actor=rev.actor,
        )
    expires_at = from_db_time(row.expires_at)
    return LicenseRecord(
        license_id=row.license_id,
        customer=row.customer,
        modules=json.loads(row.modules),
        issued_at=from_db_time(row.issued_at),
        expires_at=expires_at,
        key_name=row.key_name,
        key_version=row.key_version,
        alg=row.alg,
        renewed_from=row.renewed_from,
        superseded_by=row.superseded_by,
        status=compute_status(
            expires_at, row.superseded_by, revocation.effective_at if revocation else None, now
        ),
        revocation=revocation,
        document=json.loads(row.document),
    )

"""One handler per CLI subcommand: parse arguments into service calls, render the result."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.text import Text

from license_console import audit, cli_trust, cli_vault
from license_console.batch_file import read_batch_file
from license_console.cli_output import Output
from license_console.config import Settings
from license_console.errors import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_VAULT,
    InvalidInput,
    LicenseConsoleError,
)
from license_console.files import check_writable
from license_console.licenses import (
    License,
    LicenseRequest,
    format_ts,
    parse_meta_pairs,
    parse_moment,
)
from license_console.offline import validate_offline
from license_console.operations import (
    BatchResult,
    ValidationResult,
    read_license_file,
    write_license_file,
)
from license_console.registry import LicenseRecord, ListQuery
from license_console.services import Services, build_services, resolve_token
from license_console.vault import VaultService

STATUS_STYLE = {"active": "green", "expired": "yellow", "revoked": "red", "superseded": "blue"}


class Context:
    """Settings, output and services built on first use (status needs no registry)."""

    def __init__(self, settings: Settings, output: Output) -> None:
        self.settings = settings
        self.output = output
        self._services: Services | None = None

    @property
    def services(self) -> Services:
        if self._services is None:
            self._services = build_services(self.settings)
        return self._services

    def vault(self) -> VaultService:
        token, source = resolve_token(self.settings)
        return VaultService(self.settings, token, token_source=source)

    def __enter__(self) -> Context:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._services is not None:
            self._services.close()


# -- licenses ------------------------------------------------------------------------------------


def _report_license(ctx: Context, license_: License, out: Path | None, verb: str) -> None:
    if out is not None:
        try:
            write_license_file(out, license_)
        except InvalidInput as exc:
            raise LicenseConsoleError(
                f"license {license_.license_id} was issued and registered, but the file was not "
                f"written ({exc.message}); write it with `license-console show "
                f"{license_.license_id} --out FILE`",
                details={"license": license_.document()},
            ) from exc
    if ctx.output.json_mode:
        ctx.output.json({"success": True, "license": license_.document()})
        return
    ctx.output.line(f"{verb} license {license_.license_id} for ", license_.customer)
    ctx.output.fields(
        [
            ("Modules", license_.modules),
            ("Expires", license_.expires_at),
            ("Key", f"{license_.key_name} v{license_.key_version} ({license_.alg})"),
            ("File", str(out) if out else "not written (use --out FILE)"),
        ]
    )


def cmd_issue(args: argparse.Namespace, ctx: Context) -> int:
    if args.out is not None:
        check_writable(args.out)
    request = LicenseRequest.build(
        args.customer, args.modules, args.expires, parse_meta_pairs(args.meta)
    )
    license_ = ctx.services.licenses.issue(request)
    _report_license(ctx, license_, args.out, "Issued")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace, ctx: Context) -> int:
    if args.offline:
        if args.public_key is None:
            raise InvalidInput("--offline needs --public-key FILE (from `keys export`)")
        result = validate_offline(
            args.file, args.public_key, args.revocations, ctx.settings.clock_skew_seconds
        )
    elif args.public_key is not None or args.revocations is not None:
        raise InvalidInput("--public-key and --revocations only apply with --offline")
    else:
        result = ctx.services.licenses.validate(read_license_file(args.file))
    if ctx.output.json_mode:
        ctx.output.json(result)
    else:
        render_validation(ctx.output, result)
    return EXIT_OK if result.valid else EXIT_REFUSED


def render_validation(out: Output, result: ValidationResult) -> None:
    verdict = Text("VALID", style="bold green") if result.valid else Text("INVALID", "bold red")
    out.fields(
        [
            ("Verdict", verdict),
            ("License", result.license.get("license_id")),
            ("Customer", result.license.get("customer")),
            ("Signature", "valid" if result.signature_valid else "INVALID"),
            ("Expires", f"{result.license.get('expires_at')} ({result.days_until_expiry} days)"),
            ("Registry status", result.status),
        ]
    )
    for reason in result.reasons:
        out.line("  x ", reason, style="red")
    for warning in result.warnings:
        out.line("  ! ", warning, style="yellow")


def cmd_renew(args: argparse.Namespace, ctx: Context) -> int:
    if args.out is not None:
        check_writable(args.out)
    license_ = ctx.services.licenses.renew(
        args.target, args.expires, args.add_module, parse_meta_pairs(args.meta)
    )
    _report_license(ctx, license_, args.out, "Renewed as")
    return EXIT_OK


def cmd_show(args: argparse.Namespace, ctx: Context) -> int:
    """One license from the registry: its status, and its `.lic` file again if asked."""
    if args.out is not None:
        check_writable(args.out)
    record = ctx.services.licenses.get(args.license_id)
    if args.out is not None:
        write_license_file(args.out, License.model_validate(record.document))
    if ctx.output.json_mode:
        ctx.output.json(record)
        return EXIT_OK
    revocation = record.revocation
    revoked = f"{format_ts(revocation.effective_at)}: {revocation.reason}" if revocation else None
    ctx.output.fields(
        [
            ("License", record.license_id),
            ("Customer", record.customer),
            ("Status", Text(record.status, style=STATUS_STYLE[record.status])),
            ("Modules", record.modules),
            ("Issued", format_ts(record.issued_at)),
            ("Expires", format_ts(record.expires_at)),
            ("Metadata", record.document.get("metadata")),
            ("Key", f"{record.key_name} v{record.key_version} ({record.alg})"),
            ("Renewed from", record.renewed_from),
            ("Renewed as", record.superseded_by),
            ("Revocation", revoked),
            ("File", str(args.out) if args.out else None),
        ]
    )
    return EXIT_OK


def cmd_revoke(args: argparse.Namespace, ctx: Context) -> int:
    if args.cancel:
        license_id = ctx.services.licenses.cancel_revocation(args.license_id)
        if ctx.output.json_mode:
            ctx.output.json({"success": True, "license_id": license_id, "cancelled": True})
        else:
            ctx.output.line(f"Cancelled the scheduled revocation of {license_id}.")
        return EXIT_OK
    effective = parse_moment(args.effective, "effective date") if args.effective else None
    result = ctx.services.licenses.revoke(args.license_id, args.reason, effective)
    if ctx.output.json_mode:
        ctx.output.json({"success": True, **result.model_dump(mode="json")})
    elif result.effective_now:
        ctx.output.line(f"Revoked {result.license_id}.")
    else:
        ctx.output.line(f"{result.license_id} will be revoked on {result.effective_at}.")
    return EXIT_OK


def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    try:
        query = ListQuery(
            customer=args.customer,
            status=args.status,
            module=args.module,
            expiring_within=args.expiring_within,
            limit=args.limit,
            offset=args.offset,
        )
    except ValueError as exc:
        raise InvalidInput(f"bad list filter: {exc.errors()[0]['msg']}") from exc  # type: ignore[attr-defined]
    result = ctx.services.licenses.list(query)
    if ctx.output.json_mode:
        ctx.output.json(
            {
                "licenses": [
                    r.document | {"status": r.status, "revocation_scheduled": _scheduled(r)}
                    for r in result.licenses
                ],
                "total": result.total,
            }
        )
        return EXIT_OK
    rows = [
        (
            r.license_id,
            r.customer,
            r.modules,
            format_ts(r.expires_at)[:10],
            _status_cell(r),
            f"v{r.key_version}",
        )
        for r in result.licenses
    ]
    ctx.output.table(["License", "Customer", "Modules", "Expires", "Status", "Key"], rows)
    shown = f"{query.offset + 1}-{query.offset + len(rows)}" if rows else "0"
    ctx.output.line(f"{shown} of {result.total}")
    return EXIT_OK


def _scheduled(record: LicenseRecord) -> str | None:
    """When a revocation is pending (the license still active until then)."""
    revocation = record.revocation
    if revocation is None or record.status == "revoked":
        return None
    return format_ts(revocation.effective_at)


def _status_cell(record: LicenseRecord) -> Text:
    text = Text(record.status, style=STATUS_STYLE[record.status])
    scheduled = _scheduled(record)
    if scheduled:
        text.append(f" (revoked from {scheduled[:10]})", style="red")
    return text


def cmd_batch(args: argparse.Namespace, ctx: Context) -> int:
    entries, errors = read_batch_file(args.file)
    service = ctx.services.licenses
    with _stop_requested() as stop:
        if ctx.output.json_mode or not ctx.output.err_console.is_terminal:
            result = service.batch_issue(entries, cancelled=stop.is_set)
        else:
            result = _batch_with_progress(service.batch_issue, entries, ctx.output, stop)
    result.errors = sorted([*errors, *result.errors], key=lambda e: e.row)
    if ctx.output.json_mode:
        ctx.output.json(result)
        if result.aborted:
            ctx.output.warn(f"stopped early: {result.aborted}; the rows not issued are listed")
    else:
        _render_batch(ctx.output, result)
    if result.aborted == "cancelled":
        return 130
    if result.aborted:
        return EXIT_VAULT
    return EXIT_OK if not result.errors else EXIT_REFUSED


@contextlib.contextmanager
def _stop_requested() -> Iterator[threading.Event]:
    """Ctrl-C or SIGTERM during a batch: finish the chunk in flight, then stop and report.

    Without this an interrupt would leave the person not knowing which rows were issued.
    """
    stop = threading.Event()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    try:
        for sig in previous:
            signal.signal(sig, handler)
    except ValueError:  # not the main thread: leave signals alone
        previous = {}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _batch_with_progress(
    run: Callable[..., BatchResult], entries: list[Any], out: Output, stop: threading.Event
) -> BatchResult:
    """A bar on stderr, so stdout stays the result alone."""
    columns = [
        *Progress.get_default_columns()[:1],
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, transient=True, console=out.err_console) as progress:
        task = progress.add_task("Issuing", total=len(entries))

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        return run(entries, progress=update, cancelled=stop.is_set)


def _render_batch(out: Output, result: BatchResult) -> None:
    issued, rejected = len(result.issued), len(result.errors)
    out.line(
        f"Issued {issued} license{'s' if issued != 1 else ''}, "
        f"rejected {rejected} row{'s' if rejected != 1 else ''}."
    )
    for error in result.errors[:50]:
        out.line(f"  row {error.row}: ", error.error, style="red")
    if len(result.errors) > 50:
        out.line(f"  ... and {len(result.errors) - 50} more (use --json for all)")
    if result.aborted:
        out.line(f"Stopped early: {result.aborted}", style="red")


def cmd_audit(args: argparse.Namespace, ctx: Context) -> int:
    if args.audit_command == "verify":
        return cli_trust.cmd_audit_verify(args, ctx)
    if args.audit_command == "checkpoint":
        return cli_trust.cmd_audit_checkpoint(args, ctx)
    _ = ctx.services  # opens the registry
    events, total = audit.list_events(license_id=args.license, action=args.action, limit=args.limit)
    if ctx.output.json_mode:
        ctx.output.json({"events": events, "total": total})
        return EXIT_OK
    ctx.output.table(
        ["#", "Time", "Action", "License", "Actor", "Details"],
        [(e.id, format_ts(e.at), e.action, e.license_id, e.actor, e.details) for e in events],
    )
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace, Context], int]] = {
    "status": cli_vault.cmd_status,
    "init": cli_vault.cmd_init,
    "unseal": cli_vault.cmd_unseal,
    "seal": cli_vault.cmd_seal,
    "keys": cli_vault.cmd_keys,
    "issue": cmd_issue,
    "validate": cmd_validate,
    "renew": cmd_renew,
    "show": cmd_show,
    "revoke": cmd_revoke,
    "list": cmd_list,
    "batch": cmd_batch,
    "audit": cmd_audit,
    "revocations": cli_trust.cmd_revocations,
    "local": cli_vault.cmd_local,
}

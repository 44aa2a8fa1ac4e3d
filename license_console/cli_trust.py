"""CLI handlers for the trust features: key export, revocation lists, the audit chain.

Kept apart from cli_commands so that file stays about licenses; the parsers live in cli.py.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from rich.text import Text

from license_console import audit_chain
from license_console.errors import EXIT_OK, EXIT_REFUSED
from license_console.files import write_text_atomic
from license_console.licenses import format_ts
from license_console.offline import read_key_ring
from license_console.public_keys import export_public_keys
from license_console.revocation_list import export_revocations

if TYPE_CHECKING:
    from license_console.cli_commands import Context


def cmd_keys_export(args: argparse.Namespace, ctx: Context) -> int:
    exported = export_public_keys(ctx.services.vault, args.version)
    if args.out is not None:
        write_text_atomic(args.out, exported.pem)
    if ctx.output.json_mode:
        out = str(args.out) if args.out is not None else None
        ctx.output.json({**exported.model_dump(mode="json"), "out": out})
    elif args.out is not None:
        versions = ", ".join(f"v{v}" for v in exported.versions)
        ctx.output.line(f"Wrote the public keys of {exported.key_name} ({versions}) to {args.out}")
    else:
        sys.stdout.write(exported.pem)
    return EXIT_OK


def cmd_revocations(args: argparse.Namespace, ctx: Context) -> int:
    services = ctx.services
    result = export_revocations(services.vault, services.registry, args.out, args.valid_days)
    audit_chain.checkpoint_if_due(services.vault)
    if ctx.output.json_mode:
        ctx.output.json(result)
        return EXIT_OK
    ctx.output.line(
        f"Wrote {result.count} revocation(s) to {result.out}, signed with "
        f"{result.key_name} v{result.key_version}."
    )
    ctx.output.line(f"Next update due {result.next_update}: publish a fresh list before then.")
    return EXIT_OK


def cmd_audit_verify(args: argparse.Namespace, ctx: Context) -> int:
    services = ctx.services
    keys = read_key_ring(args.public_key) if args.public_key else None
    vault = services.vault if keys is None and services.vault.has_token else None
    verdict = audit_chain.verify_chain(vault, keys)
    if ctx.output.json_mode:
        ctx.output.json(verdict)
        return EXIT_OK if verdict.intact else EXIT_REFUSED
    if verdict.intact:
        ctx.output.line(Text("INTACT", style="bold green"), f": {verdict.events} events")
    else:
        ctx.output.line(
            Text("TAMPERED", style="bold red"), f" at event {verdict.first_bad_event}: "
        )
        ctx.output.line("  ", verdict.problem or "", style="red")
    signed = "signatures verified" if verdict.signatures_verified else "signatures NOT verified"
    ctx.output.fields(
        [
            ("Checkpoints", f"{verdict.checkpoints} ({verdict.checkpoints_checked} checked)"),
            ("Signatures", signed if verdict.checkpoints_checked else "-"),
            ("Last checkpoint", verdict.last_checkpoint_event),
        ]
    )
    for note in verdict.notes:
        ctx.output.line("  ! ", note, style="yellow")
    return EXIT_OK if verdict.intact else EXIT_REFUSED


def cmd_audit_checkpoint(args: argparse.Namespace, ctx: Context) -> int:
    record, created = audit_chain.checkpoint(ctx.services.vault)
    if ctx.output.json_mode:
        ctx.output.json({"created": created, "id": record.id, "checkpoint": record.document()})
        return EXIT_OK
    verb = "Signed" if created else "Already signed:"
    ctx.output.line(
        f"{verb} checkpoint #{record.id} at event {record.event_id} "
        f"({record.key_name} v{record.key_version}, {format_ts(record.at)})"
    )
    ctx.output.line(f"Hash {record.hash}: keep a copy outside this database.")
    return EXIT_OK

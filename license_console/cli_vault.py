"""CLI handlers that operate Vault itself: status, init, unseal, seal, the key, the local server.

Kept apart from cli_commands so that file stays about licenses; the parsers live in cli.py.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING

from rich.text import Text

from license_console import cli_trust, local_server
from license_console.cli_output import Output
from license_console.errors import EXIT_OK, InvalidInput, OperationRefused
from license_console.vault import KeyInfo, SealStatus

if TYPE_CHECKING:
    from license_console.cli_commands import Context


# -- Vault status and seal ----------------------------------------------------------------------


def cmd_status(args: argparse.Namespace, ctx: Context) -> int:
    status = ctx.vault().status()
    if ctx.output.json_mode:
        ctx.output.json({**status.model_dump(mode="json"), "state": status.state})
    else:
        render_status(ctx.output, status)
    if not status.reachable or status.error:
        return 1
    return 2 if status.sealed else 0


def render_status(out: Output, status: SealStatus) -> None:
    colour = {"unsealed": "green", "standby": "yellow"}.get(status.state, "red")
    if not status.reachable:  # nothing else is known; defaults would read as facts
        out.fields([("Address", status.address), ("State", Text(status.state, style="bold red"))])
        out.line(status.error or "", style="red")
        return
    out.fields(
        [
            ("Address", status.address),
            ("State", Text(status.state, style=f"bold {colour}")),
            ("Initialized", status.initialized),
            ("Sealed", status.sealed),
            (
                "Unseal progress",
                f"{status.progress}/{status.threshold} (of {status.shares} shares)",
            ),
            ("Version", status.version),
            ("Storage", status.storage_type),
            ("Cluster", status.cluster_name),
            ("HA mode", status.ha_mode),
        ]
    )
    if status.error:
        out.line(status.error, style="red")


def cmd_init(args: argparse.Namespace, ctx: Context) -> int:
    result = ctx.vault().initialize(args.shares, args.threshold)
    secrets = {
        "keys": [k.get_secret_value() for k in result.keys],
        "keys_base64": [k.get_secret_value() for k in result.keys_base64],
        "root_token": result.root_token.get_secret_value(),
    }
    if ctx.output.json_mode:
        ctx.output.json(secrets)
        return EXIT_OK
    ctx.output.warn(
        "Shown ONCE and stored nowhere: give each key share to a different person and keep the "
        f"root token safe. {args.threshold} of {args.shares} shares unseal Vault."
    )
    for number, key in enumerate(secrets["keys"], start=1):
        ctx.output.line(f"Unseal key {number}: {key}")
    ctx.output.line(f"Root token: {secrets['root_token']}")
    return EXIT_OK


def _read_unseal_key(given: str | None) -> str:
    if given:
        return given
    if sys.stdin.isatty():
        return getpass.getpass("Unseal key (hidden): ")
    line = sys.stdin.readline().strip()
    if not line:
        raise InvalidInput("no unseal key given (argument, prompt or standard input)")
    return line


def cmd_unseal(args: argparse.Namespace, ctx: Context) -> int:
    status = ctx.vault().unseal(_read_unseal_key(args.key))
    if ctx.output.json_mode:
        ctx.output.json({**status.model_dump(mode="json"), "state": status.state})
    elif status.sealed:
        ctx.output.line(f"Still sealed: {status.progress} of {status.threshold} shares given")
    else:
        ctx.output.line("Unsealed.", style="green")
    return EXIT_OK


def cmd_seal(args: argparse.Namespace, ctx: Context) -> int:
    vault = ctx.vault()
    if not vault.has_token:
        raise InvalidInput("sealing needs a token: set VAULT_TOKEN")
    status = vault.seal()
    if ctx.output.json_mode:
        ctx.output.json({**status.model_dump(mode="json"), "state": status.state})
    else:
        ctx.output.line("Sealed.", style="yellow")
    return EXIT_OK


# -- keys ------------------------------------------------------------------------------------------


def render_key(out: Output, key: KeyInfo) -> None:
    out.fields(
        [
            ("Key", key.name),
            ("Type", key.type),
            ("Latest version", key.latest_version),
            ("Min decryption version", key.min_decryption_version),
        ]
    )
    out.table(["Version", "Created"], [(v.version, v.creation_time) for v in key.versions])


def cmd_keys(args: argparse.Namespace, ctx: Context) -> int:
    if args.keys_command == "export":
        return cli_trust.cmd_keys_export(args, ctx)
    vault = ctx.services.vault
    if args.keys_command == "create":
        key, created = ctx.services.licenses.create_key(args.type)
        if not created and key.type != args.type:
            raise OperationRefused(
                f"key {key.name} already exists as {key.type}, not {args.type}; it was left "
                "unchanged (use another LICENSE_CONSOLE_KEY_NAME for a key of another type)"
            )
        if ctx.output.json_mode:
            ctx.output.json({"created": created, "key": key})
            return EXIT_OK
        ctx.output.line("Created." if created else "Already present.")
    elif args.keys_command == "rotate":
        key = ctx.services.licenses.rotate_key()
        if not ctx.output.json_mode:
            ctx.output.line(f"Rotated: new licenses are signed with v{key.latest_version}.")
    else:
        key = vault.read_key()
    if ctx.output.json_mode:
        ctx.output.json(key)
    else:
        render_key(ctx.output, key)
    return EXIT_OK


# -- local server --------------------------------------------------------------------------------


def cmd_local(args: argparse.Namespace, ctx: Context) -> int:
    if args.local_command == "start":
        progress = (lambda _m: None) if ctx.output.json_mode else ctx.output.line
        info = local_server.start(ctx.settings, port=args.port, on_progress=progress)
    elif args.local_command == "stop":
        info = local_server.stop(ctx.settings)
    else:
        info = local_server.status(ctx.settings)
    if ctx.output.json_mode:
        ctx.output.json(info)
    else:
        ctx.output.fields(
            [
                (name.replace("_", " ").capitalize(), value)
                for name, value in info.model_dump(mode="json").items()
            ]
        )
    return EXIT_OK

"""The `license-console` command: argument parsing, dispatch, exit codes and error output.

Every subcommand calls the same services as the TUI. Errors become one line on stderr (or a
JSON object with --json) and an exit code scripts can rely on: 0 success, 1 invalid or
refused, 2 bad input, 3 Vault unreachable/sealed/denied; `status` exits like `vault status`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

import peewee

from license_console import __version__, local_server
from license_console.cli_commands import COMMANDS, Context
from license_console.cli_output import Output
from license_console.config import KEY_TYPES, Settings
from license_console.errors import EXIT_BAD_INPUT, EXIT_REFUSED, LicenseConsoleError
from license_console.registry import STATUSES

Handler = Callable[[argparse.Namespace, Context], int]


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error honours --json like every other error does."""

    def error(self, message: str) -> NoReturn:
        if "--json" in sys.argv[1:]:
            body = {"error": message, "code": "USAGE", "details": self.format_usage().strip()}
            print(json.dumps(body))
        super().error(message)


def _common(top_level: bool) -> Parser:
    """--json and --db, accepted before or after the subcommand.

    Below the top level the defaults are SUPPRESS, so a subcommand that was not given the flag
    does not overwrite the value given before it (`license-console --json list`).
    """
    default = None if top_level else argparse.SUPPRESS
    common = Parser(add_help=False)
    common.add_argument(
        "--json",
        action="store_true",
        default=False if top_level else argparse.SUPPRESS,
        help="machine-readable JSON output",
    )
    common.add_argument(
        "--db",
        metavar="PATH|URL",
        default=default,
        help="registry database (default: LICENSE_CONSOLE_DB, else the data directory)",
    )
    return common


def _whole_number(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}")
        return value

    return parse


count = _whole_number(1)  # --limit, --shares, --valid-days...
non_negative = _whole_number(0)  # --offset, --expiring-within


def port(text: str) -> int:
    value = count(text)
    if value > 65535:
        raise argparse.ArgumentTypeError("a port is between 1 and 65535")
    return value


def build_parser() -> argparse.ArgumentParser:
    common = _common(top_level=False)
    parser = Parser(
        prog="license-console",
        description="Issue and manage software licenses signed by Vault Transit. "
        "Without a command, opens the console (TUI).",
        parents=[_common(top_level=True)],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, description=help_text, parents=[common])

    add("status", "Vault seal and health status (exit 0 unsealed, 2 sealed, 1 error)")
    p = add("init", "initialise a new Vault: prints the key shares and root token once")
    p.add_argument("--shares", type=count, default=5)
    p.add_argument("--threshold", type=count, default=3)
    p = add("unseal", "submit one unseal key share (prompted without echo when omitted)")
    p.add_argument("key", nargs="?", help="key share; avoid this: it lands in shell history")
    add("seal", "seal Vault (needs a token allowed to seal)")

    keys = add("keys", "the Transit signing key")
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    p = keys_sub.add_parser(
        "create", help="enable Transit and create the key (idempotent)", parents=[common]
    )
    p.add_argument("--type", default="ed25519", choices=KEY_TYPES)
    keys_sub.add_parser(
        "show", help="key type and versions (public keys: --json or keys export)", parents=[common]
    )
    keys_sub.add_parser(
        "rotate", help="add a new key version; new licenses use it", parents=[common]
    )
    p = keys_sub.add_parser(
        "export",
        help="public keys as a labelled PEM key ring for offline verification",
        parents=[common],
    )
    p.add_argument("--out", type=Path, metavar="FILE", help="default: standard output")
    p.add_argument("--version", type=count, metavar="N", help="only this key version")

    p = add("issue", "issue and sign a license")
    p.add_argument("--customer", required=True)
    p.add_argument("--module", action="append", required=True, dest="modules", metavar="NAME")
    p.add_argument("--expires", required=True, metavar="DATE", help="YYYY-MM-DD (end of day UTC)")
    p.add_argument(
        "--meta",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="metadata; VALUE is parsed as JSON when it can be (100, true)",
    )
    p.add_argument("--out", type=Path, metavar="FILE", help="write the .lic file here")

    p = add("validate", "validate a license file (signature, expiry, revocation)")
    p.add_argument("file", type=Path)
    p.add_argument(
        "--offline", action="store_true", help="no Vault, no registry: only --public-key"
    )
    p.add_argument("--public-key", type=Path, metavar="FILE", help="key ring from keys export")
    p.add_argument(
        "--revocations", type=Path, metavar="FILE", help="signed list from revocations export"
    )

    p = add("renew", "issue a renewal that supersedes a license")
    p.add_argument("target", metavar="FILE|LICENSE_ID")
    p.add_argument("--expires", required=True, metavar="DATE")
    p.add_argument("--add-module", action="append", default=[], metavar="NAME")
    p.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--out", type=Path, metavar="FILE")

    p = add("show", "one license from the registry; --out writes its .lic file again")
    p.add_argument("license_id", metavar="LICENSE_ID")
    p.add_argument("--out", type=Path, metavar="FILE")

    p = add(
        "revoke",
        "revoke a license, now or from a future date; a scheduled revocation can be revoked "
        "again (replaced) or cancelled",
    )
    p.add_argument("license_id")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--reason", help="why (required to revoke)")
    what.add_argument(
        "--cancel", action="store_true", help="withdraw a scheduled revocation before it applies"
    )
    p.add_argument("--effective", metavar="DATETIME", help="default: now")

    p = add("list", "list licenses from the registry")
    p.add_argument("--customer", help="case-insensitive substring")
    p.add_argument("--status", choices=STATUSES)
    p.add_argument("--module")
    p.add_argument("--expiring-within", type=non_negative, metavar="DAYS")
    p.add_argument("--limit", type=count, default=50, help="rows shown (default 50)")
    p.add_argument("--offset", type=non_negative, default=0, help="rows skipped (paging)")

    p = add("batch", "issue many licenses from a CSV or JSON file")
    p.add_argument("file", type=Path)

    p = add("audit", "the audit trail: list (newest first), verify the chain, checkpoint it")
    p.add_argument(
        "audit_command",
        nargs="?",
        default="list",
        choices=("list", "verify", "checkpoint"),
        metavar="list|verify|checkpoint",
        help="list (default); verify: exit 1 if tampered; checkpoint: sign the head now",
    )
    p.add_argument("--license", metavar="ID", help="one license (id or 6+ character prefix)")
    p.add_argument("--action", help="one action: issue, renew, revoke, validate, batch, ...")
    p.add_argument("--limit", type=count, default=50, help="events shown (default 50)")
    p.add_argument(
        "--public-key", type=Path, metavar="FILE", help="verify: check checkpoints offline"
    )

    p = add("revocations", "signed revocation lists for offline verifiers")
    rev_sub = p.add_subparsers(dest="revocations_command", metavar="ACTION", required=True)
    p = rev_sub.add_parser("export", help="write a list signed through Transit", parents=[common])
    p.add_argument("--out", type=Path, metavar="FILE", required=True)
    p.add_argument(
        "--valid-days", type=count, default=7, metavar="N", help="next_update = now + N days"
    )

    local = add("local", "the embedded local OpenBao server (development and evaluation)")
    local_sub = local.add_subparsers(dest="local_command", metavar="ACTION", required=True)
    p = local_sub.add_parser("start", help="start, initialise and unseal it", parents=[common])
    p.add_argument("--port", type=port, help="default: the last used port, else 8200")
    local_sub.add_parser("stop", help="stop it", parents=[common])
    local_sub.add_parser("status", help="what runs where", parents=[common])
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    """Settings from the environment, --db, and the local server's address when it has one.

    Without VAULT_ADDR, commands talk to the embedded local server wherever it was started
    (`local start --port 8210`), not to the default port where nothing may listen.
    """
    settings = Settings()
    if getattr(args, "db", None):
        settings.db = args.db
    if "VAULT_ADDR" not in os.environ:
        settings.vault_addr = local_server.local_address(settings) or settings.vault_addr
    return settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    output = Output(json_mode=bool(getattr(args, "json", False)))
    try:
        settings = _settings(args)
        if args.command is None:
            from license_console.tui.app import run_app

            return run_app(settings)
        handler = COMMANDS[args.command]
        with Context(settings, output) as context:
            return handler(args, context)
    except LicenseConsoleError as exc:
        output.error(exc)
        return exc.exit_code
    except ValueError as exc:  # pydantic settings from a bad environment variable
        output.error(LicenseConsoleError(str(exc).splitlines()[0]))
        return EXIT_BAD_INPUT
    except peewee.PeeweeException as exc:
        output.error(LicenseConsoleError(f"registry error: {exc}", details=type(exc).__name__))
        return EXIT_REFUSED
    except OSError as exc:
        output.error(LicenseConsoleError(f"{exc.strerror or exc}: {exc.filename or ''}".strip()))
        return EXIT_REFUSED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())

"""The Transit signing key: type, versions, rotate, and export of the public key."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, DataTable, Static

from license_console.errors import KeyMissing
from license_console.public_keys import export_public_keys
from license_console.tui.formatting import error_message, literal
from license_console.tui.modals.confirm import ConfirmModal
from license_console.tui.screens.base import ConsoleScreen
from license_console.vault import KeyInfo


def key_table(key: KeyInfo) -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("Name", literal(key.name))
    table.add_row("Type", literal(key.type))
    table.add_row("Latest version", str(key.latest_version))
    table.add_row("Min. decryption version", str(key.min_decryption_version))
    table.add_row("Min. available version", str(key.min_available_version))
    table.add_row("Can sign", "yes" if key.supports_signing else "no")
    return table


class KeysScreen(ConsoleScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reload", "Reload", id="keys.reload"),
        Binding("ctrl+r", "rotate", "Rotate", id="keys.rotate", show=False),
        Binding("e", "export", "Export public keys", id="keys.export"),
    ]
    WORKER_ERRORS: ClassVar[dict[str, str]] = {
        "key": "Cannot read the signing key",
        "rotate": "Rotation failed",
        "create": "Cannot create the key",
        "export": "Export failed",
    }

    def __init__(self) -> None:
        super().__init__()
        self.key: KeyInfo | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="keys-body"):
            yield Static(id="key-info")
            yield DataTable(id="key-versions", cursor_type="row", zebra_stripes=True)
            yield Static(id="keys-export-result")
        with Horizontal(classes="form-row", id="keys-actions"):
            yield Button("Reload", id="reload")
            yield Button("Rotate...", id="rotate", variant="warning")
            yield Button("Export public keys", id="export")
            yield Button("Create ed25519 key", id="create", variant="primary")

    def on_mount(self) -> None:
        table = self.query_one("#key-versions", DataTable)
        table.add_columns("Version", "Created", "Public key")
        self.query_one("#create").display = False
        self.action_reload()

    def focus_primary(self) -> None:
        self.query_one("#key-versions", DataTable).focus()

    def action_reload(self) -> None:
        self.query_one("#keys-body").loading = True
        self._read()

    @work(thread=True, exclusive=True, exit_on_error=False, group="key")
    def _read(self) -> KeyInfo:
        return self.services.vault.read_key()

    @work(thread=True, exclusive=True, exit_on_error=False, group="rotate")
    def _rotate(self) -> KeyInfo:
        return self.services.vault.rotate_key()

    @work(thread=True, exclusive=True, exit_on_error=False, group="create")
    def _create(self) -> KeyInfo:
        return self.services.vault.create_key("ed25519")[0]

    @work(thread=True, exclusive=True, exit_on_error=False, group="export")
    def _export(self, out_dir: Path) -> tuple[Path, list[int]]:
        # every live version as a labelled key ring, exactly what `keys export` writes: a
        # customer with only the latest version could not verify licenses signed before a rotation
        export = export_public_keys(self.services.vault, version=None)
        path = out_dir / f"{export.key_name}.pem"
        path.write_text(export.pem, encoding="utf-8")
        return path, export.versions

    def worker_succeeded(self, group: str, result: Any) -> None:
        if group == "export":
            path, versions = result
            listed = ", ".join(f"v{v}" for v in versions)
            self.notify(f"public keys {listed} saved to {path}", title="Export", markup=False)
            self.query_one("#keys-export-result", Static).update(
                literal(f"Exported {listed} to {path}")
            )
            return
        if group == "rotate":
            self.notify(f"new latest version v{result.latest_version}", title="Rotated")
        self._show(result)

    def worker_failed(self, group: str, error: BaseException | None) -> None:
        self.query_one("#keys-body").loading = False
        if group == "key":
            text = Text("The signing key cannot be read:\n", style="bold yellow")
            text.append_text(literal(error_message(error)))
            self.query_one("#key-info", Static).update(text)
            self.query_one("#create").display = isinstance(error, KeyMissing)

    def _show(self, key: KeyInfo) -> None:
        self.key = key
        self.query_one("#keys-body").loading = False
        self.query_one("#create").display = False
        self.query_one("#key-info", Static).update(key_table(key))
        table = self.query_one("#key-versions", DataTable)
        table.clear()
        for version in sorted(key.versions, key=lambda v: -v.version):
            pem = version.public_key_pem or ""
            body = "".join(line for line in pem.splitlines() if "-----" not in line)
            label = f"v{version.version}"
            if version.version == key.latest_version:
                label += " (latest)"
            if version.version < key.min_decryption_version:
                label += " retired"
            table.add_row(
                Text(label),
                literal((version.creation_time or "-")[:19].replace("T", " ")),
                literal(body[:40] + ("..." if len(body) > 40 else "")),
                key=str(version.version),
            )

    def action_rotate(self) -> None:
        if self.key is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._rotate()

        self.app.push_screen(
            ConfirmModal(
                "Rotate the signing key?",
                f"New licenses will be signed with v{self.key.latest_version + 1}. Existing "
                "licenses keep verifying with their version.",
                confirm="Rotate",
            ),
            confirmed,
        )

    def action_export(self) -> None:
        if self.key is None:
            return
        self._export(self.console.out_dir)

    @on(Button.Pressed)
    async def _button(self, event: Button.Pressed) -> None:
        if event.button.id == "create":
            self._create()
        elif event.button.id:
            await self.run_action(event.button.id)

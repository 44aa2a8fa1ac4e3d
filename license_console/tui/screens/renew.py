"""Renew: a new expiry, added modules and metadata changes, with a diff before confirming."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from pydantic import ValidationError
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Static, TextArea

from license_console.errors import InvalidInput
from license_console.licenses import License, LicenseRequest, format_ts
from license_console.operations import write_license_file
from license_console.registry import LicenseRecord
from license_console.tui.formatting import compact_json, error_message, literal
from license_console.tui.forms import parse_metadata, quick_pick, split_modules
from license_console.tui.modals.confirm import ConfirmModal
from license_console.tui.screens.base import ConsoleScreen


def diff_table(old: LicenseRecord, new: LicenseRequest) -> Table:
    """Old -> new for every field a renewal can change; unchanged rows are dimmed."""
    table = Table(box=None, padding=(0, 1), expand=True)
    table.add_column("Field", style="bold", no_wrap=True)
    table.add_column("Old")
    table.add_column("New")
    old_meta = old.document.get("metadata", {})
    rows = [
        ("expires", old.document.get("expires_at", ""), format_ts(new.expires_at)),
        ("modules", ", ".join(old.modules), ", ".join(new.modules)),
    ]
    for key in sorted({*old_meta, *new.metadata}):
        rows.append(
            (
                f"metadata.{key}",
                compact_json(old_meta[key]) if key in old_meta else "-",
                compact_json(new.metadata[key]) if key in new.metadata else "-",
            )
        )
    for field, before, after in rows:
        style = "" if before != after else "dim"
        new_text = literal(after)
        if before != after:
            new_text.stylize("bold green")
        table.add_row(Text(field, style=style), literal(before), new_text)
    return table


class RenewScreen(ConsoleScreen):
    """Dismisses with the new license id, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "renew", "Renew", id="renew.submit"),
    ]
    WORKER_ERRORS: ClassVar[dict[str, str]] = {"renew": "Renewal failed"}

    def __init__(self, record: LicenseRecord) -> None:
        super().__init__()
        self.record = record
        self.request: LicenseRequest | None = None

    def compose_body(self) -> ComposeResult:
        title = Text("Renew ", style="bold")
        title.append(self.record.license_id)
        title.append(" for ")
        title.append_text(literal(self.record.customer))
        with VerticalScroll(classes="form"):
            yield Static(title, classes="screen-title")
            yield Label("New expiry (YYYY-MM-DD)")
            with Horizontal(classes="form-row"):
                yield Input(id="expires", placeholder="YYYY-MM-DD")
                yield Button("+30 days", id="pick-30d")
                yield Button("+1 year", id="pick-1y")
            yield Label("Add modules (comma separated)")
            yield Input(id="add-modules", placeholder="module, module (optional)")
            yield Label("Metadata changes (KEY=VALUE per line)")
            yield TextArea(id="metadata", show_line_numbers=False)
            yield Static(id="renew-problem", classes="error")
            yield Static(Text("Changes", style="bold underline"))
            yield Static(id="renew-diff")
            with Horizontal(classes="form-row"):
                yield Button("Renew...", id="renew", variant="primary", disabled=True)
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        base = max(self.record.expires_at, self.console.now())
        self.query_one("#expires", Input).value = quick_pick("1y", base)
        self.query_one("#expires", Input).focus()

    @on(Input.Changed)
    @on(TextArea.Changed)
    def _check(self) -> None:
        old = self.record
        problem = ""
        self.request = None
        try:
            metadata = {**old.document.get("metadata", {}), **parse_metadata(self._metadata())}
            modules = [*old.modules, *split_modules(self.query_one("#add-modules", Input).value)]
            expires = self.query_one("#expires", Input).value
            self.request = LicenseRequest.build(
                old.customer, modules, expires, metadata, now=self.console.now()
            )
        except (InvalidInput, ValidationError) as exc:
            problem = getattr(exc, "message", str(exc))
        self.query_one("#renew-problem", Static).update(literal(problem))
        self.query_one("#renew", Button).disabled = self.request is None
        if self.request is not None:
            self.query_one("#renew-diff", Static).update(diff_table(old, self.request))

    def _metadata(self) -> str:
        return self.query_one("#metadata", TextArea).text

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        match event.button.id:
            case "pick-30d" | "pick-1y":
                base = max(self.record.expires_at, self.console.now())
                pick = event.button.id.removeprefix("pick-")
                self.query_one("#expires", Input).value = quick_pick(pick, base)
            case "renew":
                self.action_renew()
            case "cancel":
                self.dismiss(None)

    def action_renew(self) -> None:
        request = self.request
        if request is None:
            return
        added = split_modules(self.query_one("#add-modules", Input).value)
        updates = parse_metadata(self._metadata())
        body = Text(f"Issue a renewal of {self.record.license_id} expiring ")
        body.append(f"{request.expires_at:%Y-%m-%d}; the old license becomes superseded.")

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.query_one("#renew", Button).disabled = True
                self.query_one("#renew-problem", Static).update(Text("Signing...", style="bold"))
                self._renew(request.expires_at, added, updates, self.console.out_dir)

        self.app.push_screen(ConfirmModal("Renew license?", body, "Renew", danger=False), confirmed)

    @work(thread=True, exclusive=True, exit_on_error=False, group="renew")
    def _renew(
        self, expires: datetime, added: list[str], updates: dict[str, Any], out_dir: Path
    ) -> tuple[License, Path]:
        new = self.services.licenses.renew(self.record.license_id, expires, added, updates)
        path = out_dir / f"{new.license_id}.lic"
        write_license_file(path, new)
        return new, path

    def worker_succeeded(self, group: str, result: Any) -> None:
        new, path = result
        self.notify(f"renewed as {new.license_id}, saved to {path}", title="Renewed", markup=False)
        self.dismiss(new.license_id)

    def worker_failed(self, group: str, error: BaseException | None) -> None:
        self._check()  # the form is usable again: the error is in the notification
        if not self.query_one("#renew-problem", Static).content:
            text = Text("Not renewed: ", style="bold")
            text.append_text(literal(error_message(error)))
            self.query_one("#renew-problem", Static).update(text)

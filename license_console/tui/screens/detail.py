"""One license: every field, its signature, a fresh validation, its renewal chain, actions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static

from license_console.licenses import License, format_ts
from license_console.operations import ValidationResult, write_license_file
from license_console.registry import LicenseRecord
from license_console.tui.formatting import compact_json, expiry_text, literal, status_text
from license_console.tui.modals.revoke import RevokeModal, RevokeRequest
from license_console.tui.screens.base import ConsoleScreen


def record_table(record: LicenseRecord, now: Any) -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    doc = record.document
    table.add_row("License", literal(record.license_id))
    table.add_row("Customer", literal(record.customer))
    table.add_row("Status", status_text(record.status))
    table.add_row("Modules", literal(", ".join(record.modules)))
    table.add_row("Issued", literal(doc.get("issued_at", format_ts(record.issued_at))))
    expires = expiry_text(record.expires_at, now, record.status)
    expires.append(f"  {doc.get('expires_at', '')}", style="dim")
    table.add_row("Expires", expires)
    table.add_row("Issuer", literal(doc.get("issuer", "")))
    table.add_row("Key", literal(f"{record.key_name} v{record.key_version} ({record.alg})"))
    table.add_row("Metadata", literal(compact_json(doc.get("metadata", {}))))
    table.add_row("Renewed from", literal(record.renewed_from or "-"))
    table.add_row("Renewed to", literal(record.superseded_by or "-"))
    if record.revocation is not None:
        revocation = record.revocation
        table.add_row(
            "Revocation",
            literal(
                f"{format_ts(revocation.effective_at)} by {revocation.actor}: {revocation.reason}"
            ),
        )
    table.add_row("Signature", literal(doc.get("signature") or "-"))
    return table


def validation_text(result: ValidationResult) -> Text:
    text = Text()
    if result.valid:
        text.append(" VALID ", style="bold white on green")
    else:
        text.append(" INVALID ", style="bold white on red")
    text.append(f"  signature {'ok' if result.signature_valid else 'BAD'}", style="bold")
    text.append(f"  status {result.status}  checked {result.validation_timestamp}", style="dim")
    for reason in result.reasons:
        text.append("\n  x ", style="red")
        text.append_text(literal(reason))
    for warning in result.warnings:
        text.append("\n  ! ", style="yellow")
        text.append_text(literal(warning))
    return text


class DetailScreen(ConsoleScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "renew", "Renew", id="detail.renew"),
        Binding("x", "revoke", "Revoke", id="detail.revoke"),
        Binding("e", "export", "Export .lic", id="detail.export"),
        Binding("y", "copy", "Copy", id="detail.copy"),
        Binding("c", "customer", "Customer", id="detail.customer"),
        Binding("f", "chain('from')", "Renewed from", id="detail.from", show=False),
        Binding("t", "chain('to')", "Renewed to", id="detail.to", show=False),
    ]
    WORKER_ERRORS: ClassVar[dict[str, str]] = {
        "record": "Cannot read the license",
        "validation": "Validation unavailable",
        "revoke": "Revocation failed",
        "export": "Export failed",
    }

    def __init__(self, license_id: str) -> None:
        super().__init__()
        self.license_id = license_id
        self.record: LicenseRecord | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="detail-body"):
            yield Static(id="detail-fields")
            yield Static(Text("Validation", style="bold underline"))
            yield Static("validating...", id="detail-validation")
        with Horizontal(id="detail-actions", classes="form-row"):
            yield Button("Renew", id="renew", variant="primary")
            yield Button("Revoke", id="revoke", variant="error")
            yield Button("Export .lic", id="export")
            yield Button("Copy", id="copy")
            yield Button("Customer", id="customer")

    def on_mount(self) -> None:
        self.query_one("#detail-body").loading = True
        self.load()

    def load(self) -> None:
        self._load(self.license_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="record")
    def _load(self, license_id: str) -> LicenseRecord:
        return self.services.licenses.get(license_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="validation")
    def _validate(self, document: dict[str, Any]) -> ValidationResult:
        # no audit event: looking at a license is not a validation request from a customer
        return self.services.licenses.validate(document, record_audit=False)

    @work(thread=True, exclusive=True, exit_on_error=False, group="revoke")
    def _revoke(self, request: RevokeRequest) -> str:
        result = self.services.licenses.revoke(self.license_id, request.reason, request.effective)
        when = "now" if result.effective_now else f"from {result.effective_at}"
        return f"{result.license_id} revoked {when}"

    @work(thread=True, exclusive=True, exit_on_error=False, group="export")
    def _export(self, license_: License, path: Path) -> str:
        write_license_file(path, license_)
        return f"saved to {path}"

    def worker_succeeded(self, group: str, result: Any) -> None:
        match group:
            case "record":
                self.record = result
                self.license_id = result.license_id
                self.query_one("#detail-body").loading = False
                self.query_one("#detail-fields", Static).update(
                    record_table(result, self.console.now())
                )
                self.query_one("#detail-validation", Static).update("validating...")
                self._validate(result.document)
            case "validation":
                self.query_one("#detail-validation", Static).update(validation_text(result))
            case "revoke" | "export":
                self.notify(result, title=group.capitalize(), markup=False)
                if group == "revoke":
                    self.load()

    def worker_failed(self, group: str, error: BaseException | None) -> None:
        if group == "record":
            self.query_one("#detail-body").loading = False
        if group == "validation":
            from license_console.tui.formatting import error_message

            text = Text("validation unavailable: ", style="yellow")
            text.append_text(literal(error_message(error)))
            self.query_one("#detail-validation", Static).update(text)

    # -- actions ------------------------------------------------------------------------------

    @on(Button.Pressed)
    async def _button(self, event: Button.Pressed) -> None:
        if event.button.id:
            await self.run_action(event.button.id)

    def action_renew(self) -> None:
        from license_console.tui.screens.renew import RenewScreen

        if self.record is None:
            return

        def renewed(new_id: str | None) -> None:
            if new_id:
                self.license_id = new_id
                self.load()

        self.app.push_screen(RenewScreen(self.record), renewed)

    def action_revoke(self) -> None:
        if self.record is None:
            return

        def confirmed(request: RevokeRequest | None) -> None:
            if request is not None:
                self._revoke(request)

        self.app.push_screen(RevokeModal(self.record.license_id, self.record.customer), confirmed)

    def _license(self) -> License | None:
        return License.model_validate(self.record.document) if self.record else None

    def action_export(self) -> None:
        license_ = self._license()
        if license_ is not None:
            self._export(license_, self.console.out_dir / f"{license_.license_id}.lic")

    def action_copy(self) -> None:
        if self.record is not None:
            text = json.dumps(self.record.document, indent=2, ensure_ascii=False) + "\n"
            self.app.copy_to_clipboard(text)
            self.notify("license JSON copied to the clipboard", title="Copy")

    def action_customer(self) -> None:
        from license_console.tui.screens.customer import CustomerScreen

        if self.record is not None:
            self.app.push_screen(CustomerScreen(self.record.customer))

    def action_chain(self, direction: str) -> None:
        if self.record is None:
            return
        target = self.record.renewed_from if direction == "from" else self.record.superseded_by
        if target:
            self.app.push_screen(DetailScreen(target))

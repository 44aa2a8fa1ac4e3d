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


def validation_text(result: ValidationResult, details: bool = False) -> Text:
    """The verdict line, its reasons and warnings; then, apart, what the registry says.

    `details` adds the license's id, customer, expiry and days left (the Validate screen,
    where the license is not on screen already).
    """
    text = Text()
    if result.valid:
        text.append(" VALID ", style="bold white on green")
    else:
        text.append(" INVALID ", style="bold white on red")
    text.append(f"  signature {'ok' if result.signature_valid else 'BAD'}", style="bold")
    text.append(f"  checked {result.validation_timestamp}", style="dim")
    if details:
        document = result.license
        for label, key in (("License", "license_id"), ("Customer", "customer")):
            text.append(f"\n  {label:<9}", style="dim")
            text.append_text(literal(document.get(key, "-")))
        text.append("\n  Expires  ", style="dim")
        text.append_text(literal(document.get("expires_at", "-")))
        if result.days_until_expiry is not None:
            text.append(f"  ({result.days_until_expiry} days left)")
    for reason in result.reasons:
        text.append("\n  x ", style="red")
        text.append_text(literal(reason))
    for warning in result.warnings:
        text.append("\n  ! ", style="yellow")
        text.append_text(literal(warning))
    text.append("\n\nRegistry status ", style="dim")
    text.append_text(status_text(result.status))
    return text


class DetailScreen(ConsoleScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "renew", "Renew", id="detail.renew"),
        Binding("x", "revoke", "Revoke", id="detail.revoke"),
        Binding("e", "export", "Export .lic", id="detail.export", show=False),
        Binding("y", "copy", "Copy", id="detail.copy", show=False),
        Binding("c", "customer", "Customer", id="detail.customer", show=False),
        Binding("V", "revalidate", "Re-validate", id="detail.revalidate", show=False),
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

    def on_screen_resume(self) -> None:
        if self.is_mounted and self.record is not None:
            self.load()  # back from a renewal, a revocation or another screen: look again

    def action_revalidate(self) -> None:
        if self.record is not None:
            self.query_one("#detail-validation", Static).update("validating...")
            self._validate(self.record.document)

    def renew_refusal(self) -> str | None:
        """Why this license cannot be renewed, or None (renew the latest, live license only)."""
        record = self.record
        if record is None:
            return "the license is still loading"
        if record.superseded_by or record.status == "superseded":
            return f"already renewed as {record.superseded_by or 'a newer license'}: renew that one"
        if record.revocation is not None:
            scheduled = record.status != "revoked"
            what = "scheduled for revocation" if scheduled else "revoked"
            return f"this license is {what} and cannot be renewed"
        return None

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
        when = "effective NOW" if result.effective_now else f"effective {result.effective_at}"
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
                self.query_one("#renew", Button).disabled = self.renew_refusal() is not None
                self.query_one("#revoke", Button).disabled = result.revocation is not None
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

        refusal = self.renew_refusal()
        if refusal is not None or self.record is None:
            self.notify(refusal or "", title="Cannot renew", severity="warning", markup=False)
            return

        def renewed(new_id: str | None) -> None:
            if new_id:
                self.license_id = new_id
                self.load()

        self.app.push_screen(RenewScreen(self.record), renewed)

    def action_revoke(self) -> None:
        if self.record is None:
            return
        if self.record.revocation is not None:
            self.notify("this license is already revoked", title="Cannot revoke", markup=False)
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

"""Revocation: a reason, an optional future effective date, and an explicit confirmation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from license_console.errors import InvalidInput
from license_console.licenses import parse_moment
from license_console.tui.formatting import literal


@dataclass(frozen=True)
class RevokeRequest:
    reason: str
    effective: datetime | None


class RevokeModal(ModalScreen[RevokeRequest | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="revoke.cancel")]

    def __init__(self, license_id: str, customer: str) -> None:
        super().__init__()
        self.license_id = license_id
        self.customer = customer

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            title = Text("Revoke license ", style="bold")
            title.append(self.license_id)
            yield Static(title, classes="dialog-title")
            body = Text("Customer: ")
            body.append_text(literal(self.customer))
            body.append("\nA revoked license fails validation from its effective date on.")
            yield Static(body)
            yield Label("Reason")
            yield Input(placeholder="why (recorded in the audit log)", id="reason")
            yield Label("Effective (empty = now; YYYY-MM-DD or ISO date-time, UTC)")
            yield Input(placeholder="now", id="effective")
            yield Static("", id="revoke-error", classes="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Revoke", id="confirm", variant="error", disabled=True)
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    @on(Input.Changed)
    def _check(self) -> None:
        self.query_one("#confirm", Button).disabled = self._request() is None

    def _request(self) -> RevokeRequest | None:
        error = self.query_one("#revoke-error", Static)
        reason = self.query_one("#reason", Input).value.strip()
        raw = self.query_one("#effective", Input).value.strip()
        effective = None
        if raw:
            try:
                effective = parse_moment(raw, "effective date")
            except InvalidInput as exc:
                error.update(literal(exc.message))
                return None
        error.update("" if reason else "a reason is required")
        return RevokeRequest(reason, effective) if reason else None

    @on(Input.Submitted)
    def _submitted(self) -> None:
        request = self._request()
        if request is not None:
            self.dismiss(request)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(self._request() if event.button.id == "confirm" else None)

    def action_cancel(self) -> None:
        self.dismiss(None)

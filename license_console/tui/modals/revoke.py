"""Revocation: a reason, an optional future effective date, and an explicit confirmation.

The effective moment is spelled out in words (and on the button) before anything happens, so a
date typed into the wrong field can never turn into a silent "revoke now".
"""

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


def effective_words(effective: datetime | None) -> str:
    """`effective NOW` or `effective 2030-06-30 00:00 UTC`: what the person is about to confirm."""
    return "effective NOW" if effective is None else f"effective {effective:%Y-%m-%d %H:%M} UTC"


class RevokeModal(ModalScreen[RevokeRequest | None]):
    AUTO_FOCUS = "#reason"
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
            yield Input(placeholder="empty = now", id="effective")
            yield Static("", id="revoke-error", classes="error")
            yield Static("", id="revoke-summary")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Revoke now", id="confirm", variant="error", disabled=True)
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()
        self._check()

    @on(Input.Changed)
    def _check(self) -> None:
        request = self._request()
        button = self.query_one("#confirm", Button)
        button.disabled = request is None
        effective = self._effective()
        button.label = "Revoke now" if effective is None else f"Revoke from {effective:%Y-%m-%d}"
        summary = Text("Revokes ", style="bold")
        summary.append(self.license_id)
        summary.append(" ")
        summary.append(effective_words(effective), style="bold red")
        self.query_one("#revoke-summary", Static).update(summary)

    def _effective(self) -> datetime | None:
        raw = self.query_one("#effective", Input).value.strip()
        try:
            return parse_moment(raw, "effective date") if raw else None
        except InvalidInput:
            return None

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

    @on(Input.Submitted, "#reason")
    def _reason_submitted(self) -> None:
        """Enter in the reason goes on to the date, never straight to a revocation."""
        self.query_one("#effective", Input).focus()

    @on(Input.Submitted, "#effective")
    def _submitted(self) -> None:
        request = self._request()
        if request is not None:
            self.dismiss(request)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(self._request() if event.button.id == "confirm" else None)

    def action_cancel(self) -> None:
        self.dismiss(None)

"""The line at the top of every screen: where Vault is, whether it can sign, who acts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from license_console.tui.formatting import literal, seal_text
from license_console.vault import SealStatus


@dataclass(frozen=True)
class Connection:
    """The app's view of Vault, replaced as a whole after every background check."""

    address: str
    namespace: str | None = None
    status: SealStatus | None = None
    actor: str | None = None
    checked_at: datetime | None = None

    @property
    def state(self) -> str:
        return self.status.state if self.status is not None else "checking"


def connection_text(connection: Connection) -> Text:
    text = Text()
    text.append(" Vault ", style="bold")
    text.append_text(literal(connection.address))
    if connection.namespace:
        text.append("  ns ", style="dim")
        text.append_text(literal(connection.namespace))
    text.append("  ")
    text.append_text(seal_text(connection.state))
    if connection.checked_at is not None:
        text.append(f" checked {connection.checked_at:%H:%M:%S}", style="dim")
    # the display name only: the accessor is in the audit log, and the token is never shown
    actor = (connection.actor or "-").split(" (accessor ")[0]
    text.append("  as ", style="dim")
    text.append_text(literal(actor))
    return text


class StatusLine(Static):
    """Follows the app's `connection` reactive; never calls Vault itself."""

    DEFAULT_CSS = """
    StatusLine {
        dock: top;
        height: 1;
        background: $panel;
        color: $text;
    }
    """

    def on_mount(self) -> None:
        self.watch(self.app, "connection", self._show, init=True)

    def _show(self, connection: Connection | None) -> None:
        if connection is not None:
            self.update(connection_text(connection))

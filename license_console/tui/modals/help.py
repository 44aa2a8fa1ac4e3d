"""`?`: every binding of the app and of the screen underneath."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def _rows(app: App[Any], bindings: list[BindingType]) -> list[tuple[str, str]]:
    """(key as people type it, description): `/`, `?`, `]`, not `slash` or `question_mark`."""
    rows = []
    for binding in bindings:
        if isinstance(binding, Binding) and binding.description:
            rows.append((app.get_key_display(binding), binding.description))
    return rows


NOTES = [
    ("r", "reloads a list; on a license's page it renews"),
    ("esc", "back; in the license search it clears the search first"),
    ("^p", "command palette: every action by name"),
]


class HelpModal(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close", id="help.close"),
        Binding("question_mark", "close", "Close", show=False),
    ]

    def __init__(self, global_bindings: list[BindingType], screen_bindings: list[BindingType]):
        super().__init__()
        self.global_bindings = global_bindings
        self.screen_bindings = screen_bindings

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=False, padding=(0, 2))
        table.add_column(style="bold cyan")
        table.add_column()
        table.add_row(Text("Everywhere", style="bold underline"), "")
        for key, description in _rows(self.app, self.global_bindings):
            table.add_row(key, description)
        screen_rows = _rows(self.app, self.screen_bindings)
        if screen_rows:
            table.add_row("", "")
            table.add_row(Text("This screen", style="bold underline"), "")
            for key, description in screen_rows:
                table.add_row(key, description)
        table.add_row("", "")
        table.add_row(Text("Good to know", style="bold underline"), "")
        for key, description in NOTES:
            table.add_row(key, description)
        with Vertical(classes="dialog"):
            yield Static(Text("Keys", style="bold"), classes="dialog-title")
            with VerticalScroll():
                yield Static(table)

    def action_close(self) -> None:
        self.dismiss(None)

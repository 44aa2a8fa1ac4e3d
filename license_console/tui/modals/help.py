"""`?`: every binding of the app and of the screen underneath."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def _rows(bindings: list[BindingType]) -> list[tuple[str, str]]:
    rows = []
    for binding in bindings:
        if isinstance(binding, Binding) and binding.description:
            rows.append((binding.key_display or binding.key, binding.description))
    return rows


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
        for key, description in _rows(self.global_bindings):
            table.add_row(key, description)
        screen_rows = _rows(self.screen_bindings)
        if screen_rows:
            table.add_row("", "")
            table.add_row(Text("This screen", style="bold underline"), "")
            for key, description in screen_rows:
                table.add_row(key, description)
        table.add_row("", "")
        table.add_row("ctrl+p", "command palette: every action by name")
        with Vertical(classes="dialog"):
            yield Static(Text("Keys", style="bold"), classes="dialog-title")
            with VerticalScroll():
                yield Static(table)

    def action_close(self) -> None:
        self.dismiss(None)

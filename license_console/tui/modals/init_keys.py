"""The key shares and root token of a fresh Vault: shown once, never written anywhere."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from license_console.vault import InitResult

WARNING = (
    "Write these down now and store them apart. They are shown ONCE: the console does not "
    "save them, and nobody can unseal this Vault without enough of the key shares."
)


class InitKeysModal(ModalScreen[bool]):
    """Dismisses True when the person wants to use the root token for this session only."""

    BINDINGS = [Binding("escape", "close", "Close", id="init.close")]

    def __init__(self, result: InitResult, threshold: int) -> None:
        super().__init__()
        self.result = result
        self.threshold = threshold

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static(Text("Vault initialised", style="bold"), classes="dialog-title")
            yield Static(Text(WARNING, style="bold yellow"), id="init-warning")
            with VerticalScroll(id="init-secrets"):
                for number, key in enumerate(self.result.keys, start=1):
                    yield Static(Text(f"Key share {number}: {key.get_secret_value()}"))
                yield Static(Text(f"Root token:  {self.result.root_token.get_secret_value()}"))
                yield Static(
                    Text(f"Unsealing needs {self.threshold} of {len(self.result.keys)} shares.")
                )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Use root token (this session)", id="use-root", variant="primary")
                yield Button("I have saved them", id="close")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "use-root")

    def action_close(self) -> None:
        self.dismiss(False)

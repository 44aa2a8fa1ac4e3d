"""A yes/no question before anything that signs or destroys; escape means no."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

# rows of the dialog that are not its body: border, padding, title (+margin), buttons (+margin)
DIALOG_CHROME = 2 + 2 + 2 + 4


class ConfirmModal(ModalScreen[bool]):
    """The body scrolls when it is long (an issue with sixty modules); the buttons never do."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="confirm.cancel")]

    def __init__(self, title: str, body: Text | str, confirm: str = "Confirm", danger: bool = True):
        super().__init__()
        self.title_text = title
        self.body = body if isinstance(body, Text) else Text(body)
        self.confirm_label = confirm
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text, style="bold"), classes="dialog-title")
            with VerticalScroll(id="confirm-body"):
                yield Static(self.body)
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    self.confirm_label, id="confirm", variant="error" if self.danger else "primary"
                )
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        # Enter confirms a routine step (issue, renew); for a destructive one it cancels.
        self.query_one("#cancel" if self.danger else "#confirm", Button).focus()
        self._fit(self.app.size.height)

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.height)

    def _fit(self, height: int) -> None:
        # the dialog may use 90% of the height; whatever the body cannot show, it scrolls
        room = int(height * 0.9) - DIALOG_CHROME
        self.query_one("#confirm-body").styles.max_height = max(room, 3)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm")

    def action_cancel(self) -> None:
        self.dismiss(False)

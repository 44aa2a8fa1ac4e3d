"""Validate a license from a file or pasted JSON: valid or not, and every reason."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Static, TextArea

from license_console.licenses import load_document
from license_console.operations import ValidationResult, read_license_file
from license_console.tui.formatting import literal
from license_console.tui.screens.base import ConsoleScreen
from license_console.tui.screens.detail import validation_text

ECHO_LIMIT = 80
LONG_RUN = re.compile(rf"\S{{{ECHO_LIMIT + 1},}}")


def clip(message: str, limit: int = ECHO_LIMIT) -> str:
    """Never echo a huge input (a whole pasted license in a file name) back at the person."""
    return message if len(message) <= limit else message[: limit - 1] + "…"


def clip_error(message: str) -> str:
    """An error keeps its explanation, but a long echoed input in it is cut to ECHO_LIMIT."""
    clipped = LONG_RUN.sub(lambda match: clip(match.group(0)), message)
    return clip(clipped, 4 * ECHO_LIMIT)


class ValidateScreen(ConsoleScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "validate", "Validate", id="validate.run"),
        Binding("ctrl+r", "clear", "Clear", id="validate.clear"),
    ]
    WORKER_ERRORS: ClassVar[dict[str, str]] = {"validate": "Cannot validate"}

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(classes="form"):
            yield Label("License file (.lic), or paste its JSON below")
            with Horizontal(classes="form-row"):
                yield Input(placeholder="path/to/license.lic", id="validate-path")
                yield Button("Validate", id="validate", variant="primary")
            yield TextArea(id="validate-json", language=None, show_line_numbers=False)
            yield Static(id="validate-result")

    def on_mount(self) -> None:
        self.query_one("#validate-path", Input).focus()

    def focus_primary(self) -> None:
        self.query_one("#validate-path", Input).focus()

    @on(Input.Submitted, "#validate-path")
    @on(Button.Pressed, "#validate")
    def action_validate(self) -> None:
        path = self.query_one("#validate-path", Input).value.strip()
        pasted = self.query_one("#validate-json", TextArea).text
        if path.startswith("{"):
            # JSON pasted into the path field: it is a license, not a file name
            pasted, path = path, ""
        if not path and not pasted.strip():
            self.notify("give a file path or paste a license", severity="warning")
            return
        self.query_one("#validate-result", Static).update("validating...")
        self._validate(Path(path).expanduser() if path else None, pasted)

    def action_clear(self) -> None:
        self.query_one("#validate-path", Input).value = ""
        self.query_one("#validate-json", TextArea).text = ""
        self.query_one("#validate-result", Static).update("")

    @work(thread=True, exclusive=True, exit_on_error=False, group="validate")
    def _validate(self, path: Path | None, pasted: str) -> tuple[str, ValidationResult]:
        if path is not None:
            document, source = read_license_file(path), str(path)
        else:
            document, source = load_document(pasted, "pasted text"), "pasted text"
        return source, self.services.licenses.validate(document)

    def worker_succeeded(self, group: str, result: Any) -> None:
        source, validation = result
        text = Text("Source: ", style="dim")
        text.append_text(literal(clip(source)))
        text.append("\n")
        text.append_text(validation_text(validation, details=True))
        self.query_one("#validate-result", Static).update(text)

    def worker_failed(self, group: str, error: BaseException | None) -> None:
        from license_console.tui.formatting import error_message

        text = Text.assemble((" CANNOT VALIDATE ", "bold white on red"))
        text.append("\n")
        text.append_text(literal(clip_error(error_message(error))))
        self.query_one("#validate-result", Static).update(text)

"""The Textual App (placeholder until the console screens land)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static

from license_console.config import Settings


class LicenseConsoleApp(App[None]):
    TITLE = "License Console"
    BINDINGS = [("q", "quit", "Quit")]

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("License Console: use the CLI (`license-console --help`) for now.")
        yield Footer()


def run_app(settings: Settings) -> int:
    LicenseConsoleApp(settings).run()
    return 0

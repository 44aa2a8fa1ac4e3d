"""Connect: address, namespace and token; optionally remembered in the OS keyring."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, Static

from license_console import secret_store
from license_console.config import Settings
from license_console.tui.formatting import literal
from license_console.tui.screens.base import ConsoleScreen
from license_console.vault import VaultService


class ConnectScreen(ConsoleScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "connect", "Connect", id="connect.submit"),
    ]
    WORKER_ERRORS: ClassVar[dict[str, str]] = {"connect": "Cannot connect"}

    def compose_body(self) -> ComposeResult:
        settings = self.services.settings
        with VerticalScroll(classes="form"):
            yield Static(Text("Connect to Vault", style="bold"), classes="screen-title")
            yield Static(
                "No token was found (VAULT_TOKEN, ~/.vault-token, the keyring), or you asked "
                "to change it. The token is checked before it is used.",
                classes="hint",
            )
            yield Label("Address")
            yield Input(settings.vault_addr, id="address")
            yield Label("Namespace (optional)")
            yield Input(settings.vault_namespace or "", id="namespace")
            yield Label("Token")
            yield Input(password=True, placeholder="token (s.… or hvs.…)", id="token")
            yield Checkbox(
                "Remember the token in the OS keyring for this address", False, id="remember"
            )
            yield Static("", id="connect-result")
            with Horizontal(classes="form-row"):
                yield Button("Connect", id="connect", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#token", Input).focus()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#connect")
    @on(Input.Submitted)
    def action_connect(self) -> None:
        address = self.query_one("#address", Input).value.strip()
        token = self.query_one("#token", Input).value.strip()
        if not address or not token:
            self.query_one("#connect-result", Static).update(
                Text("address and token are required", style="red")
            )
            return
        namespace = self.query_one("#namespace", Input).value.strip() or None
        settings = self.services.settings.model_copy(
            update={"vault_addr": address.rstrip("/"), "vault_namespace": namespace}
        )
        remember = self.query_one("#remember", Checkbox).value
        self.query_one("#connect-result", Static).update("Checking the token...")
        self._connect(settings, token, remember)

    @work(thread=True, exclusive=True, exit_on_error=False, group="connect")
    def _connect(self, settings: Settings, token: str, remember: bool) -> tuple[VaultService, str]:
        vault = VaultService(settings, token)
        actor = vault.whoami()
        if remember:
            where = secret_store.remember_token(settings.data_dir, settings.vault_addr, token)
            return vault, f"connected as {actor}; token remembered in {where}"
        return vault, f"connected as {actor}"

    def worker_succeeded(self, group: str, result: Any) -> None:
        vault, message = result
        self.console.use_vault(vault)
        self.notify(message, title="Connected", markup=False)
        self.dismiss(None)

    def worker_failed(self, group: str, error: BaseException | None) -> None:
        self.query_one("#connect-result", Static).update(literal(""))

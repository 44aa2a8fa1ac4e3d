"""Vault status: what on-call sees first. Seal state, unseal progress, unseal, seal, init."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, ProgressBar, Static

from license_console.errors import InvalidInput
from license_console.tui.formatting import literal, seal_text
from license_console.tui.modals.confirm import ConfirmModal
from license_console.tui.modals.init_keys import InitKeysModal
from license_console.tui.screens.base import ConsoleScreen
from license_console.tui.widgets.status_line import Connection
from license_console.vault import InitResult, SealStatus, VaultService

HINTS = {
    "unreachable": "Vault does not answer. Is it running, and is VAULT_ADDR right? "
    "The console retries by itself.",
    "uninitialized": "This Vault has never been initialised: create its key shares below.",
    "sealed": "Vault is sealed: nothing can be signed. Enter unseal key shares one at a time.",
    "standby": "This node is a standby: signing goes to the active node.",
    "unsealed": "Vault is unsealed and can sign.",
    "checking": "Checking Vault...",
}


def status_table(status: SealStatus | None) -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    if status is None:
        table.add_row("State", "checking...")
        return table
    table.add_row("State", seal_text(status.state, pill=False))  # aligned with the values below
    table.add_row("Address", literal(status.address))
    if status.reachable:
        table.add_row("Initialised", "yes" if status.initialized else "no")
        table.add_row("Sealed", "yes" if status.sealed else "no")
        if status.initialized:
            table.add_row("Key shares", f"threshold {status.threshold} of {status.shares}")
        table.add_row("Version", literal(status.version or "-"))
        table.add_row("Storage", literal(status.storage_type or "-"))
        table.add_row("Cluster", literal(status.cluster_name or "-"))
        table.add_row("HA mode", literal(status.ha_mode))
    if status.error:
        table.add_row("Error", literal(status.error))
    return table


class StatusScreen(ConsoleScreen):
    AUTO_FOCUS = None  # nothing focused: the global keys work; sealed focuses the unseal input
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh", "Refresh", id="status.refresh"),
        Binding("u", "focus_unseal", "Unseal", id="status.unseal"),
        Binding("ctrl+x", "seal", "Seal", id="status.seal", show=False),
        Binding("c", "app.connect", "Connect", id="status.connect"),
    ]
    WORKER_ERRORS: ClassVar[dict[str, str]] = {
        "unseal": "Unseal failed",
        "seal": "Seal failed",
        "init": "Initialisation failed",
    }

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="status-body"):
            yield Static(id="status-hint")
            yield Static(id="status-table")
            with Vertical(id="unseal-box"):
                yield Label("Unseal progress", id="unseal-label")
                yield ProgressBar(total=1, show_eta=False, id="unseal-progress")
                with Horizontal(classes="form-row"):
                    yield Input(
                        placeholder="unseal key share (hidden)", password=True, id="unseal-key"
                    )
                    yield Button("Unseal", id="unseal", variant="primary")
            with Vertical(id="init-box"):
                yield Label("Initialise: number of key shares and how many unseal")
                with Horizontal(classes="form-row"):
                    yield Input("5", id="init-shares", type="integer", placeholder="shares")
                    yield Input("3", id="init-threshold", type="integer", placeholder="threshold")
                    yield Button("Initialise", id="init", variant="warning")
            with Horizontal(classes="form-row", id="status-actions"):
                yield Button("Refresh", id="refresh")
                yield Button("Seal", id="seal", variant="error")
                yield Button("Connect...", id="connect")

    def on_mount(self) -> None:
        self.watch(self.app, "connection", self._show, init=True)

    def focus_primary(self) -> None:
        """The unseal field only while sealed; otherwise a button, so every global key works."""
        if self.query_one("#unseal-box").display:
            self.query_one("#unseal-key", Input).focus()
        elif self.query_one("#init-box").display:
            self.query_one("#init-shares", Input).focus()
        else:
            self.query_one("#refresh", Button).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer unseal only while sealed and seal only while unsealed (hidden otherwise)."""
        connection = self.console.connection
        state = connection.state if connection else "checking"
        if action == "focus_unseal":
            return state == "sealed"
        if action == "seal":
            return state in ("unsealed", "standby")
        return True

    def _show(self, connection: Connection | None) -> None:
        status = connection.status if connection else None
        state = connection.state if connection else "checking"
        self.query_one("#status-hint", Static).update(Text(HINTS.get(state, ""), style="bold"))
        self.query_one("#status-table", Static).update(status_table(status))
        sealed = status is not None and status.reachable and status.initialized and status.sealed
        box = self.query_one("#unseal-box")
        if sealed != box.display:
            # never keep stray characters (or a share) across a change of state
            self.query_one("#unseal-key", Input).value = ""
        became_sealed = sealed and not box.display
        box.display = sealed
        self.query_one("#init-box").display = state == "uninitialized"
        self.query_one("#seal", Button).display = state in ("unsealed", "standby")
        if became_sealed and self.is_current:
            # on-call's next step: the cursor is where the key goes
            self.call_after_refresh(self.focus_primary)
        elif self.focus_is_hidden():
            # a hidden input with focus would swallow every key, the global bindings included
            self.focus_primary()
        self.refresh_bindings()
        if status is not None and sealed:
            bar = self.query_one("#unseal-progress", ProgressBar)
            bar.update(total=max(status.threshold, 1), progress=status.progress)
            self.query_one("#unseal-label", Label).update(
                f"Unseal progress: {status.progress} of {status.threshold} key shares"
            )

    # -- actions ------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.console.refresh_status()

    def action_focus_unseal(self) -> None:
        box = self.query_one("#unseal-box")
        if box.display:
            self.query_one("#unseal-key", Input).focus()

    def action_seal(self) -> None:
        def confirmed(yes: bool | None) -> None:
            if yes:
                self._seal(self.services.vault)

        self.app.push_screen(
            ConfirmModal(
                "Seal Vault?",
                "Sealing stops all signing until enough key shares are entered again.",
                confirm="Seal",
            ),
            confirmed,
        )

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        match event.button.id:
            case "unseal":
                self._submit_unseal()
            case "seal":
                self.action_seal()
            case "refresh":
                self.action_refresh()
            case "connect":
                self.console.action_connect()
            case "init":
                self._start_init()

    @on(Input.Submitted, "#unseal-key")
    def _submit_unseal(self) -> None:
        field = self.query_one("#unseal-key", Input)
        key = field.value.strip()
        field.value = ""  # never keep a share on screen longer than needed
        if key:
            self._unseal(self.services.vault, key)

    def _start_init(self) -> None:
        try:
            shares = int(self.query_one("#init-shares", Input).value or "0")
            threshold = int(self.query_one("#init-threshold", Input).value or "0")
        except ValueError:
            shares = threshold = 0
        if not 1 <= threshold <= shares:
            self.notify("threshold must be between 1 and the number of shares", severity="error")
            return
        self._init(self.services.vault, shares, threshold)

    # -- workers ------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="unseal")
    def _unseal(self, vault: VaultService, key: str) -> SealStatus:
        return vault.unseal(key)

    @work(thread=True, exclusive=True, exit_on_error=False, group="seal")
    def _seal(self, vault: VaultService) -> SealStatus:
        return vault.seal()

    @work(thread=True, exclusive=True, exit_on_error=False, group="init")
    def _init(self, vault: VaultService, shares: int, threshold: int) -> tuple[InitResult, int]:
        if shares > 20:
            raise InvalidInput("at most 20 key shares")
        return vault.initialize(shares, threshold), threshold

    def worker_succeeded(self, group: str, result: Any) -> None:
        if group in ("unseal", "seal"):
            self.console.apply_status(result)  # the app announces the new state
        elif group == "init":
            init_result, threshold = result
            self.console.refresh_status()

            def done(use_root: bool | None) -> None:
                if use_root:
                    vault = VaultService(
                        self.services.settings, init_result.root_token.get_secret_value()
                    )
                    self.console.use_vault(vault)

            self.app.push_screen(InitKeysModal(init_result, threshold), done)

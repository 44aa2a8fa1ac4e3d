"""The console's App: modes, global bindings, the background Vault check and the services."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import var
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import LoadingIndicator, Static

from license_console.config import Settings
from license_console.errors import LicenseConsoleError
from license_console.operations import LicenseService
from license_console.services import Services, build_services
from license_console.tui.modals.help import HelpModal
from license_console.tui.screens.audit import AuditScreen
from license_console.tui.screens.base import ConsoleScreen, WorkerResults
from license_console.tui.screens.batch import BatchScreen
from license_console.tui.screens.connect import ConnectScreen
from license_console.tui.screens.issue import IssueScreen
from license_console.tui.screens.keys import KeysScreen
from license_console.tui.screens.licenses import LicensesScreen
from license_console.tui.screens.status import StatusScreen
from license_console.tui.screens.validate import ValidateScreen
from license_console.tui.widgets.status_line import Connection
from license_console.vault import SealStatus, VaultService

NAVIGATION = ("show", "search", "connect")
NEEDS_ATTENTION = ("sealed", "uninitialized")


class LicenseConsoleApp(WorkerResults, App[None]):
    """Holds the services and the connection state; every screen reads them from here."""

    TITLE = "License Console"
    CSS_PATH = "console.tcss"
    ENABLE_COMMAND_PALETTE = True
    MODES: ClassVar[dict[str, Any]] = {
        "status": StatusScreen,
        "licenses": LicensesScreen,
        "issue": IssueScreen,
        "batch": BatchScreen,
        "validate": ValidateScreen,
        "audit": AuditScreen,
        "keys": KeysScreen,
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "show('status')", "Status", id="status", show=False),
        Binding("l", "show('licenses')", "Licenses", id="licenses"),
        Binding("n", "show('issue')", "New", id="issue"),
        Binding("b", "show('batch')", "Batch import", id="batch", show=False),
        Binding("v", "show('validate')", "Validate", id="validate", show=False),
        Binding("a", "show('audit')", "Audit log", id="audit", show=False),
        Binding("k", "show('keys')", "Keys", id="keys", show=False),
        Binding("slash", "search", "Search licenses", id="search", show=False),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("escape", "back", "Back", id="back", show=False),
        Binding("q", "quit", "Quit", id="quit"),
    ]
    WORKER_ERRORS: ClassVar[dict[str, str]] = {
        "services": "Cannot open the registry",
        "status": "Vault status check failed",
    }
    connection: var[Connection | None] = var(None)

    def __init__(
        self,
        settings: Settings,
        services: Services | None = None,
        *,
        refresh_interval: float = 5.0,
        out_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.services = services
        self.refresh_interval = refresh_interval
        self.out_dir = out_dir or Path.cwd()
        self._timer: Timer | None = None
        self._first_check = True

    def compose(self) -> ComposeResult:
        yield Static("Opening the registry...", id="opening")
        yield LoadingIndicator()

    def on_mount(self) -> None:
        if self.services is None:
            self._build_services()
        else:
            self._services_ready()

    @work(thread=True, exclusive=True, exit_on_error=False, group="services")
    def _build_services(self) -> Services:
        return build_services(self.settings)

    def worker_succeeded(self, group: str, result: Any) -> None:
        if group == "services":
            self.services = result
            self._services_ready()
        elif group == "status":
            self._apply_check(*result)

    def worker_failed(self, group: str, error: BaseException | None) -> None:
        if group == "services":
            self.query_one("#opening", Static).update(
                "The registry cannot be opened; see the notification. Press q to quit."
            )

    def _services_ready(self) -> None:
        services = self.services
        assert services is not None
        self.connection = Connection(
            address=services.settings.vault_addr, namespace=services.settings.vault_namespace
        )
        self.action_show("licenses")
        if not services.vault.has_token:
            self.push_screen(ConnectScreen())
        self._timer = self.set_interval(self.refresh_interval, self.refresh_status)
        self.refresh_status()

    # -- the background Vault check -------------------------------------------------------------

    def now(self) -> datetime:
        """The services' clock, so tests and snapshots can fix time."""
        assert self.services is not None
        return self.services.licenses.clock()

    @work(thread=True, exclusive=True, exit_on_error=False, group="status")
    def refresh_status(self) -> tuple[VaultService, SealStatus, str | None, datetime]:
        assert self.services is not None
        vault = self.services.vault
        status = vault.status()
        actor: str | None = None
        if status.state in ("unsealed", "standby") and vault.has_token:
            try:
                actor = vault.whoami()
            except LicenseConsoleError:
                actor = "(token rejected)"
        return vault, status, actor, self.now()

    def apply_status(self, status: SealStatus) -> None:
        """A status obtained elsewhere (after unseal or seal): show it, then check fully."""
        self._apply_check(self.services.vault if self.services else None, status, None, self.now())
        self.refresh_status()

    def _apply_check(
        self, vault: VaultService | None, status: SealStatus, actor: str | None, at: datetime
    ) -> None:
        if self.services is None or vault is not self.services.vault:
            return  # the connection changed while this check ran
        previous = self.connection.state if self.connection else "checking"
        settings = self.services.settings
        self.connection = Connection(
            address=settings.vault_addr,
            namespace=settings.vault_namespace,
            status=status,
            actor=actor or (self.connection.actor if self.connection else None),
            checked_at=at,
        )
        self._announce(previous, status)

    def _announce(self, previous: str, status: SealStatus) -> None:
        state = status.state
        if self._first_check:
            self._first_check = False
            if state in NEEDS_ATTENTION:
                self.action_show("status")
            elif state == "unreachable":
                self.notify(
                    f"{status.error or 'Vault is unreachable'}. The registry can still be browsed.",
                    title="Vault unreachable",
                    severity="warning",
                    markup=False,
                )
            return
        if state == previous:
            return
        if state == "unsealed":
            self.notify(f"Vault is {state} again.", title="Vault", markup=False)
        elif state in ("unreachable", "sealed"):
            self.notify(
                f"Vault is {state}: signing is unavailable; the registry can still be browsed.",
                title="Vault",
                severity="warning",
                markup=False,
            )

    def use_vault(self, vault: VaultService) -> None:
        """Switch every service to a new connection (the Connect screen, a fresh root token)."""
        services = self.services
        assert services is not None
        services.vault = vault
        services.settings = vault.settings
        services.licenses = LicenseService(
            vault.settings, vault, services.registry, clock=services.licenses.clock
        )
        self.connection = Connection(
            address=vault.settings.vault_addr, namespace=vault.settings.vault_namespace
        )
        self.refresh_status()

    # -- global actions -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in NAVIGATION and (self.services is None or isinstance(self.screen, ModalScreen)):
            return False
        return True

    def action_show(self, mode: str) -> None:
        """Show a mode with its primary widget focused (modes keep their screens between visits)."""
        if self.current_mode == mode and len(self.screen_stack) == 1:
            self._focus_primary()
            return
        if self.current_mode == mode:
            while len(self.screen_stack) > 1:
                self.pop_screen()
        else:
            self.switch_mode(mode)
        screen = self.screen_stack[0] if self.current_mode == mode else self.screen
        if isinstance(screen, ConsoleScreen):
            screen.focus_primary_when_shown()

    def _focus_primary(self) -> None:
        screen = self.screen
        if isinstance(screen, ConsoleScreen):
            screen.focus_primary()

    def action_search(self) -> None:
        self.action_show("licenses")
        screen = self.screen_stack[0]
        if isinstance(screen, LicensesScreen):
            screen.focus_primary_when_shown(screen.focus_search)

    def action_connect(self) -> None:
        self.push_screen(ConnectScreen())

    async def action_back(self) -> None:
        if len(self.screen_stack) > 1:
            self.pop_screen()
        elif self.services is not None and self.current_mode != "licenses":
            self.action_show("licenses")

    def action_help(self) -> None:
        if isinstance(self.screen, HelpModal):
            return
        self.push_screen(HelpModal(self.BINDINGS, list(type(self.screen).BINDINGS)))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Connect", "Vault address, namespace and token", self.action_connect)
        for binding in self.BINDINGS:
            if isinstance(binding, Binding) and binding.id not in ("back", "quit"):
                yield SystemCommand(
                    binding.description,
                    f"{self.get_key_display(binding)}: go to {binding.description.lower()}",
                    _runner(self, binding.action),
                )
        for binding in type(screen).BINDINGS:
            if isinstance(binding, Binding) and binding.description:
                yield SystemCommand(
                    binding.description,
                    f"{self.get_key_display(binding)} on this screen",
                    _runner(screen, binding.action),
                )

    def on_unmount(self) -> None:
        if self._timer is not None:
            self._timer.stop()


def _runner(target: App[Any] | Screen[Any], action: str) -> Any:
    async def run() -> None:
        await target.run_action(action)

    return run


def create_app(
    settings: Settings,
    services: Services | None = None,
    *,
    refresh_interval: float = 5.0,
    out_dir: Path | None = None,
) -> LicenseConsoleApp:
    """The app for these settings; tests and scripts pass ready services (test server, tmp db)."""
    return LicenseConsoleApp(settings, services, refresh_interval=refresh_interval, out_dir=out_dir)


def run_app(settings: Settings) -> int:
    app = create_app(settings)
    try:
        app.run()
    finally:
        if app.services is not None:
            app.services.close()
    return 0

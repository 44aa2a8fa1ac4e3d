"""The base of every full screen: status line on top, footer below, worker errors as toasts."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from license_console.services import Services
from license_console.tui.formatting import error_message
from license_console.tui.widgets.status_line import StatusLine

if TYPE_CHECKING:
    from license_console.tui.app import LicenseConsoleApp


class WorkerResults:
    """Route a finished worker to `worker_succeeded`, a failed one to a notification.

    Every group a screen starts must be named in WORKER_ERRORS, which titles its failures, so
    no error is ever silent (the workers run with exit_on_error=False).
    """

    WORKER_ERRORS: ClassVar[dict[str, str]] = {}

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is WorkerState.SUCCESS:
            self.worker_succeeded(worker.group, worker.result)
        elif event.state is WorkerState.ERROR:
            title = self.WORKER_ERRORS.get(worker.group, "Error")
            node = cast(Screen[Any], self)
            node.notify(error_message(worker.error), title=title, severity="error", markup=False)
            self.worker_failed(worker.group, worker.error)

    def worker_succeeded(self, group: str, result: Any) -> None:
        """Apply a result on the main thread; override per screen."""

    def worker_failed(self, group: str, error: BaseException | None) -> None:
        """Undo a loading state after a failure; override when needed."""


class ConsoleScreen(WorkerResults, Screen[Any]):
    """A screen of the console: subclasses implement compose_body."""

    @property
    def console(self) -> LicenseConsoleApp:
        return cast("LicenseConsoleApp", self.app)

    @property
    def services(self) -> Services:
        services = self.console.services
        if services is None:  # screens are only created once services exist
            raise RuntimeError("services are not ready")
        return services

    def compose(self) -> ComposeResult:
        yield StatusLine()
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    _focus_when_shown: Callable[[], None] | None = None

    def focus_primary_when_shown(self, focus: Callable[[], None] | None = None) -> None:
        """Focus the primary widget (or run `focus`) once this screen is shown, or now."""
        focus = focus or self.focus_primary
        if self.is_current and self.is_mounted:
            self.call_after_refresh(focus)
        else:
            self._focus_when_shown = focus

    def on_screen_resume(self) -> None:
        focus, self._focus_when_shown = self._focus_when_shown, None
        if focus is not None:
            self.call_after_refresh(focus)

    def focus_primary(self) -> None:
        """Put the cursor where this screen's work starts; called whenever its mode is shown.

        Modes are reused, so without this a screen comes back with the focus it had, often a
        text field that then swallows the navigation keys.
        """
        self.set_focus(None)

    def focus_is_hidden(self) -> bool:
        """The focused widget (or one of its containers) is hidden: it would swallow keys."""
        focused = self.focused
        return focused is not None and any(
            isinstance(node, Widget) and not node.display for node in focused.ancestors_with_self
        )

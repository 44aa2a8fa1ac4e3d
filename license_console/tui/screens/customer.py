"""Support's view: every license of one customer, their state and expiry."""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from license_console.registry import LicenseRecord, ListQuery
from license_console.tui.formatting import STATUS_STYLES, literal
from license_console.tui.screens.base import ConsoleScreen
from license_console.tui.widgets.license_table import LicenseTable

MAX_ROWS = 1000


class CustomerScreen(ConsoleScreen):
    AUTO_FOCUS = "LicenseTable"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", id="customer.open", show=False),
    ]
    WORKER_ERRORS: ClassVar[dict[str, str]] = {"customer": "Cannot list the customer"}

    def __init__(self, customer: str) -> None:
        super().__init__()
        self.customer = customer

    def compose_body(self) -> ComposeResult:
        title = Text("Customer ", style="bold")
        title.append_text(literal(self.customer))
        yield Static(title, classes="screen-title")
        yield Static(id="customer-summary")
        yield LicenseTable(widget_id="customer-table", show_customer=False)

    def focus_primary(self) -> None:
        self.query_one(LicenseTable).focus()

    def on_mount(self) -> None:
        self.query_one(LicenseTable).loading = True
        self._load(self.customer)

    @work(thread=True, exclusive=True, exit_on_error=False, group="customer")
    def _load(self, customer: str) -> list[LicenseRecord]:
        query = ListQuery(
            customer_exact=customer, limit=MAX_ROWS, sort="expires_at", descending=True
        )
        return self.services.licenses.list(query).licenses

    def worker_succeeded(self, group: str, result: Any) -> None:
        table = self.query_one(LicenseTable)
        table.loading = False
        table.show(result, self.console.now())
        counts = Counter(r.status for r in result)
        summary = Text(f"{len(result)} licenses  ")
        for status, count in sorted(counts.items()):
            summary.append(f"{status} {count}", style=STATUS_STYLES.get(status, ""))
            summary.append("  ")
        self.query_one("#customer-summary", Static).update(summary)

    def worker_failed(self, group: str, error: BaseException | None) -> None:
        self.query_one(LicenseTable).loading = False

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        from license_console.tui.screens.detail import DetailScreen

        if event.row_key.value is not None:
            self.app.push_screen(DetailScreen(str(event.row_key.value)))

    def action_open(self) -> None:
        from license_console.tui.screens.detail import DetailScreen

        selected = self.query_one(LicenseTable).selected_id
        if selected:
            self.app.push_screen(DetailScreen(selected))

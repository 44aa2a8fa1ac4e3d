"""The license list: search as you type, filters, sorting, and pages read from the database.

Every query runs in a worker and a newer query cancels the older one (see paged.py).
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Input, Select, Static

from license_console.registry import STATUSES, LicenseRecord, ListQuery, ListResult
from license_console.tui.screens.paged import (
    PAGE_SIZE,
    PagedScreen,
    page_bindings,
    page_numbers,
)
from license_console.tui.widgets.license_table import LicenseTable

EXPIRING = [("<= 7d", 7), ("<= 30d", 30), ("<= 90d", 90)]
SORTS: list[tuple[str, tuple[str, bool]]] = [
    ("newest", ("issued_at", True)),
    ("expiring", ("expires_at", False)),
    ("customer", ("customer", False)),
    ("id", ("license_id", False)),
]


class SearchInput(Input):
    """The search box: Enter or Down go to the results; Escape clears it and goes there too."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "leave", "To the results", show=False),
        Binding("escape", "clear_or_leave", "Clear search and leave it", show=False),
    ]

    class Leave(Message):
        """The person is done typing: the screen moves the focus to the table."""

    def action_leave(self) -> None:
        self.post_message(self.Leave())

    def action_clear_or_leave(self) -> None:
        self.value = ""
        self.post_message(self.Leave())


class LicensesScreen(PagedScreen):
    AUTO_FOCUS = "LicenseTable"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", id="licenses.open", show=False),
        Binding("c", "customer", "Customer", id="licenses.customer"),
        *page_bindings("licenses"),
        Binding("r", "reload", "Reload", id="licenses.reload", show=False),
        Binding("ctrl+l", "clear_filters", "Clear filters", id="licenses.clear", show=False),
    ]
    WORKER_ERRORS: ClassVar[dict[str, str]] = {
        "licenses": "Cannot list licenses",
        "modules": "Cannot list modules",
    }

    def __init__(self) -> None:
        super().__init__()
        self.records: dict[str, LicenseRecord] = {}

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="filters"):
            yield SearchInput(placeholder="/ search customer or license id", id="search")
            yield Select[str]([(s, s) for s in STATUSES], prompt="status", id="status-filter")
            yield Select[str]([], prompt="module", id="module-filter")
            yield Select[int](EXPIRING, prompt="expiry", id="expiring-filter")
            yield Select[tuple[str, bool]](SORTS, value=SORTS[0][1], allow_blank=False, id="sort")
        yield LicenseTable(widget_id="licenses-table")
        yield Static(id="page-info")

    def on_mount(self) -> None:
        self.reload()
        self._load_modules()

    def on_screen_resume(self) -> None:
        if self.is_mounted:
            self.reload(keep_cursor=True)

    def focus_primary(self) -> None:
        self.query_one(LicenseTable).focus()

    def focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    @on(SearchInput.Leave)
    def _leave_search(self) -> None:
        self.query_one(LicenseTable).focus()

    def action_clear_filters(self) -> None:
        """Search and every filter back to their defaults (the sort stays)."""
        with self.prevent(Input.Changed, Select.Changed):
            self.query_one("#search", Input).value = ""
            for selector in ("#status-filter", "#module-filter", "#expiring-filter"):
                self.query_one(selector, Select).clear()
        self.page_offset = 0
        self.reload()

    # -- query --------------------------------------------------------------------------------

    def list_query(self) -> ListQuery:
        def chosen(selector: str) -> Any:
            value = self.query_one(selector, Select).value
            return None if value is Select.NULL else value

        sort, descending = chosen("#sort") or SORTS[0][1]
        return ListQuery(
            search=self.query_one("#search", Input).value.strip() or None,
            status=chosen("#status-filter"),
            module=chosen("#module-filter"),
            expiring_within=chosen("#expiring-filter"),
            sort=sort,
            descending=descending,
            limit=PAGE_SIZE,
            offset=self.page_offset,
        )

    def reload(self, keep_cursor: bool = False) -> None:
        self.query_one(LicenseTable).loading = self.query_one(LicenseTable).row_count == 0
        self._list(self.list_query(), keep_cursor)

    @work(thread=True, exclusive=True, exit_on_error=False, group="licenses")
    def _list(self, query: ListQuery, keep_cursor: bool) -> tuple[ListResult, ListQuery, bool]:
        return self.services.licenses.list(query), query, keep_cursor

    @work(thread=True, exclusive=True, exit_on_error=False, group="modules")
    def _load_modules(self) -> list[str]:
        return self.services.registry.modules()

    def worker_succeeded(self, group: str, result: Any) -> None:
        if group == "modules":
            select = self.query_one("#module-filter", Select)
            current = select.value
            select.set_options([(m, m) for m in result])
            if current in result:
                select.value = current
            return
        listing, query, keep_cursor = result
        table = self.query_one(LicenseTable)
        table.loading = False
        self.total = listing.total
        self.records = {r.license_id: r for r in listing.licenses}
        table.show(listing.licenses, self.console.now(), keep_cursor)
        self._page_info(query, len(listing.licenses))

    def worker_failed(self, group: str, error: BaseException | None) -> None:
        self.query_one(LicenseTable).loading = False

    def _page_info(self, query: ListQuery, shown: int) -> None:
        if not shown:
            filtered = query.search or query.status or query.module or query.expiring_within
            text = Text.assemble((" no licenses match" if filtered else " no licenses yet", "bold"))
            if filtered:
                text.append("  ctrl+l clears the search and filters", style="dim")
            self.query_one("#page-info", Static).update(text)
            return
        page, pages = page_numbers(query.offset, self.total)
        text = Text(f" {query.offset + 1}-{query.offset + shown} of {self.total:,}", style="bold")
        text.append(f"  page {page}/{pages}  ", style="dim")
        text.append("enter open · c customer · [ ] pages · / search", style="dim")
        self.query_one("#page-info", Static).update(text)

    # -- events -------------------------------------------------------------------------------

    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        self.filters_typed()

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self.query_one(LicenseTable).focus()

    @on(Select.Changed)
    def _filters_changed(self) -> None:
        self.filters_changed()

    @on(LicenseTable.PageRequest)
    def _page_request(self, event: LicenseTable.PageRequest) -> None:
        self.action_page(event.step)

    def page_changed(self) -> None:
        self.query_one(LicenseTable).move_cursor(row=0)

    def action_reload(self) -> None:
        self.reload(keep_cursor=True)
        self._load_modules()

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self._open(str(event.row_key.value))

    def action_open(self) -> None:
        selected = self.query_one(LicenseTable).selected_id
        if selected:
            self._open(selected)

    def _open(self, license_id: str) -> None:
        from license_console.tui.screens.detail import DetailScreen

        self.app.push_screen(DetailScreen(license_id))

    def action_customer(self) -> None:
        from license_console.tui.screens.customer import CustomerScreen

        selected = self.query_one(LicenseTable).selected_id
        if selected and selected in self.records:
            self.app.push_screen(CustomerScreen(self.records[selected].customer))

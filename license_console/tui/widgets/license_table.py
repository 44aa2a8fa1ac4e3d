"""A DataTable of licenses that asks for the next page when paged past its last row.

The full 26-character ULID is always shown: licenses issued in the same millisecond (batches)
share any shorter prefix. The customer column takes what is left of the width after the id,
status and expiry, so those four fit in 80 columns; the rest scroll off to the right.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widgets import DataTable

from license_console.registry import LicenseRecord
from license_console.tui.formatting import day, expiry_text, literal, status_text

ID_WIDTH = 26
CUSTOMER_MIN, CUSTOMER_MAX = 12, 30
# (label, width); Customer's width follows the table's width
COLUMNS: tuple[tuple[str, int | None], ...] = (
    ("ID", ID_WIDTH),
    ("Customer", CUSTOMER_MIN),
    ("Status", 10),
    ("Expires", 18),
    ("Modules", None),
    ("Key", 3),
    ("Issued", 10),
)
ESSENTIAL = ("ID", "Status", "Expires")
SCROLLBAR = 2


def customer_width(table_width: int) -> int:
    """What the customer column gets once the id, status and expiry (with padding) fit."""
    fixed = sum(width or 0 for label, width in COLUMNS if label in ESSENTIAL)
    padding = 2 * (len(ESSENTIAL) + 1)
    return max(CUSTOMER_MIN, min(CUSTOMER_MAX, table_width - SCROLLBAR - fixed - padding))


class LicenseTable(DataTable[Text | str]):
    class PageRequest(Message):
        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    def __init__(self, *, widget_id: str | None = None, show_customer: bool = True) -> None:
        super().__init__(id=widget_id, cursor_type="row", zebra_stripes=True)
        self.show_customer = show_customer
        self._customer_width = CUSTOMER_MIN
        self._records: list[LicenseRecord] = []
        self._now: datetime | None = None

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        for label, width in COLUMNS:
            if label == "Customer":
                if not self.show_customer:
                    continue
                width = self._customer_width
            self.add_column(label, width=width, key=label)

    def on_resize(self, event: events.Resize) -> None:
        width = customer_width(event.size.width)
        if width != self._customer_width and self.show_customer:
            self._customer_width = width
            row = self.cursor_row
            self.clear(columns=True)
            self._add_columns()
            if self._now is not None:
                self._add_rows()
                if self._records:
                    self.move_cursor(row=min(row, len(self._records) - 1))

    def show(self, records: list[LicenseRecord], now: datetime, keep_cursor: bool = False) -> None:
        row = self.cursor_row
        self._records, self._now = records, now
        self.clear()
        self._add_rows()
        if keep_cursor and records:
            self.move_cursor(row=min(row, len(records) - 1))

    def _add_rows(self) -> None:
        assert self._now is not None
        for record in self._records:
            cells: list[Text] = [Text(record.license_id)]
            if self.show_customer:
                cells.append(literal(record.customer))
            cells += [
                status_text(record.status),
                expiry_text(record.expires_at, self._now, record.status),
                literal(", ".join(record.modules)),
                Text(f"v{record.key_version}"),
                Text(day(record.issued_at)),
            ]
            self.add_row(*cells, key=record.license_id)

    @property
    def selected_id(self) -> str | None:
        if self.row_count == 0:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return str(key.value) if key.value is not None else None

    def action_page_down(self) -> None:
        if self.row_count and self.cursor_row >= self.row_count - 1:
            self.post_message(self.PageRequest(1))
            return
        super().action_page_down()

    def action_page_up(self) -> None:
        if self.cursor_row <= 0:
            self.post_message(self.PageRequest(-1))
            return
        super().action_page_up()

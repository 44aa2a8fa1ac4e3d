"""A DataTable of licenses that asks for the next page when paged past its last row."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from license_console.registry import LicenseRecord
from license_console.tui.formatting import day, expiry_text, literal, short_id, status_text

# (label, width): the columns support needs most come first, so they fit in 80 columns
COLUMNS: tuple[tuple[str, int | None], ...] = (
    ("ID", 12),
    ("Customer", 20),
    ("Status", 10),
    ("Expires", 18),
    ("Modules", None),
    ("Key", 3),
    ("Issued", 10),
)


class LicenseTable(DataTable[Text | str]):
    class PageRequest(Message):
        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    def __init__(self, *, widget_id: str | None = None) -> None:
        super().__init__(id=widget_id, cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        for label, width in COLUMNS:
            self.add_column(label, width=width)

    def show(self, records: list[LicenseRecord], now: datetime, keep_cursor: bool = False) -> None:
        row = self.cursor_row
        self.clear()
        for record in records:
            self.add_row(
                Text(short_id(record.license_id)),
                literal(record.customer),
                status_text(record.status),
                expiry_text(record.expires_at, now, record.status),
                literal(", ".join(record.modules)),
                Text(f"v{record.key_version}"),
                Text(day(record.issued_at)),
                key=record.license_id,
            )
        if keep_cursor and records:
            self.move_cursor(row=min(row, len(records) - 1))

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

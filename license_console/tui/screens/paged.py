"""A screen that shows one page of a database query at a time (licenses, audit log).

Only PAGE_SIZE rows are ever fetched, so a registry of 100,000 rows opens as fast as one of
ten; typing in a filter refetches after a short pause instead of on every key.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.timer import Timer

from license_console.tui.screens.base import ConsoleScreen

PAGE_SIZE = 100
DEBOUNCE = 0.25


def page_bindings(prefix: str) -> list[Binding]:
    return [
        Binding("right_square_bracket", "page(1)", "Next page", id=f"{prefix}.next", show=False),
        Binding("left_square_bracket", "page(-1)", "Prev page", id=f"{prefix}.prev", show=False),
    ]


def page_numbers(offset: int, total: int) -> tuple[int, int]:
    """(this page, number of pages), both from 1."""
    return offset // PAGE_SIZE + 1, max(1, -(-total // PAGE_SIZE))


class PagedScreen(ConsoleScreen):
    """Subclasses implement reload(), which fetches the page at `page_offset` in a worker."""

    def __init__(self) -> None:
        super().__init__()
        self.page_offset = 0
        self.total = 0
        self._debounce: Timer | None = None

    def reload(self) -> None:
        raise NotImplementedError

    def filters_typed(self) -> None:
        """A filter changed under the keyboard: refetch from page 1 once typing pauses."""
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(DEBOUNCE, self.filters_changed)

    def filters_changed(self) -> None:
        self.page_offset = 0
        self.reload()

    def action_page(self, step: int) -> None:
        offset = self.page_offset + step * PAGE_SIZE
        if offset < 0 or offset >= max(self.total, 1):
            self.app.bell()
            return
        self.page_offset = offset
        self.reload()
        self.page_changed()

    def page_changed(self) -> None:
        """After a page step; override to move the cursor."""

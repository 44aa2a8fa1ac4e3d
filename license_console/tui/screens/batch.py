"""Batch import: pick a CSV/JSON file, preview it with per-row problems, issue with progress."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, DataTable, Input, ProgressBar, Static

from license_console.batch_file import (
    BatchEntry,
    BatchError,
    BatchResult,
    check_entry,
    read_batch_file,
)
from license_console.errors import LicenseConsoleError
from license_console.licenses import utcnow
from license_console.tui.formatting import compact_json, literal
from license_console.tui.modals.confirm import ConfirmModal
from license_console.tui.screens.base import ConsoleScreen

PREVIEW_ROWS = 1000
PROBLEM_WIDTH = 40  # the customer stays in view; the highlighted row's is shown in full below


def row_problem(entry: BatchEntry) -> str | None:
    """The same check batch_issue applies to a row, run before anything is signed."""
    try:
        check_entry(entry, utcnow())
    except LicenseConsoleError as exc:
        return exc.message
    return None


class BatchProgress(Message):
    """Posted from the batch worker; a newer one replaces an unprocessed older one."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__()
        self.done = done
        self.total = total

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, BatchProgress)


class BatchScreen(ConsoleScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+o", "load", "Load file", id="batch.load"),
        Binding("ctrl+s", "run", "Issue valid rows", id="batch.run"),
        Binding("ctrl+x", "cancel_batch", "Cancel batch", id="batch.cancel", show=False),
    ]
    WORKER_ERRORS: ClassVar[dict[str, str]] = {
        "batch-read": "Cannot read the batch file",
        "batch-run": "Batch failed",
    }

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[BatchEntry] = []
        self.read_errors: list[BatchError] = []
        self.source: Path | None = None
        self._ready = 0
        self.problems: dict[str, str] = {}  # row key -> the full problem of that row
        self._cancel = threading.Event()

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="form-row", id="batch-file-row"):
            yield Input(placeholder="path to a .csv or .json batch file", id="batch-path")
            yield Button("Load", id="load")
        yield Static(id="batch-summary")
        yield DataTable(id="batch-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="batch-row-problem", classes="error")
        yield ProgressBar(id="batch-progress", show_eta=False)
        with Horizontal(classes="form-row", id="batch-actions"):
            yield Button("Issue valid rows", id="run", variant="primary", disabled=True)
            yield Button("Cancel", id="cancel-batch", disabled=True)

    def on_mount(self) -> None:
        table = self.query_one("#batch-table", DataTable)
        # the problem right after the row number: it is what people read first
        table.add_column("Row")
        table.add_column("Problem", width=PROBLEM_WIDTH)
        table.add_columns("Customer", "Modules", "Expires", "Metadata")
        self.query_one("#batch-progress").display = False
        self.query_one("#batch-path", Input).focus()

    def focus_primary(self) -> None:
        """The path while there is none; otherwise the preview, so the global keys work."""
        path = self.query_one("#batch-path", Input)
        if path.value.strip():
            self.query_one("#batch-table", DataTable).focus()
        else:
            path.focus()

    def _forget(self) -> None:
        """No preview, no entries: nothing Ctrl+S could issue by mistake."""
        self.entries, self.read_errors, self.source, self._ready = [], [], None, 0
        self.problems = {}
        self.query_one("#batch-table", DataTable).clear()
        self.query_one("#batch-row-problem", Static).update("")
        self.query_one("#run", Button).disabled = True

    @on(DataTable.RowHighlighted, "#batch-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        problem = self.problems.get(str(event.row_key.value), "")
        self.query_one("#batch-row-problem", Static).update(literal(problem))

    # -- load and preview ---------------------------------------------------------------------

    @on(Input.Submitted, "#batch-path")
    def action_load(self) -> None:
        raw = self.query_one("#batch-path", Input).value.strip()
        if raw:
            self._forget()
            self.query_one("#batch-summary", Static).update(Text("reading...", style="dim"))
            self.query_one("#batch-table").loading = True
            self._read(Path(raw).expanduser())

    @work(thread=True, exclusive=True, exit_on_error=False, group="batch-read")
    def _read(self, path: Path) -> tuple[Path, list[BatchEntry], list[BatchError], dict[int, str]]:
        entries, errors = read_batch_file(path)
        problems = {e.row: p for e in entries if (p := row_problem(e)) is not None}
        return path, entries, errors, problems

    def _show_preview(
        self,
        path: Path,
        entries: list[BatchEntry],
        errors: list[BatchError],
        problems: dict[int, str],
    ) -> None:
        self.entries, self.read_errors, self.source = entries, errors, path
        table = self.query_one("#batch-table", DataTable)
        table.loading = False
        table.clear()
        rows: list[tuple[int, list[Text]]] = []
        for entry in entries:
            problem = problems.get(entry.row)
            cells = [
                Text(problem or "ok", style="red" if problem else "green"),
                literal(entry.customer if entry.customer is not None else ""),
                literal(entry.modules if entry.modules is not None else ""),
                literal(entry.expires_at if entry.expires_at is not None else ""),
                literal(compact_json(entry.metadata) if entry.metadata else ""),
            ]
            rows.append((entry.row, cells))
        for error in errors:
            rows.append((error.row, _error_cells(error)))
        self.problems = {str(e.row): e.error for e in errors}
        self.problems.update({str(row): problem for row, problem in problems.items()})
        for row, cells in sorted(rows, key=lambda r: r[0])[:PREVIEW_ROWS]:
            table.add_row(Text(str(row)), *cells, key=str(row))
        bad = len(problems) + len(errors)
        good = len(entries) - len(problems)
        summary = Text(f"{good} rows ready", style="bold green")
        summary.append(f", {bad} with problems", style="bold red" if bad else "dim")
        if len(rows) > PREVIEW_ROWS:
            summary.append(f" (showing the first {PREVIEW_ROWS})", style="dim")
        self.query_one("#batch-summary", Static).update(summary)
        self._ready = good
        self.query_one("#run", Button).disabled = good == 0

    # -- run ----------------------------------------------------------------------------------

    def action_run(self) -> None:
        if not self.entries or self.source is None or self.query_one("#run", Button).disabled:
            self.notify("load a batch file with valid rows first", severity="warning")
            return
        body = Text(f"Issue {self._ready} licenses from ")
        body.append_text(literal(str(self.source)))
        body.append("?")
        rejected = len(self.entries) - self._ready + len(self.read_errors)
        if rejected:
            body.append(f"\n{rejected} rows with problems will be rejected.")

        def confirmed(yes: bool | None) -> None:
            if yes and self.entries:
                self._start()

        self.app.push_screen(
            ConfirmModal("Issue licenses?", body, "Issue", danger=False), confirmed
        )

    def _start(self) -> None:
        self._cancel.clear()
        bar = self.query_one("#batch-progress", ProgressBar)
        bar.display = True
        bar.update(total=len(self.entries), progress=0)
        self.query_one("#run", Button).disabled = True
        self.query_one("#cancel-batch", Button).disabled = False
        self._run(list(self.entries), list(self.read_errors))

    def action_cancel_batch(self) -> None:
        self._cancel.set()

    @work(thread=True, exclusive=True, exit_on_error=False, group="batch-run")
    def _run(self, entries: list[BatchEntry], read_errors: list[BatchError]) -> BatchResult:
        def progress(done: int, total: int) -> None:
            self.post_message(BatchProgress(done, total))

        result = self.services.licenses.batch_issue(
            entries,
            progress=progress,
            cancelled=self._cancel.is_set,
        )
        result.errors = sorted([*read_errors, *result.errors], key=lambda e: e.row)
        return result

    @on(BatchProgress)
    def _progress(self, event: BatchProgress) -> None:
        bar = self.query_one("#batch-progress", ProgressBar)
        bar.update(total=event.total, progress=event.done)

    def _show_result(self, result: BatchResult) -> None:
        self.query_one("#cancel-batch", Button).disabled = True
        bar = self.query_one("#batch-progress", ProgressBar)
        bar.update(progress=bar.total or 0)
        summary = Text(f"Issued {len(result.issued)}", style="bold green")
        rejected_style = "bold red" if result.errors else ""
        summary.append(f", rejected {len(result.errors)}", style=rejected_style)
        if result.aborted:
            summary.append(f" (stopped: {result.aborted})", style="yellow")
        self.query_one("#batch-summary", Static).update(summary)
        table = self.query_one("#batch-table", DataTable)
        table.clear()
        customers = {entry.row: entry.customer for entry in self.entries}
        self.problems = {str(error.row): error.error for error in result.errors}
        for error in result.errors:
            cells = _error_cells(error, customers.get(error.row))
            table.add_row(Text(str(error.row)), *cells, key=str(error.row))
        self.entries, self.read_errors, self.source, self._ready = [], [], None, 0
        table.focus()  # away from the path input, so navigation keys navigate
        self.query_one("#run", Button).disabled = True
        self.notify(
            f"issued {len(result.issued)}, rejected {len(result.errors)}",
            title="Batch finished",
            markup=False,
        )

    def worker_succeeded(self, group: str, result: Any) -> None:
        if group == "batch-read":
            self._show_preview(*result)
        else:
            self._show_result(result)

    def worker_failed(self, group: str, error: BaseException | None) -> None:
        self.query_one("#batch-table").loading = False
        self.query_one("#cancel-batch", Button).disabled = True
        if group == "batch-read":
            # the old preview must not stay: Ctrl+S would issue the previous file's rows again
            self._forget()
            self.query_one("#batch-summary", Static).update(
                Text("the file could not be read; see the notification", style="red")
            )
        else:
            self.query_one("#batch-progress").display = False
            self.query_one("#batch-summary", Static).update(
                Text("the batch failed; see the notification", style="red")
            )
            self.query_one("#run", Button).disabled = not self.entries

    @on(Button.Pressed)
    async def _button(self, event: Button.Pressed) -> None:
        actions = {"load": "load", "run": "run", "cancel-batch": "cancel_batch"}
        if event.button.id in actions:
            await self.run_action(actions[event.button.id])


def _error_cells(error: BatchError, customer: Any = None) -> list[Text]:
    """A rejected row: its problem first, and its customer when it is known."""
    blanks = [Text("") for _ in range(3)]
    return [Text(error.error, style="red"), literal(customer or error.customer or ""), *blanks]

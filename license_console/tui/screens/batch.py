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

from license_console.batch_file import read_batch_file
from license_console.errors import LicenseConsoleError
from license_console.licenses import utcnow
from license_console.operations import BatchEntry, BatchError, BatchResult, check_entry
from license_console.tui.formatting import compact_json, literal
from license_console.tui.screens.base import ConsoleScreen

PREVIEW_ROWS = 1000


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
        Binding("ctrl+s", "run", "Issue all", id="batch.run"),
        Binding("ctrl+x", "cancel_batch", "Cancel batch", id="batch.cancel"),
    ]
    WORKER_ERRORS: ClassVar[dict[str, str]] = {
        "batch-read": "Cannot read the batch file",
        "batch-run": "Batch failed",
    }

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[BatchEntry] = []
        self.read_errors: list[BatchError] = []
        self._cancel = threading.Event()

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="form-row", id="batch-file-row"):
            yield Input(placeholder="path to a .csv or .json batch file", id="batch-path")
            yield Button("Load", id="load")
        yield Static(id="batch-summary")
        yield DataTable(id="batch-table", cursor_type="row", zebra_stripes=True)
        yield ProgressBar(id="batch-progress", show_eta=False)
        with Horizontal(classes="form-row", id="batch-actions"):
            yield Button("Issue valid rows", id="run", variant="primary", disabled=True)
            yield Button("Cancel", id="cancel-batch", disabled=True)

    def on_mount(self) -> None:
        table = self.query_one("#batch-table", DataTable)
        table.add_columns("Row", "Customer", "Modules", "Expires", "Metadata", "Problem")
        self.query_one("#batch-progress").display = False
        self.query_one("#batch-path", Input).focus()

    # -- load and preview ---------------------------------------------------------------------

    @on(Input.Submitted, "#batch-path")
    def action_load(self) -> None:
        raw = self.query_one("#batch-path", Input).value.strip()
        if raw:
            self.query_one("#batch-table").loading = True
            self._read(Path(raw).expanduser())

    @work(thread=True, exclusive=True, exit_on_error=False, group="batch-read")
    def _read(self, path: Path) -> tuple[list[BatchEntry], list[BatchError], dict[int, str]]:
        entries, errors = read_batch_file(path)
        problems = {e.row: p for e in entries if (p := row_problem(e)) is not None}
        return entries, errors, problems

    def _show_preview(
        self, entries: list[BatchEntry], errors: list[BatchError], problems: dict[int, str]
    ) -> None:
        self.entries, self.read_errors = entries, errors
        table = self.query_one("#batch-table", DataTable)
        table.loading = False
        table.clear()
        rows: list[tuple[int, list[Text]]] = []
        for entry in entries:
            problem = problems.get(entry.row)
            cells = [
                literal(entry.customer if entry.customer is not None else ""),
                literal(entry.modules if entry.modules is not None else ""),
                literal(entry.expires_at if entry.expires_at is not None else ""),
                literal(compact_json(entry.metadata) if entry.metadata else ""),
                Text(problem or "ok", style="red" if problem else "green"),
            ]
            rows.append((entry.row, cells))
        for error in errors:
            rows.append((error.row, [Text(""), Text(""), Text(""), Text(""), _bad(error.error)]))
        for row, cells in sorted(rows, key=lambda r: r[0])[:PREVIEW_ROWS]:
            table.add_row(Text(str(row)), *cells, key=str(row))
        bad = len(problems) + len(errors)
        good = len(entries) - len(problems)
        summary = Text(f"{good} rows ready", style="bold green")
        summary.append(f", {bad} with problems", style="bold red" if bad else "dim")
        if len(rows) > PREVIEW_ROWS:
            summary.append(f" (showing the first {PREVIEW_ROWS})", style="dim")
        self.query_one("#batch-summary", Static).update(summary)
        self.query_one("#run", Button).disabled = good == 0

    # -- run ----------------------------------------------------------------------------------

    def action_run(self) -> None:
        if not self.entries or self.query_one("#run", Button).disabled:
            return
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
        for error in result.errors:
            blanks = [Text("") for _ in range(4)]
            table.add_row(Text(str(error.row)), *blanks, _bad(error.error))
        self.entries = []
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
        self.query_one("#run", Button).disabled = not self.entries

    @on(Button.Pressed)
    async def _button(self, event: Button.Pressed) -> None:
        actions = {"load": "load", "run": "run", "cancel-batch": "cancel_batch"}
        if event.button.id in actions:
            await self.run_action(actions[event.button.id])


def _bad(message: str) -> Text:
    return Text(message, style="red")

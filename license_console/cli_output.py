"""CLI output: JSON for scripts, plain tables for people, user data never read as markup."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table
from rich.text import Text

from license_console.errors import LicenseConsoleError


def to_jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


class Output:
    """Where results and errors go; the one place that knows whether --json was given."""

    def __init__(self, json_mode: bool) -> None:
        self.json_mode = json_mode
        # Piped output is for grep and other tools: never wrap a row into two lines.
        width = None if sys.stdout.isatty() else 1000
        self.console = Console(highlight=False, soft_wrap=True, width=width)
        self.err_console = Console(stderr=True, highlight=False, soft_wrap=True)

    def json(self, value: Any) -> None:
        print(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False, default=str))

    def line(self, *parts: str | Text, style: str | None = None) -> None:
        """Print text literally: customer names like `[red]x[/red]` are data, not markup."""
        text = Text()
        for part in parts:
            text.append(part if isinstance(part, Text) else Text(part))
        if style:
            text.stylize(style)
        self.console.print(text)

    def warn(self, message: str) -> None:
        self.err_console.print(Text(message, style="yellow"))

    def fields(self, rows: Iterable[tuple[str, Any]]) -> None:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for name, value in rows:
            table.add_row(Text(name), value if isinstance(value, Text) else Text(_plain(value)))
        self.console.print(table)

    def table(self, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        table = Table(header_style="bold", box=None, pad_edge=False)
        for index, header in enumerate(headers):
            # The first column holds ids someone must copy: never wrapped, never elided.
            table.add_column(header, overflow="fold", no_wrap=index == 0)
        for row in rows:
            table.add_row(*(c if isinstance(c, Text) else Text(_plain(c)) for c in row))
        self.console.print(table)

    def error(self, exc: LicenseConsoleError) -> None:
        """One line on stderr; with --json also the error object on stdout, for `| jq`."""
        if self.json_mode:
            print(json.dumps(exc.as_dict(), ensure_ascii=False, default=str))
        self.err_console.print(Text(f"error: {exc.message}", style="red"))


def _plain(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)

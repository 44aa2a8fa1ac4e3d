"""Pure helpers that turn service objects into rich Text: user data is always literal."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from rich.text import Text

from license_console.errors import LicenseConsoleError
from license_console.licenses import days_until

STATUS_STYLES = {
    "active": "green",
    "expired": "yellow",
    "revoked": "red",
    "superseded": "dim",
}
SEAL_STYLES = {
    "unsealed": "bold green",
    "standby": "bold yellow",
    "sealed": "bold red",
    "uninitialized": "bold magenta",
    "unreachable": "bold red reverse",
}


def literal(value: Any) -> Text:
    """User data, never markup: `[red]x[/red]` stays `[red]x[/red]`, escapes are made visible."""
    text = str(value)
    cleaned = "".join(ch if ch.isprintable() or ch == "\n" else repr(ch)[1:-1] for ch in text)
    return Text(cleaned)


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLES.get(status, ""))


def seal_text(state: str, pill: bool = True) -> Text:
    """The state, coloured; as a padded pill in running text, bare where it must line up.

    The colour is a span, not the Text's base style, so a table does not paint its padding.
    """
    return Text.assemble((f" {state} " if pill else state, SEAL_STYLES.get(state, "")))


def day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def expiry_text(expires_at: datetime, now: datetime, status: str = "active") -> Text:
    """The date and days left, coloured as it nears: red within 7 days, yellow within 30.

    A superseded license still runs until its own expiry (its renewal replaces it for new
    installs), so it keeps its days left, dimmed; expired and revoked ones show the date only.
    """
    left = days_until(expires_at, now)
    text = Text(day(expires_at))
    if status == "superseded":
        text.append(f" ({left}d)", style="dim")
    elif status == "active":
        style = "red" if left < 7 else "yellow" if left < 30 else "green"
        text.append(f" ({left}d)", style=style)
    return text


def error_message(error: BaseException | None) -> str:
    """One line a person can act on; unknown exceptions keep their type name for bug reports."""
    if error is None:
        return "unknown error"
    if isinstance(error, LicenseConsoleError):
        return error.message
    return f"{type(error).__name__}: {error}"


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)

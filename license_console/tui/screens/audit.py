"""The audit log: newest first, filtered by action, license, actor and date range, paged."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Select, Static

from license_console import audit, audit_chain
from license_console.audit import ACTIONS, AuditRecord
from license_console.audit_chain import ChainVerdict
from license_console.errors import InvalidInput
from license_console.licenses import parse_moment
from license_console.tui.formatting import compact_json, literal
from license_console.tui.screens.paged import PAGE_SIZE, PagedScreen, page_bindings, page_numbers

ACTION_STYLES = {"issue": "green", "renew": "cyan", "revoke": "red", "batch": "magenta"}


def parse_day(text: str, end_of_day: bool) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    moment = parse_moment(text, "date")
    if end_of_day and len(text) == 10:
        moment = moment.replace(hour=23, minute=59, second=59, microsecond=999000)
    return moment


class AuditScreen(PagedScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reload", "Reload + verify", id="audit.reload"),
        # the same from inside a filter field, where `r` is a letter
        Binding("ctrl+r", "reload", "Reload + verify", id="audit.reload-anywhere", show=False),
        *page_bindings("audit"),
    ]
    WORKER_ERRORS: ClassVar[dict[str, str]] = {
        "audit": "Cannot read the audit log",
        "chain": "Cannot verify the audit chain",
    }

    def __init__(self) -> None:
        super().__init__()

    def compose_body(self) -> ComposeResult:
        yield Static(Text("audit chain: checking...", style="dim"), id="audit-verdict")
        with Horizontal(id="audit-filters"):
            yield Select[str]([(a, a) for a in ACTIONS], prompt="any action", id="audit-action")
            yield Input(placeholder="license id", id="audit-license")
            yield Input(placeholder="actor", id="audit-actor")
            yield Input(placeholder="since", id="audit-since")
            yield Input(placeholder="until", id="audit-until")
        yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="audit-info")

    def on_mount(self) -> None:
        self.query_one("#audit-table", DataTable).add_columns(
            "#", "When (UTC)", "Action", "License", "Actor", "Details"
        )
        self.reload()
        self.action_verify_chain()

    def on_screen_resume(self) -> None:
        if self.is_mounted:  # events may have been added, or rows changed, since the last look
            self.reload()
            self.action_verify_chain()

    def focus_primary(self) -> None:
        self.query_one("#audit-table", DataTable).focus()

    def reload(self) -> None:
        action = self.query_one("#audit-action", Select).value
        try:
            since = parse_day(self.query_one("#audit-since", Input).value, end_of_day=False)
            until = parse_day(self.query_one("#audit-until", Input).value, end_of_day=True)
        except InvalidInput as exc:
            self.query_one("#audit-info", Static).update(Text(exc.message, style="red"))
            return
        self._load(
            None if action is Select.NULL else str(action),
            self.query_one("#audit-license", Input).value.strip() or None,
            self.query_one("#audit-actor", Input).value.strip() or None,
            since,
            until,
            self.page_offset,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="audit")
    def _load(
        self,
        action: str | None,
        license_id: str | None,
        actor: str | None,
        since: datetime | None,
        until: datetime | None,
        offset: int,
    ) -> tuple[list[AuditRecord], int, int]:
        events, total = audit.list_events(
            license_id=license_id,
            action=action,
            actor=actor,
            since=since,
            until=until,
            limit=PAGE_SIZE,
            offset=offset,
        )
        return events, total, offset

    def action_verify_chain(self) -> None:
        self.query_one("#audit-verdict", Static).update(
            Text("audit chain: checking...", style="dim")
        )
        self._verify_chain()

    @work(thread=True, exclusive=True, exit_on_error=False, group="chain")
    def _verify_chain(self) -> tuple[ChainVerdict, datetime]:
        """The same walk as `license-console audit verify`; checkpoints need Vault."""
        vault = self.services.vault
        return audit_chain.verify_chain(vault if vault.has_token else None), self.console.now()

    def worker_succeeded(self, group: str, result: Any) -> None:
        if group == "chain":
            self.query_one("#audit-verdict", Static).update(verdict_text(*result))
            return
        events, self.total, offset = result
        table = self.query_one("#audit-table", DataTable)
        table.clear()
        for event in events:
            table.add_row(
                Text(str(event.id)),
                Text(event.at.strftime("%Y-%m-%d %H:%M:%S")),
                Text(event.action, style=ACTION_STYLES.get(event.action, "")),
                literal(event.license_id or "-"),
                literal(event.actor),
                literal(compact_json(event.details)),
                key=str(event.id),
            )
        page, pages = page_numbers(offset, self.total)
        info = Text(f" {self.total:,} events", style="bold")
        info.append(f"  page {page}/{pages}  [ ] pages", style="dim")
        info.append("  dates: YYYY-MM-DD (UTC)", style="dim")
        self.query_one("#audit-info", Static).update(info)

    def worker_failed(self, group: str, error: BaseException | None) -> None:
        if group == "chain":
            self.query_one("#audit-verdict", Static).update(
                Text("audit chain: not verified (see the notification); r retries", style="yellow")
            )

    @on(Input.Changed)
    def _typed(self) -> None:
        self.filters_typed()

    @on(Select.Changed)
    def _filters_changed(self) -> None:
        self.filters_changed()

    def action_reload(self) -> None:
        self.reload()
        self.action_verify_chain()


def verdict_text(verdict: ChainVerdict, checked_at: datetime | None = None) -> Text:
    """One line: INTACT or TAMPERED (with the first bad event), and how far it was proven."""
    if verdict.intact:
        text = Text.assemble((" INTACT ", "bold black on green"))  # a span: only the pill
        text.append(f" {verdict.events:,} events chained", style="bold")
    else:
        text = Text.assemble((" TAMPERED ", "bold white on red"))
        text.append(f" at event {verdict.first_bad_event}: ", style="bold red")
        text.append(verdict.problem or "", style="red")
    signed = "signatures verified" if verdict.signatures_verified else "signatures not verified"
    checked = f"{verdict.checkpoints_checked} of {verdict.checkpoints} checkpoints"
    text.append(f"  ({checked}, {signed})", style="dim")
    if checked_at is not None:
        text.append(f"  checked {checked_at:%H:%M:%S} UTC; r re-checks", style="dim")
    return text

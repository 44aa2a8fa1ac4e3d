"""The issue form: suggestions, quick expiry picks, checks as you type, a JSON preview."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from pydantic import ValidationError
from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Static, TextArea

from license_console.errors import InvalidInput, LicenseConsoleError
from license_console.licenses import License, LicenseRequest
from license_console.operations import write_license_file
from license_console.tui.formatting import error_message, literal
from license_console.tui.forms import (
    ModuleSuggester,
    parse_metadata,
    preview_document,
    quick_pick,
    split_modules,
)
from license_console.tui.modals.confirm import ConfirmModal
from license_console.tui.screens.base import ConsoleScreen
from license_console.vault import scheme_for_key_type

MAX_SUGGESTIONS = 5000


class IssueScreen(ConsoleScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "issue", "Issue", id="issue.submit"),
        Binding("ctrl+r", "reset", "Clear form", id="issue.reset"),
    ]
    WORKER_ERRORS: ClassVar[dict[str, str]] = {
        "suggestions": "Cannot read suggestions",
        "key-alg": "Cannot read the signing key",
        "issue": "Issue failed",
    }

    def __init__(self) -> None:
        super().__init__()
        self.request: LicenseRequest | None = None
        self.issued_id: str | None = None
        self.alg: str | None = None
        self._signing = False

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="issue-layout"):
            with VerticalScroll(id="issue-form", classes="form"):
                yield Label("Customer")
                yield Input(placeholder="customer name", id="customer")
                yield Label("Modules (comma separated)")
                yield Input(placeholder="module, module", id="modules")
                yield Label("Expires (YYYY-MM-DD, end of day UTC)")
                with Horizontal(classes="form-row"):
                    yield Input(placeholder="YYYY-MM-DD", id="expires")
                    yield Button("30 days", id="pick-30d")
                    yield Button("1 year", id="pick-1y")
                yield Label("Metadata (KEY=VALUE per line)")
                yield TextArea(id="metadata", soft_wrap=True, show_line_numbers=False)
                yield Static(id="issue-problem", classes="error")
                with Horizontal(classes="form-row"):
                    yield Button("Issue...", id="issue", variant="primary", disabled=True)
                    yield Button("Clear", id="reset")
                yield Static(id="issue-result")
            with Vertical(id="issue-preview-box"):
                yield Static(Text("Preview", style="bold"))
                with VerticalScroll():
                    yield Static(id="issue-preview")

    def on_mount(self) -> None:
        self._suggestions()
        self._key_alg()
        self._check()
        self.query_one("#customer", Input).focus()

    def on_screen_resume(self) -> None:
        self._suggestions()

    def focus_primary(self) -> None:
        self.query_one("#customer", Input).focus()

    @work(thread=True, exclusive=True, exit_on_error=False, group="key-alg")
    def _key_alg(self) -> str | None:
        """The alg new licenses get, for the preview; unknown while Vault is away."""
        try:
            key_type = self.services.vault.read_key().type
            return scheme_for_key_type(key_type, self.services.settings.rsa_padding).alg
        except LicenseConsoleError:
            return None

    @work(thread=True, exclusive=True, exit_on_error=False, group="suggestions")
    def _suggestions(self) -> tuple[list[str], list[str]]:
        registry = self.services.registry
        return registry.customers(limit=MAX_SUGGESTIONS), registry.modules()

    @work(thread=True, exclusive=True, exit_on_error=False, group="issue")
    def _issue(self, request: LicenseRequest, out_dir: Path) -> tuple[License, Path]:
        license_ = self.services.licenses.issue(request)
        path = out_dir / f"{license_.license_id}.lic"
        write_license_file(path, license_)
        return license_, path

    def worker_succeeded(self, group: str, result: Any) -> None:
        if group == "key-alg":
            self.alg = result
            self._preview()
            return
        if group == "suggestions":
            customers, modules = result
            self.query_one("#customer", Input).suggester = SuggestFromList(
                customers, case_sensitive=False
            )
            self.query_one("#modules", Input).suggester = ModuleSuggester(modules)
            return
        license_, path = result
        self.issued_id = license_.license_id
        text = Text("Issued ", style="bold green")
        text.append(license_.license_id, style="bold")
        text.append("\nfor ")
        text.append_text(literal(license_.customer))
        text.append("\nsaved to ")
        text.append_text(literal(str(path)))
        self._signing = False
        result_widget = self.query_one("#issue-result", Static)
        result_widget.update(text)
        self.call_after_refresh(result_widget.scroll_visible)
        self._clear_fields()  # a second ctrl+s must not issue the same license again
        self.app.set_focus(None)  # so s/l/n/b... navigate instead of typing into a field
        self.notify(f"{license_.license_id} saved to {path}", title="Issued", markup=False)
        self._suggestions()

    def worker_failed(self, group: str, error: BaseException | None) -> None:
        if group == "issue":
            self._signing = False
            text = Text("Not issued: ", style="bold red")
            text.append_text(literal(error_message(error)))
            self.query_one("#issue-result", Static).update(text)
            self._check()

    # -- checks as you type -------------------------------------------------------------------

    def _values(self) -> tuple[str, list[str], str, str]:
        return (
            self.query_one("#customer", Input).value,
            split_modules(self.query_one("#modules", Input).value),
            self.query_one("#expires", Input).value,
            self.query_one("#metadata", TextArea).text,
        )

    @on(Input.Changed)
    @on(TextArea.Changed)
    def _edited(self) -> None:
        """An edit after an issue starts a new license: the last "Issued ..." goes away."""
        if not self._signing:
            self.query_one("#issue-result", Static).update("")
        self._check()

    def _check(self) -> None:
        customer, modules, expires, metadata_text = self._values()
        problem = ""
        self.request = None
        try:
            metadata = parse_metadata(metadata_text)
            self.request = LicenseRequest.build(
                customer, modules, expires, metadata, now=self.console.now()
            )
        except (InvalidInput, ValidationError) as exc:  # shown, never raised
            problem = getattr(exc, "message", str(exc))
        if not (customer.strip() or modules or expires.strip() or metadata_text.strip()):
            problem = ""  # an untouched form has nothing wrong with it yet
        self.query_one("#issue-problem", Static).update(literal(problem))
        self.query_one("#issue", Button).disabled = self.request is None or self._signing
        self._preview()

    def _preview(self) -> None:
        settings = self.services.settings
        request = self.request
        if request is None:
            self.query_one("#issue-preview", Static).update(
                Text("(fill in the form: the preview appears when it is valid)", style="dim")
            )
            return
        document = preview_document(
            request.customer,
            request.modules,
            request.expires_at,
            request.metadata,
            settings.issuer,
            settings.key_name,
            alg=self.alg,
        )
        body = json.dumps(document, indent=2, ensure_ascii=False)
        self.query_one("#issue-preview", Static).update(
            Syntax(body, "json", word_wrap=True, theme="ansi_dark", background_color="default")
        )

    # -- actions ------------------------------------------------------------------------------

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        match event.button.id:
            case "pick-30d" | "pick-1y":
                pick = event.button.id.removeprefix("pick-")
                self.query_one("#expires", Input).value = quick_pick(pick, self.console.now())
            case "issue":
                self.action_issue()
            case "reset":
                self.action_reset()

    def action_issue(self) -> None:
        request = self.request
        if request is None:
            self.notify("the form is not complete yet", severity="warning")
            return
        body = Text("Sign a license for ")
        body.append_text(literal(request.customer))
        body.append(f"\nmodules {', '.join(request.modules)}")
        body.append(f"\nexpiring {request.expires_at:%Y-%m-%d %H:%M} UTC?")

        def confirmed(yes: bool | None) -> None:
            if yes and self.request is not None:
                self._signing = True
                self.query_one("#issue", Button).disabled = True
                self.query_one("#issue-result", Static).update("Signing...")
                self._issue(self.request, self.console.out_dir)

        self.app.push_screen(ConfirmModal("Issue license?", body, "Issue", danger=False), confirmed)

    def action_reset(self) -> None:
        self._clear_fields()
        self.query_one("#issue-result", Static).update("")
        self.query_one("#customer", Input).focus()

    def _clear_fields(self) -> None:
        """Empty the form without the edits counting as a new license (the result stays)."""
        with self.prevent(Input.Changed, TextArea.Changed):
            for selector in ("#customer", "#modules", "#expires"):
                self.query_one(selector, Input).value = ""
            self.query_one("#metadata", TextArea).text = ""
        self._check()

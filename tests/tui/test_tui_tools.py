"""Pilot tests of batch import, validation, the audit log, the keys screen and the palette."""

from __future__ import annotations

import json
import re

from textual.widgets import DataTable, Input, Select, TextArea

from license_console.operations import write_license_file
from license_console.registry import ListQuery
from license_console.tui.modals.confirm import ConfirmModal
from license_console.tui.modals.help import HelpModal
from license_console.tui.screens.audit import AuditScreen
from license_console.tui.screens.batch import BatchScreen
from license_console.tui.screens.keys import KeysScreen
from license_console.tui.screens.validate import ValidateScreen
from license_console.verify import load_public_keys
from tui.support import go, issue, screen_text, settle, static_text, until

CSV = """customer,modules,expires_at,metadata
Acme Corp,core;reporting,2031-12-31,"{""seats"": 10}"
,core,2031-12-31,
Globex,core,not-a-date,
Initech,core,2032-06-30,
Umbrella,bad module!,2031-01-01,
"""


async def test_batch_import_with_bad_rows(make_app, services, tmp_path):
    batch = tmp_path / "batch.csv"
    batch.write_text(CSV, encoding="utf-8")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await go(pilot, "b", BatchScreen)
        app.screen.query_one("#batch-path", Input).value = str(batch)
        await pilot.press("enter")
        await settle(pilot)
        summary = static_text(app, "#batch-summary")
        assert "2 rows ready" in summary and "3 with problems" in summary
        text = screen_text(app)
        assert "customer must be a non-empty name" in text
        assert "not-a-date" in text
        table = app.screen.query_one("#batch-table", DataTable)
        assert [str(c.label) for c in table.columns.values()][:2] == ["Row", "Problem"]
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)  # never issued without asking
        assert f"Issue 2 licenses from {batch}?" in app.screen.body.plain
        await pilot.click("#confirm")
        await settle(pilot)
        assert "Issued 2, rejected 3" in static_text(app, "#batch-summary")
        assert services.licenses.list(ListQuery()).total == 2
        rejected = screen_text(app)
        assert "Umbrella" in rejected and "Globex" in rejected  # rejected rows keep the customer
        await pilot.press("ctrl+s")  # the run is over: nothing left to issue twice
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmModal)
        assert services.licenses.list(ListQuery()).total == 2


async def test_a_failed_load_clears_the_previous_preview(make_app, services, tmp_path):
    batch = tmp_path / "batch.csv"
    batch.write_text(CSV, encoding="utf-8")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        path = app.screen.query_one("#batch-path", Input)
        assert app.focused is path  # empty: the cursor is where the path goes
        await pilot.press(*str(batch), "enter")
        await settle(pilot)
        assert "2 rows ready" in static_text(app, "#batch-summary")
        path.value = str(tmp_path)  # a directory cannot be read
        await pilot.press("enter")
        await settle(pilot)
        assert any(n.title == "Cannot read the batch file" for n in app._notifications)
        assert app.screen.query_one("#batch-table", DataTable).row_count == 0
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmModal)
        assert services.licenses.list(ListQuery()).total == 0


async def test_batch_file_that_cannot_be_read_is_a_notification(make_app, tmp_path):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        app.screen.query_one("#batch-path", Input).value = str(tmp_path / "missing.csv")
        await pilot.press("enter")
        await settle(pilot)
        assert any(n.title == "Cannot read the batch file" for n in app._notifications)


async def test_validate_a_tampered_file_and_pasted_json(make_app, services, tmp_path):
    license_ = issue(services, "Acme Corp", ["core"])
    good = tmp_path / "good.lic"
    write_license_file(good, license_)
    tampered = tmp_path / "tampered.lic"
    document = license_.document()
    document["modules"] = ["core", "everything"]
    tampered.write_text(json.dumps(document), encoding="utf-8")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await go(pilot, "v", ValidateScreen)
        app.screen.query_one("#validate-path", Input).value = str(tampered)
        await pilot.press("enter")
        await settle(pilot)
        result = static_text(app, "#validate-result")
        assert "INVALID" in result
        assert "signature does not match" in result

        app.screen.query_one("#validate-path", Input).value = ""
        app.screen.query_one("#validate-json", TextArea).text = good.read_text()
        await pilot.press("ctrl+s")
        await settle(pilot)
        result = static_text(app, "#validate-result")
        assert "VALID" in result and "INVALID" not in result

        assert license_.license_id in result and "days left" in result
        assert "Registry status active" in result  # apart from the verdict

        app.screen.query_one("#validate-json", TextArea).text = "{not json"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "not JSON" in static_text(app, "#validate-result")

        # JSON pasted into the path field is a license, not a file name
        app.screen.query_one("#validate-json", TextArea).text = ""
        app.screen.query_one("#validate-path", Input).value = good.read_text().strip()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "VALID" in static_text(app, "#validate-result")

        app.screen.query_one("#validate-path", Input).value = "x" * 5000
        await pilot.press("ctrl+s")
        await settle(pilot)
        result = static_text(app, "#validate-result")
        assert "CANNOT VALIDATE" in result and "x" * 100 not in result


async def test_audit_log_with_filters(make_app, services):
    first = issue(services, "Acme Corp", ["core"])
    issue(services, "Globex", ["core"])
    services.licenses.revoke(first.license_id, "test")
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await go(pilot, "a", AuditScreen)
        assert "3 events" in static_text(app, "#audit-info")
        app.screen.query_one("#audit-action", Select).value = "revoke"
        await until(pilot, lambda: "1 events" in static_text(app, "#audit-info"))
        app.screen.query_one("#audit-action", Select).clear()
        app.screen.query_one("#audit-license", Input).value = first.license_id
        await until(pilot, lambda: "2 events" in static_text(app, "#audit-info"))
        app.screen.query_one("#audit-since", Input).value = "2999-01-01"
        await until(pilot, lambda: "0 events" in static_text(app, "#audit-info"))
        app.screen.query_one("#audit-since", Input).value = "yesterday"
        await until(pilot, lambda: "not a date" in static_text(app, "#audit-info"))


async def test_keys_rotate_with_confirmation_and_export(make_app, services, tmp_path):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await go(pilot, "k", KeysScreen)
        text = screen_text(app)
        assert "ed25519" in text and "v1 (latest)" in text
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.click("#confirm")
        await settle(pilot)
        assert services.vault.read_key().latest_version == 2
        assert "v2 (latest)" in screen_text(app)
        await pilot.press("e")
        await settle(pilot)
        key_name = services.settings.key_name
        ring = load_public_keys((tmp_path / "out" / f"{key_name}.pem").read_text())
        assert set(ring) == {(key_name, 1), (key_name, 2)}  # every live version, labelled
        assert "Exported v1, v2" in static_text(app, "#keys-export-result")


async def test_every_global_action_is_in_the_palette_and_help(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        titles = {command.title for command in app.get_system_commands(app.screen)}
        expected = {"Status", "Licenses", "New", "Batch import", "Validate", "Audit log", "Keys"}
        assert expected <= titles
        assert "Search licenses" in titles and "Connect" in titles
        assert "Customer" in titles  # the screen's own bindings too
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpModal)
        assert "Audit log" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpModal)


async def test_works_at_80_by_24_in_the_light_theme(make_app, services):
    issue(services, "Acme Corp", ["core"])
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.theme = "textual-light"
        await settle(pilot)
        for key in "slnbvak":
            await pilot.press("escape", key)
            await settle(pilot)
            assert "Vault" in screen_text(app).splitlines()[0]


async def test_audit_screen_shows_the_chain_verdict(make_app, services):
    issue(services, "Acme Corp", ["core"])
    issue(services, "Globex", ["core"])
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert static_text(app, "#audit-verdict").startswith(" INTACT  2 events chained")

        assert re.search(r"checked \d\d:\d\d:\d\d UTC", static_text(app, "#audit-verdict"))
        assert isinstance(app.focused, DataTable)  # the keys work, not a filter field

        db = services.registry.db
        (actor,) = db.execute_sql("SELECT actor FROM audit_events WHERE id = 2").fetchone()
        db.execute_sql("UPDATE audit_events SET actor = 'someone else' WHERE id = 2")
        await pilot.press("r")
        await settle(pilot)
        verdict = static_text(app, "#audit-verdict")
        assert verdict.startswith(" TAMPERED  at event 2")

        db.execute_sql("UPDATE audit_events SET actor = ? WHERE id = 2", (actor,))
        await pilot.press("l", "a")  # shown again: the verdict is computed again
        await settle(pilot)
        assert not static_text(app, "#audit-verdict").startswith(" TAMPERED")

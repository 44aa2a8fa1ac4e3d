"""Pilot tests of the everyday flows: issue, find, search, detail, renew, revoke."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from textual.widgets import Button, Input, Select

from license_console.errors import OperationRefused
from license_console.licenses import format_ts
from license_console.registry import ListQuery
from license_console.tui.modals.confirm import ConfirmModal
from license_console.tui.modals.revoke import RevokeModal
from license_console.tui.screens.customer import CustomerScreen
from license_console.tui.screens.detail import DetailScreen
from license_console.tui.screens.issue import IssueScreen
from license_console.tui.screens.licenses import LicensesScreen
from license_console.tui.screens.renew import RenewScreen
from license_console.tui.screens.validate import ValidateScreen
from license_console.tui.widgets.license_table import LicenseTable
from tui.support import go, issue, open_detail, screen_text, settle, static_text, until


async def test_issue_through_the_form_then_find_it_in_the_list(make_app, services, tmp_path):
    issue(services, "Existing Customer", ["reporting"])
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        form = await go(pilot, "n", IssueScreen)
        await pilot.press(*"Exis", "right")  # the suggestion from existing customers
        assert form.query_one("#customer", Input).value == "Existing Customer"
        form.query_one("#customer", Input).value = "Globex"
        form.query_one("#modules", Input).value = "core, reporting"
        form.query_one("#expires", Input).value = "2001-01-01"
        await pilot.pause()
        assert form.query_one("#issue", Button).disabled
        assert "in the past" in screen_text(app)

        await pilot.click("#pick-1y")
        await pilot.pause()
        assert not form.query_one("#issue", Button).disabled
        assert '"customer": "Globex"' in screen_text(app)  # the JSON preview

        await pilot.click("#issue")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.click("#confirm")
        await settle(pilot)

        issued = services.licenses.list(ListQuery(search="Globex")).licenses
        assert len(issued) == 1
        license_id = issued[0].license_id
        saved = tmp_path / "out" / f"{license_id}.lic"
        assert saved.is_file()
        assert str(saved) in static_text(app, "#issue-result")

        await pilot.press("escape")  # back to the list
        await settle(pilot)
        assert isinstance(app.screen, LicensesScreen)
        table = app.screen.query_one(LicenseTable)
        assert license_id in [str(key.value) for key in table.rows]


async def test_search_as_you_type_and_filters(make_app, services):
    for name in ("Globex", "Initech", "Umbrella", "Globe Trotters"):
        issue(services, name, ["core"])
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(LicenseTable)
        assert table.row_count == 4
        await pilot.press("slash", *"glob")
        await until(pilot, lambda: table.row_count == 2)
        assert "Initech" not in screen_text(app)
        app.screen.query_one("#search", Input).value = ""
        await until(pilot, lambda: table.row_count == 4)
        initech = services.licenses.list(ListQuery(search="Initech")).licenses[0]
        services.licenses.revoke(initech.license_id, "test")
        app.screen.query_one("#status-filter", Select).value = "revoked"
        await until(pilot, lambda: table.row_count == 1)
        assert "Initech" in screen_text(app)


async def test_detail_shows_validation_and_exports(make_app, services, tmp_path):
    license_ = issue(services, "Acme Corp", ["core", "reporting"])
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await go(pilot, "enter", DetailScreen)
        text = screen_text(app)
        assert license_.license_id in text
        assert "VALID" in text and "INVALID" not in text
        assert "vault:v1:" in text
        await pilot.press("e")
        await settle(pilot)
        assert (tmp_path / "out" / f"{license_.license_id}.lic").is_file()
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert "1 licenses" in screen_text(app)


async def test_renew_from_the_detail_with_a_diff(make_app, services):
    old = issue(services, "Acme Corp", ["core"])
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await app.push_screen(DetailScreen(old.license_id))
        form = await go(pilot, "r", RenewScreen)
        form.query_one("#expires", Input).value = "2033-01-31"
        form.query_one("#add-modules", Input).value = "analytics"
        await pilot.pause()
        text = screen_text(app)
        assert "core, analytics" not in text  # modules are a sorted set
        assert "analytics, core" in text and "2033-01-31" in text  # the new side of the diff
        await pilot.click("#renew")
        await pilot.pause()
        await pilot.click("#confirm")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        renewed = services.licenses.get(old.license_id)
        assert renewed.status == "superseded" and renewed.superseded_by
        assert app.screen.license_id == renewed.superseded_by
        assert f"Renewed from  {old.license_id}".split()[-1] in screen_text(app)


async def test_revoke_with_reason_and_confirmation(make_app, services):
    license_ = issue(services, "Acme Corp", ["core"])
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_detail(pilot, license_.license_id)
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, RevokeModal)
        assert app.screen.query_one("#confirm", Button).disabled  # no reason yet
        await pilot.press(*"contract ended")
        await pilot.pause()
        await pilot.click("#confirm")
        await settle(pilot)
        record = services.licenses.get(license_.license_id)
        assert record.status == "revoked"
        assert record.revocation is not None and record.revocation.reason == "contract ended"
        text = screen_text(app)
        assert "revoked" in text and "INVALID" in text


async def test_revoke_typed_fast_keeps_the_date_in_effective(make_app, services):
    license_ = issue(services, "Acme Corp", ["core"])
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_detail(pilot, license_.license_id)
        await pilot.press("x", *"contract ends", "tab", *"2030-06-30")
        modal = app.screen
        assert isinstance(modal, RevokeModal)
        assert modal.query_one("#reason", Input).value == "contract ends"
        assert modal.query_one("#effective", Input).value == "2030-06-30"
        # said in words before confirming, on the button too
        assert "effective 2030-06-30 00:00 UTC" in static_text(app, "#revoke-summary")
        assert str(modal.query_one("#confirm", Button).label) == "Revoke from 2030-06-30"
        await pilot.press("enter")
        await settle(pilot)
        record = services.licenses.get(license_.license_id)
        assert record.revocation is not None
        assert format_ts(record.revocation.effective_at).startswith("2030-06-30T00:00:00")
        assert record.status == "active"  # scheduled, not now


async def test_revoke_without_a_date_says_now_and_enter_in_reason_does_not_revoke(
    make_app, services
):
    license_ = issue(services, "Acme Corp", ["core"])
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_detail(pilot, license_.license_id)
        await pilot.press("x", *"fraud", "enter")  # enter moves on to the date
        await pilot.pause()
        assert isinstance(app.screen, RevokeModal)
        assert app.focused is app.screen.query_one("#effective", Input)
        assert "effective NOW" in static_text(app, "#revoke-summary")
        assert str(app.screen.query_one("#confirm", Button).label) == "Revoke now"
        assert services.licenses.get(license_.license_id).revocation is None


async def test_escape_cancels_a_revocation(make_app, services):
    license_ = issue(services, "Acme Corp", ["core"])
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_detail(pilot, license_.license_id)
        await pilot.press("x", *"oops", "escape")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        assert services.licenses.get(license_.license_id).status == "active"


async def test_user_data_is_shown_literally(make_app, services):
    license_ = issue(services, "[red]x[/red]", ["core"], expires="2032-01-01")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "[red]x[/red]" in screen_text(app)
        await app.push_screen(DetailScreen(license_.license_id))
        await settle(pilot)
        assert "[red]x[/red]" in screen_text(app)
        assert format_ts(license_.expires)[:10] in screen_text(app)


async def test_paging_reads_one_page_at_a_time(make_app, services):
    for number in range(105):
        issue(services, f"Customer {number:03d}", ["core"])
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.query_one(LicenseTable)
        assert table.row_count == 100
        assert "1-100 of 105" in screen_text(app)
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert table.row_count == 5
        assert "101-105 of 105" in screen_text(app)
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert table.row_count == 100


def test_out_dir_defaults_to_the_working_directory(services, monkeypatch, tmp_path: Path):
    from license_console.tui.app import create_app

    monkeypatch.chdir(tmp_path)
    assert create_app(services.settings, services).out_dir == tmp_path


async def test_renew_is_refused_for_revoked_and_superseded_licenses(make_app, services):
    revoked = issue(services, "Acme Corp", ["core"])
    services.licenses.revoke(revoked.license_id, "test", datetime(2030, 1, 1, tzinfo=UTC))
    old = issue(services, "Globex", ["core"])
    services.licenses.renew(old.license_id, datetime(2033, 1, 1, tzinfo=UTC), [], {})
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        for license_id, why in (
            (revoked.license_id, "scheduled for revocation"),
            (old.license_id, "already renewed"),
        ):
            await app.push_screen(DetailScreen(license_id))
            await settle(pilot)
            assert app.screen.query_one("#renew", Button).disabled
            await pilot.press("r")
            await settle(pilot)
            assert isinstance(app.screen, DetailScreen)  # no form to fill in for nothing
            assert any(why in n.message for n in app._notifications)
            await pilot.press("escape")
            await settle(pilot)


async def test_the_list_shows_full_ids_at_80_columns(make_app, services):
    first = issue(services, "Batch Customer", ["core"])
    second = issue(services, "Batch Customer", ["core"])
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        lines = screen_text(app).splitlines()
        for license_ in (first, second):
            row = next(line for line in lines if license_.license_id in line)
            assert "Batch Customer" in row and "active" in row and "2031-06-30" in row
        await pilot.press("c")  # the customer view: full ids, no redundant customer column
        await settle(pilot)
        table = app.screen.query_one(LicenseTable)
        assert "Customer" not in [str(c.label) for c in table.columns.values()]
        assert first.license_id in screen_text(app)


async def test_search_keys_and_clearing_filters(make_app, services):
    for name in ("Globex", "Initech"):
        issue(services, name, ["core"])
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(LicenseTable)
        search = app.screen.query_one("#search", Input)
        await pilot.press("slash", *"glob", "down")
        await until(pilot, lambda: table.row_count == 1)
        assert app.focused is table
        await pilot.press("slash", "escape")  # escape in the search clears it and leaves it
        assert search.value == "" and app.focused is table
        await until(pilot, lambda: table.row_count == 2)
        await pilot.press("slash", *"init")  # so the next / starts a new search, not text
        await until(pilot, lambda: table.row_count == 1)
        assert search.value == "init"
        await pilot.press("escape")
        await pilot.press("slash", *"nobody", "enter")
        await until(pilot, lambda: table.row_count == 0)
        assert app.focused is table
        assert "no licenses match" in screen_text(app)
        app.screen.query_one("#status-filter", Select).value = "revoked"
        await settle(pilot)
        await pilot.press("ctrl+l")
        await until(pilot, lambda: table.row_count == 2)
        assert search.value == ""
        assert app.screen.query_one("#status-filter", Select).value is Select.NULL


async def test_showing_a_mode_focuses_its_primary_widget(make_app, services, tmp_path):
    issue(services, "Acme Corp", ["core"])
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert app.focused is app.screen.query_one("#customer", Input)
        await pilot.press("escape", "l")
        await settle(pilot)
        assert isinstance(app.focused, LicenseTable)
        await pilot.press("slash")  # leave the focus in the search box, then come back
        await pilot.press("tab")
        await pilot.press("escape")
        await settle(pilot)
        app.screen.query_one("#search", Input).focus()
        await pilot.press("n")  # typed into the search box, not a navigation key
        await pilot.press("escape", "escape", "n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, IssueScreen)
        form.query_one("#modules", Input).focus()
        await pilot.press("escape", "n")
        await settle(pilot)
        assert app.focused is form.query_one("#customer", Input)  # not where it was left

        (tmp_path / "b.csv").write_text("customer,modules,expires_at\nA,core,2031-01-01\n")
        await pilot.press("escape", "b")
        await settle(pilot)
        path = app.screen.query_one("#batch-path", Input)
        assert app.focused is path  # empty path: that is where to start
        await pilot.press(*str(tmp_path / "b.csv"), "enter")
        await settle(pilot)
        await pilot.press("escape", "b")
        await settle(pilot)
        assert not isinstance(app.focused, Input)  # a path is there: keys are navigation
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, ValidateScreen)
        assert path.value == str(tmp_path / "b.csv")  # `v` did not land in the path


async def test_issue_confirm_with_sixty_modules_fits_80_by_24(make_app, services):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        form.query_one("#customer", Input).value = "Acme Corp"
        form.query_one("#modules", Input).value = ", ".join(f"module-{n:02d}" for n in range(60))
        form.query_one("#expires", Input).value = "2031-01-01"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        for button in app.screen.query(Button):
            region = button.region
            assert region.height > 0 and region.bottom <= 24, button.id
        await pilot.click("#confirm")
        await settle(pilot)
        assert services.licenses.list(ListQuery(search="Acme")).total == 1


async def test_a_failed_issue_does_not_stay_signing(make_app, services):
    app = make_app()

    def refuse(request):
        raise OperationRefused("Vault is sealed")

    services.licenses.issue = refuse
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert static_text(app, "#issue-problem") == ""  # nothing typed, nothing wrong yet
        preview = screen_text(app)
        await pilot.press(*"Acme", "tab", *"core", "tab", *"2031-01-01")
        await pilot.pause()
        preview = screen_text(app)
        assert '"version": "1.0"' in preview and '"alg": "ed25519"' in preview
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.click("#confirm")
        await settle(pilot)
        assert any(n.title == "Issue failed" for n in app._notifications)
        result = static_text(app, "#issue-result")
        assert "Signing" not in result and "Vault is sealed" in result
        assert not app.screen.query_one("#issue", Button).disabled


async def test_help_shows_keys_as_typed(make_app):
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        text = screen_text(app)
        assert "slash" not in text and "question_mark" not in text
        assert "right_square_bracket" not in text
        for key, description in (("/", "Search licenses"), ("?", "Help"), ("]", "Next page")):
            assert re.search(rf"\s{re.escape(key)}\s+{description}", text), key


async def test_detail_revalidates_on_demand(make_app, services):
    license_ = issue(services, "Acme Corp", ["core"])
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_detail(pilot, license_.license_id)
        assert "VALID" in static_text(app, "#detail-validation")
        services.licenses.revoke(license_.license_id, "behind the console's back")
        await pilot.press("V")
        await settle(pilot)
        assert "INVALID" in static_text(app, "#detail-validation")


async def test_issue_with_the_keyboard_only(make_app, services):
    """Type, tab, ctrl+s, enter: the way an admin issues without touching the mouse."""
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"Keyboard Corp", "tab", *"hr, payroll", "tab", *"2031-12-31")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("enter")  # a routine confirmation: enter means yes
        await settle(pilot)
        issued = services.licenses.list(ListQuery(search="Keyboard")).licenses
        assert [(r.customer, r.modules) for r in issued] == [("Keyboard Corp", ["hr", "payroll"])]


async def test_after_issuing_the_form_is_empty_and_keys_navigate(make_app, services):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"Once Only", "tab", *"hr", "tab", *"2031-12-31", "ctrl+s", "enter")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, IssueScreen)
        assert form.query_one("#customer", Input).value == ""  # no second identical issue
        assert "Issued" in static_text(app, "#issue-result")
        await pilot.press("ctrl+s")  # nothing to issue now
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmModal)
        await pilot.press("l")  # a navigation key, not a letter typed into a field
        await settle(pilot)
        assert app.screen.query_one(LicenseTable).row_count == 1

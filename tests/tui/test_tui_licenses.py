"""Pilot tests of the everyday flows: issue, find, search, detail, renew, revoke."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Button, Input, Select

from license_console.licenses import format_ts
from license_console.registry import ListQuery
from license_console.tui.modals.confirm import ConfirmModal
from license_console.tui.modals.revoke import RevokeModal
from license_console.tui.screens.customer import CustomerScreen
from license_console.tui.screens.detail import DetailScreen
from license_console.tui.screens.issue import IssueScreen
from license_console.tui.screens.licenses import LicensesScreen
from license_console.tui.screens.renew import RenewScreen
from license_console.tui.widgets.license_table import LicenseTable
from tui.support import issue, screen_text, settle, static_text, until


async def test_issue_through_the_form_then_find_it_in_the_list(make_app, services, tmp_path):
    issue(services, "Existing Customer", ["reporting"])
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, IssueScreen)
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
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
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
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, RenewScreen)
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
        await settle(pilot)
        await app.push_screen(DetailScreen(license_.license_id))
        await settle(pilot)
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


async def test_escape_cancels_a_revocation(make_app, services):
    license_ = issue(services, "Acme Corp", ["core"])
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await app.push_screen(DetailScreen(license_.license_id))
        await settle(pilot)
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

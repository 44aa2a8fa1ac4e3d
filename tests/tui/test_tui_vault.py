"""Pilot tests of Vault's side: unseal a sealed raft server, lose Vault mid-session, connect."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import ROOT_TOKEN, DevServer, end, free_ports
from textual.widgets import Input

from license_console import local_server
from license_console.config import Settings
from license_console.operations import LicenseService
from license_console.services import Services, build_services
from license_console.tui.app import LicenseConsoleApp, create_app
from license_console.tui.modals.confirm import ConfirmModal
from license_console.tui.screens.audit import AuditScreen
from license_console.tui.screens.connect import ConnectScreen
from license_console.tui.screens.licenses import LicensesScreen
from license_console.tui.screens.status import StatusScreen
from license_console.tui.widgets.license_table import LicenseTable
from license_console.vault import VaultService
from tui.support import issue, screen_text, settle, until


@pytest.fixture
def sealed_server(tmp_path: Path) -> Iterator[tuple[Settings, str, str]]:
    """An initialised, sealed raft server (one key share); always stopped afterwards."""
    api, cluster = free_ports(2)
    process = local_server.spawn(tmp_path / "raft-data", api, cluster)
    try:
        settings = Settings(
            vault_addr=f"http://127.0.0.1:{api}",
            data_dir=tmp_path / "data",
            db=str(tmp_path / "sealed.db"),
            timeout=5.0,
        )
        result = VaultService(settings).initialize(1, 1)
        yield settings, result.keys[0].get_secret_value(), result.root_token.get_secret_value()
    finally:
        end(process)


def state(app: LicenseConsoleApp) -> str:
    return app.connection.state if app.connection is not None else "checking"


@contextmanager
def console_for(
    settings: Settings, token: str | None, out_dir: Path, refresh_interval: float
) -> Iterator[LicenseConsoleApp]:
    """The console on these settings with exactly this token ("" or None: none at all)."""
    services = build_services(settings, token or "")
    try:
        yield create_app(settings, services, refresh_interval=refresh_interval, out_dir=out_dir)
    finally:
        services.close()


async def test_unseal_a_sealed_server_through_the_ui(sealed_server, tmp_path):
    settings, key, root = sealed_server
    with console_for(settings, root, tmp_path, 0.3) as app:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, StatusScreen)  # on-call lands on the status screen
            assert "sealed" in screen_text(app)
            assert "0 of 1 key shares" in screen_text(app)
            field = app.screen.query_one("#unseal-key", Input)
            assert field.password
            field.focus()
            await pilot.press(*key, "enter")
            assert field.value == ""  # the share does not stay on screen
            await until(pilot, lambda: state(app) == "unsealed", 30)
            await settle(pilot)
            assert "unsealed" in screen_text(app)
            assert not app.screen.query_one("#unseal-box").display

            await pilot.press("ctrl+x")  # seal (ctrl+s means submit elsewhere)
            await pilot.pause()
            assert isinstance(app.screen, ConfirmModal)
            await pilot.click("#confirm")
            await until(pilot, lambda: state(app) == "sealed", 30)


async def test_a_wrong_unseal_key_is_a_notification(sealed_server, tmp_path):
    settings, _key, root = sealed_server
    with console_for(settings, root, tmp_path, 60) as app:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            app.screen.query_one("#unseal-key", Input).focus()
            await pilot.press(*"bm90LWEta2V5", "enter")
            await settle(pilot)
            assert any(n.title == "Unseal failed" for n in app._notifications)
            assert app.connection is not None and app.connection.state == "sealed"


async def test_the_hidden_unseal_field_is_emptied_and_gives_up_the_focus(sealed_server, tmp_path):
    settings, key, root = sealed_server
    with console_for(settings, root, tmp_path, 0.3) as app:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            field = app.screen.query_one("#unseal-key", Input)
            assert app.focused is field  # sealed: the cursor is where the share goes
            await pilot.press(*"stray")
            app.services.vault.unseal(key)  # someone else unseals it
            await until(pilot, lambda: state(app) == "unsealed", 30)
            await settle(pilot)
            assert not app.screen.query_one("#unseal-box").display
            assert field.value == ""
            assert app.focused is not field
            await pilot.press("a")  # the global keys work again
            await settle(pilot)
            assert isinstance(app.screen, AuditScreen)
            await pilot.press("s")
            await settle(pilot)
            assert app.focused is app.screen.query_one("#refresh")

            app.services.vault.seal()
            await until(pilot, lambda: state(app) == "sealed", 30)
            await settle(pilot)
            assert field.value == "" and app.focused is field
            await pilot.press(*key, "enter")  # no stray characters spoil the real share
            await until(pilot, lambda: state(app) == "unsealed", 30)


async def test_vault_stopping_mid_session_keeps_the_registry_usable(services, tmp_path):
    issue(services, "Acme Corp", ["core"])
    issue(services, "Globex", ["core"])
    second = DevServer(tmp_path)
    second.start()
    try:
        settings = services.settings.model_copy(update={"vault_addr": second.address})
        mine = Services(
            settings,
            VaultService(settings, ROOT_TOKEN),
            services.registry,
            LicenseService(settings, VaultService(settings, ROOT_TOKEN), services.registry),
            "test",
        )
        mine.licenses.vault = mine.vault
        app = create_app(settings, mine, refresh_interval=0.2, out_dir=tmp_path)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert app.connection is not None and app.connection.state == "unsealed"
            second.stop()
            await until(pilot, lambda: app.connection.state == "unreachable", 15)
            await pilot.pause()
            assert "unreachable" in screen_text(app).splitlines()[0]
            assert isinstance(app.screen, LicensesScreen)
            app.screen.query_one("#search", Input).value = "glob"
            table = app.screen.query_one(LicenseTable)
            await until(pilot, lambda: table.row_count == 1)
            assert "Globex" in screen_text(app)
            second.start()  # the same port again: the app recovers by itself
            await until(pilot, lambda: app.connection.state == "unsealed", 30)
    finally:
        second.stop()


async def test_no_token_opens_connect_and_a_good_token_connects(services, tmp_path, monkeypatch):
    monkeypatch.delenv("VAULT_TOKEN")  # hvac would fall back to it
    mine = Services(
        services.settings,
        VaultService(services.settings, None),
        services.registry,
        services.licenses,
        "none",
    )
    app = create_app(services.settings, mine, refresh_interval=60, out_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ConnectScreen)
        await pilot.press(*"wrong-token", "enter")
        await settle(pilot)
        assert any(n.title == "Cannot connect" for n in app._notifications)
        assert isinstance(app.screen, ConnectScreen)
        token = app.screen.query_one("#token", Input)
        token.value = ROOT_TOKEN
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LicensesScreen)
        assert mine.vault.has_token
        assert app.connection is not None and app.connection.actor
        assert ROOT_TOKEN not in screen_text(app)


async def test_the_app_builds_its_own_services(env, tmp_path):
    app = create_app(Settings(), refresh_interval=60, out_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.services is not None
        assert isinstance(app.screen, LicensesScreen)
        assert app.connection is not None and app.connection.state == "unsealed"
    app.services.close()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[Settings]:
    """An uninitialised raft server; always stopped afterwards."""
    api, cluster = free_ports(2)
    process = local_server.spawn(tmp_path / "raft-data", api, cluster)
    try:
        yield Settings(
            vault_addr=f"http://127.0.0.1:{api}",
            data_dir=tmp_path / "data",
            db=str(tmp_path / "fresh.db"),
            timeout=5.0,
        )
    finally:
        end(process)


async def test_init_wizard_shows_the_shares_once_and_stores_nothing(fresh_server, tmp_path):
    from license_console.tui.modals.init_keys import InitKeysModal

    settings = fresh_server
    with console_for(settings, None, tmp_path, 60) as app:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            if isinstance(app.screen, ConnectScreen):  # no token yet: on-call closes it
                await pilot.press("escape")
                await settle(pilot)
            assert isinstance(app.screen, StatusScreen)
            assert "never been initialised" in screen_text(app)
            app.screen.query_one("#init-shares", Input).value = "3"
            app.screen.query_one("#init-threshold", Input).value = "2"
            await pilot.click("#init")
            await settle(pilot)
            assert isinstance(app.screen, InitKeysModal)
            shown = [k.get_secret_value() for k in app.screen.result.keys]
            root = app.screen.result.root_token.get_secret_value()
            text = screen_text(app)
            assert "shown ONCE" in text and "Key share 3:" in text
            await pilot.click("#use-root")  # use the root token for this session
            await settle(pilot)
            assert app.services is not None and app.services.vault.client.token == root
            await until(pilot, lambda: state(app) == "sealed", 30)
            assert "0 of 2 key shares" in screen_text(app)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    for path in written:  # the raft data is encrypted; everything else must not hold a secret
        data = path.read_bytes()
        for secret in [*shown, root]:
            assert secret.encode() not in data, path

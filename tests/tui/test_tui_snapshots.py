"""SVG snapshots of the main screens over a fixed registry, a fixed clock and no Vault.

Vault is pointed at a closed loopback port so the status line is the same on every machine;
refresh them with `pytest tests/tui --snapshot-update` after a Textual upgrade.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from license_console import audit
from license_console.config import Settings
from license_console.licenses import format_ts
from license_console.services import Services, build_services
from license_console.tui.app import LicenseConsoleApp, create_app
from license_console.tui.screens.detail import DetailScreen
from tui.support import settle

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CUSTOMERS = [
    "Acme Corp",
    "Globex Corporation",
    "Initech",
    "Umbrella Labs",
    "Stark Industries",
    "Wayne Enterprises",
    "[red]x[/red]",
]
MODULES = [["core"], ["core", "reporting"], ["analytics", "core"], ["core", "sso"]]
SIZE = (100, 30)


def fixed_id(number: int) -> str:
    return f"01JN{number:02d}SNAPSHOT{number:012d}"


def seed(services: Services) -> None:
    registry = services.registry
    with registry.write():
        for number in range(24):
            issued = NOW - timedelta(days=400 - number * 13)
            expires = NOW + timedelta(days=number * 9 - 40)
            document = {
                "license_id": fixed_id(number),
                "customer": CUSTOMERS[number % len(CUSTOMERS)],
                "modules": MODULES[number % len(MODULES)],
                "issued_at": format_ts(issued),
                "expires_at": format_ts(expires),
                "metadata": {"seats": 10 + number},
                "issuer": "License Authority",
                "version": "1.0",
                "renewed_from": None,
                "key_name": "license-signing-key",
                "key_version": 1 + number % 2,
                "alg": "ed25519",
                "signature": "vault:v1:" + "QUJD" * 16,
            }
            registry.add_license(document)
            audit.record("issue", "root (accessor snap)", fixed_id(number), {}, issued)
        registry.add_revocation(fixed_id(3), "contract ended", NOW, "root", NOW)
        audit.record("revoke", "root (accessor snap)", fixed_id(3), {"reason": "x"}, NOW)


@pytest.fixture
def snapshot_services(tmp_path: Path) -> Iterator[Services]:
    settings = Settings(
        vault_addr="http://127.0.0.1:9",
        vault_token="snapshot-token",
        db=str(tmp_path / "snapshot.db"),
        data_dir=tmp_path / "data",
        timeout=2.0,
    )
    services = build_services(settings)
    services.licenses.clock = lambda: NOW
    seed(services)
    try:
        yield services
    finally:
        services.close()


def make(services: Services) -> LicenseConsoleApp:
    return create_app(services.settings, services, refresh_interval=3600, out_dir=Path("/tmp"))


async def steady(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    pilot.app.clear_notifications()
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    for area in pilot.app.screen.query(TextArea):
        area.cursor_blink = False
    await pilot.pause()


def test_licenses_list(snap_compare, snapshot_services):
    assert snap_compare(make(snapshot_services), terminal_size=SIZE, run_before=steady)


def test_license_detail(snap_compare, snapshot_services):
    async def open_detail(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.app.push_screen(DetailScreen(fixed_id(6)))
        await steady(pilot)

    assert snap_compare(make(snapshot_services), terminal_size=SIZE, run_before=open_detail)


def test_issue_form(snap_compare, snapshot_services):
    async def fill(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        screen = pilot.app.screen
        screen.query_one("#customer", Input).value = "Acme Corp"
        screen.query_one("#modules", Input).value = "core, reporting"
        screen.query_one("#expires", Input).value = "2027-03-01"
        screen.query_one("#metadata", TextArea).text = "seats=25"
        await steady(pilot)

    assert snap_compare(make(snapshot_services), terminal_size=SIZE, run_before=fill)


def test_status_when_vault_is_unreachable(snap_compare, snapshot_services):
    async def status(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("s")
        await steady(pilot)

    assert snap_compare(make(snapshot_services), terminal_size=(80, 24), run_before=status)

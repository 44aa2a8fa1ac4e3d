"""Generate the SVG screenshots in screenshots/ from a real session against a local server.

    python scripts/screenshots.py [--out screenshots]

Starts its own OpenBao (raft storage, free loopback ports, a temporary directory), initialises
it with one key share, drives the console through the sealed status screen and the unseal,
seeds about forty realistic licenses through the services, takes one screenshot per main
screen, and always stops the server it started. Needs the `bao` binary (license-console[local]).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from license_console import local_server
from license_console.config import Settings
from license_console.licenses import LicenseRequest, utcnow
from license_console.operations import write_license_file
from license_console.services import Services, build_services
from license_console.tui.app import LicenseConsoleApp, create_app
from license_console.tui.screens.detail import DetailScreen
from license_console.vault import VaultService

SIZE = (120, 34)
CUSTOMERS = [
    "Acme Corp",
    "Globex Corporation",
    "Initech",
    "Umbrella Labs",
    "Stark Industries",
    "Wayne Enterprises",
    "Cyberdyne Systems",
    "Soylent Foods",
    "Tyrell Corporation",
    "Hooli",
    "Pied Piper",
    "Massive Dynamic",
    "Vandelay Industries",
    "Wonka Industries",
]
MODULES = ["core", "reporting", "analytics", "sso", "audit-export", "api", "mobile"]
BATCH_CSV = """customer,modules,expires_at,metadata
Oceanic Airlines,core;reporting,{year}-12-31,"{{""seats"": 40}}"
Dunder Mifflin,core,{year}-06-30,
,core,{year}-12-31,
Gringotts Bank,core;sso,31/12/{year},
Los Pollos Hermanos,core;bad module!,{year}-12-31,
Monsters Inc,core;analytics,{year}-09-30,"{{""plan"": ""enterprise""}}"
"""


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def seed(services: Services, rng: random.Random) -> list[str]:
    """About forty licenses: issued over the last two years, a few expired, renewed, revoked."""
    real_clock = services.licenses.clock
    ids: list[str] = []
    try:
        for number in range(38):
            issued_days_ago = rng.randint(1, 700)
            now = real_clock() - timedelta(days=issued_days_ago)
            services.licenses.clock = lambda now=now: now  # back-dated issue, real signature
            length = rng.choice([90, 365, 365, 730, 1095])
            modules = ["core", *rng.sample(MODULES[1:], rng.randint(0, 3))]
            request = LicenseRequest.build(
                CUSTOMERS[number % len(CUSTOMERS)],
                modules,
                now + timedelta(days=length),
                {"seats": rng.choice([5, 10, 25, 50, 100, 250]), "contract": f"C-{1000 + number}"},
                now=now,
            )
            ids.append(services.licenses.issue(request).license_id)
    finally:
        services.licenses.clock = real_clock
    live = [i for i in ids if services.licenses.get(i).status == "active"]
    services.licenses.renew(live[-1], utcnow() + timedelta(days=400), ["analytics"], {})
    services.licenses.renew(live[-5], utcnow() + timedelta(days=365), [], {"seats": 500})
    services.licenses.revoke(live[-2], "contract terminated early")
    services.licenses.revoke(live[-9], "chargeback", utcnow() + timedelta(days=14))
    return ids


async def wait(pilot: Pilot[Any], condition: Callable[[], bool] | None = None) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    deadline = time.monotonic() + 30
    while condition is not None and not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("the console did not reach the expected state")
        await pilot.pause(0.1)
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    for area in pilot.app.screen.query(TextArea):
        area.cursor_blink = False
    pilot.app.clear_notifications()
    await pilot.pause(0.2)


async def session(app: LicenseConsoleApp, out: Path, key: str, work: Path) -> None:
    services = app.services
    assert services is not None

    def shot(name: str) -> None:
        path = app.save_screenshot(filename=f"{name}.svg", path=str(out))
        print(f"wrote {path}")

    def state() -> str:
        return app.connection.state if app.connection else "checking"

    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot, lambda: state() == "sealed")
        shot("status-sealed")
        app.screen.query_one("#unseal-key", Input).value = key
        await pilot.press("enter")
        await wait(pilot, lambda: state() == "unsealed")
        shot("status-unsealed")

        services.vault.create_key("ed25519")
        ids = seed(services, random.Random(7))
        await pilot.press("l")
        await pilot.press("r")
        await wait(pilot)
        shot("licenses")

        await app.push_screen(DetailScreen(ids[3]))
        await wait(pilot)
        shot("license-detail")
        await pilot.press("c")
        await wait(pilot)
        shot("customer")

        await pilot.press("n")
        await wait(pilot)
        form = app.screen
        form.query_one("#customer", Input).value = "Globex Corporation"
        form.query_one("#modules", Input).value = "core, reporting, sso"
        form.query_one("#expires", Input).value = (utcnow() + timedelta(days=365)).strftime(
            "%Y-%m-%d"
        )
        form.query_one("#metadata", TextArea).text = "seats=50\ncontract=C-2041"
        await wait(pilot)
        shot("issue-form")

        batch = work / "renewals-q3.csv"
        batch.write_text(BATCH_CSV.format(year=utcnow().year + 1), encoding="utf-8")
        await pilot.press("escape", "b")
        await wait(pilot)
        app.screen.query_one("#batch-path", Input).value = str(batch)
        await pilot.press("enter")
        await wait(pilot)
        shot("batch-preview")
        await pilot.press("ctrl+s")  # asks first: "Issue N licenses from FILE?"
        await wait(pilot)
        shot("batch-confirm")
        await pilot.click("#confirm")
        await wait(pilot)
        shot("batch-result")

        tampered = work / "tampered.lic"
        write_license_file(tampered, _license(services, ids[0]))
        text = tampered.read_text(encoding="utf-8").replace('"core"', '"core", "enterprise"', 1)
        tampered.write_text(text, encoding="utf-8")
        await pilot.press("escape", "v")
        await wait(pilot)
        app.screen.query_one("#validate-path", Input).value = str(tampered)
        await pilot.press("enter")
        await wait(pilot)
        shot("validate")

        await pilot.press("escape", "a")
        await wait(pilot)
        shot("audit")

        services.vault.rotate_key()
        await pilot.press("escape", "k")
        await wait(pilot)
        shot("keys")


def _license(services: Services, license_id: str) -> Any:
    from license_console.licenses import License

    return License.model_validate(services.licenses.get(license_id).document)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent.parent / "screenshots")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="license-console-shots-") as tmp:
        work = Path(tmp)
        api, cluster = free_ports(2)
        process: subprocess.Popen[bytes] = local_server.spawn(work / "server", api, cluster)
        try:
            settings = Settings(
                vault_addr=f"http://127.0.0.1:{api}",
                vault_token=None,
                vault_namespace=None,
                data_dir=work / "data",
                db=str(work / "registry.db"),
                timeout=5.0,
            )
            init = VaultService(settings).initialize(1, 1)
            settings.vault_token = init.root_token  # in memory only, never written
            services = build_services(settings)
            try:
                app = create_app(settings, services, refresh_interval=0.5, out_dir=work)
                app.theme = "textual-dark"
                asyncio.run(session(app, args.out, init.keys[0].get_secret_value(), work))
            finally:
                services.close()
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
    return 0


if __name__ == "__main__":
    sys.exit(main())

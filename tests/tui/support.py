"""Helpers for the console's pilot tests (fixtures live in conftest.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static

from license_console.licenses import LicenseRequest
from license_console.services import Services
from license_console.tui.app import LicenseConsoleApp

ScreenT = TypeVar("ScreenT", bound=Screen[Any])


def issue(services: Services, customer: str, modules: list[str], expires: str = "2031-06-30"):
    return services.licenses.issue(LicenseRequest.build(customer, modules, expires))


async def settle(pilot: Pilot[Any]) -> None:
    """Let every worker finish and every resulting message be handled."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def until(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Short polling for what depends on something outside the app (a server going away)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.05)


def screen_text(app: LicenseConsoleApp) -> str:
    """Everything drawn on the current screen, as plain text lines."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


def static_text(app: LicenseConsoleApp, selector: str) -> str:
    """The plain text of one Static, wherever it is scrolled."""
    return str(app.screen.query_one(selector, Static).content)


async def go(pilot: Pilot[Any], key: str, screen_type: type[ScreenT]) -> ScreenT:
    """Press a navigation key once the app is idle; the screen it must lead to is returned."""
    await settle(pilot)
    await pilot.press(key)
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, screen_type), f"{key!r} led to {type(screen).__name__}"
    return screen


async def open_detail(pilot: Pilot[Any], license_id: str) -> None:
    """The detail screen of one license, its validation finished."""
    from license_console.tui.screens.detail import DetailScreen

    await settle(pilot)
    await pilot.app.push_screen(DetailScreen(license_id))
    await settle(pilot)

"""Fixtures for the console's pilot tests: the session's dev server, a fresh registry per test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from license_console.services import Services
from license_console.tui.app import LicenseConsoleApp, create_app


@pytest.fixture
def make_app(services: Services, tmp_path: Path) -> Callable[..., LicenseConsoleApp]:
    """The app over the test services; exports land in tmp_path/out."""
    out = tmp_path / "out"
    out.mkdir()

    def make(**kwargs: Any) -> LicenseConsoleApp:
        kwargs.setdefault("refresh_interval", 60.0)
        kwargs.setdefault("out_dir", out)
        return create_app(services.settings, kwargs.pop("services", services), **kwargs)

    return make

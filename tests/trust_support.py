"""Helpers shared by the trust tests (policies, secrets, offline checks, audit chain)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import hvac
import pytest

from license_console.cli import main

POLICY_DIR = Path(__file__).resolve().parent.parent / "policies"
DEFAULT_KEY = "license-signing-key"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any, str]:
    """The CLI in-process with --json: (exit code, parsed stdout or {}, stderr)."""
    code = main([*args, "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else {}, captured.err


def run_text(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def issue(
    capsys: pytest.CaptureFixture[str], out: Path, customer: str = "Acme Corp"
) -> dict[str, Any]:
    code, body, err = run(
        capsys, "issue", "--customer", customer, "--module", "hr", "--module", "payroll",
        "--expires", "2031-12-31", "--meta", "max_users=100", "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    return dict(body["license"])


def render_policy(name: str, key_name: str) -> str:
    """A policy file with the test's key name in place of the default one.

    The policies name the default key `license-signing-key`; every test here uses its own key
    on the shared dev server, so the key name in the paths is the only thing substituted.
    """
    text = (POLICY_DIR / f"{name}.hcl").read_text(encoding="utf-8")
    return text.replace(DEFAULT_KEY, key_name)


def token_with_policy(
    client: hvac.Client, name: str, key_name: str, display_name: str, **extra: Any
) -> str:
    policy = f"{name}-{key_name}"
    client.sys.create_or_update_policy(name=policy, policy=render_policy(name, key_name))
    created = client.auth.token.create(
        policies=[policy], display_name=display_name, ttl="1h", **extra
    )
    return str(created["auth"]["client_token"])

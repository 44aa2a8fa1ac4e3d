"""Least privilege on a real server: the three policies in policies/ and nothing else.

Tokens are created by root from the policy files, then only the CLI runs with them. The files
name the default key; each test has its own key on the shared dev server, so the key name in
the paths is substituted (render_policy). On-call seals a dev server of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DevServer
from trust_support import issue, render_policy, run, token_with_policy

from license_console.verify import load_public_keys, verify_license


@pytest.fixture
def admin(env: dict[str, str], dev_server: DevServer, monkeypatch: pytest.MonkeyPatch) -> str:
    token = token_with_policy(
        dev_server.client(), "license-admin", env["LICENSE_CONSOLE_KEY_NAME"], "admin-alice"
    )
    monkeypatch.setenv("VAULT_TOKEN", token)
    return token


def test_policy_files_are_commented_and_name_only_the_default_key() -> None:
    for name in ("license-admin", "license-support", "license-oncall"):
        text = render_policy(name, "license-signing-key")
        blocks = text.count("path ")
        assert blocks >= 3
        # every path block is preceded by a comment that says why it is there
        lines = text.splitlines()
        for number, line in enumerate(lines):
            if line.startswith("path "):
                assert lines[number - 1].startswith("#"), f"{name}: {line} has no comment"
        assert "transit/keys/*" not in text and 'path "*"' not in text


def test_admin_token_does_every_operation_without_root(
    admin: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], dev_server: DevServer
) -> None:
    code, body, err = run(capsys, "keys", "create")
    assert code == 0 and body["created"] is True, err
    first = issue(capsys, tmp_path / "a.lic")
    issue(capsys, tmp_path / "b.lic", "Globex")
    assert run(capsys, "validate", str(tmp_path / "a.lic"))[0] == 0
    code, renewed, err = run(
        capsys, "renew", first["license_id"], "--expires", "2033-01-01",
        "--out", str(tmp_path / "a2.lic"),
    )  # fmt: skip
    assert code == 0, err
    code, body, err = run(capsys, "revoke", renewed["license"]["license_id"], "--reason", "test")
    assert code == 0 and body["success"] is True, err
    code, body, _ = run(capsys, "list")
    assert code == 0 and body["total"] == 3
    batch = tmp_path / "batch.csv"
    batch.write_text("customer,modules,expires_at\nInitech,hr,2030-01-01\nHooli,crm,2030-01-01\n")
    code, body, err = run(capsys, "batch", str(batch))
    assert code == 0 and len(body["issued"]) == 2, err
    code, body, err = run(capsys, "keys", "rotate")
    assert code == 0 and body["latest_version"] == 2, err
    code, body, err = run(capsys, "keys", "export", "--out", str(tmp_path / "keys.pem"))
    assert code == 0 and body["versions"] == [1, 2], err
    code, body, err = run(capsys, "revocations", "export", "--out", str(tmp_path / "rev.json"))
    assert code == 0 and body["count"] == 1 and body["key_version"] == 2, err
    code, body, err = run(capsys, "audit", "checkpoint")
    assert code == 0 and body["created"] is True, err
    code, body, err = run(capsys, "audit", "verify")
    assert code == 0 and body["intact"] and body["signatures_verified"], err
    ring = load_public_keys((tmp_path / "keys.pem").read_text())
    assert verify_license(first, ring).valid
    # the audit trail names the admin token, never a root token
    code, body, _ = run(capsys, "audit", "--limit", "100")
    assert {e["actor"].split(" ")[0] for e in body["events"]} == {"token-admin-alice"}
    # and the token can do nothing beyond its key
    caps = dev_server.client().sys.get_capabilities(
        paths=["sys/seal", "transit/keys/another-key", "sys/policy/license-admin"], token=admin
    )
    assert caps["sys/seal"] == ["deny"]
    assert caps["transit/keys/another-key"] == ["deny"]
    assert caps["sys/policy/license-admin"] == ["deny"]


def test_support_token_validates_and_looks_up_but_cannot_change_anything(
    admin: str,
    env: dict[str, str],
    dev_server: DevServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert run(capsys, "keys", "create")[0] == 0
    license_ = issue(capsys, tmp_path / "a.lic")
    support = token_with_policy(
        dev_server.client(), "license-support", env["LICENSE_CONSOLE_KEY_NAME"], "support-bob"
    )
    monkeypatch.setenv("VAULT_TOKEN", support)

    code, body, err = run(capsys, "validate", str(tmp_path / "a.lic"))
    assert code == 0 and body["valid"] is True, err
    code, body, _ = run(capsys, "list", "--customer", "acme")
    assert code == 0 and body["total"] == 1
    assert run(capsys, "keys", "show")[0] == 0
    assert run(capsys, "keys", "export")[0] == 0

    batch = tmp_path / "batch.csv"
    batch.write_text("customer,modules,expires_at\nInitech,hr,2030-01-01\n")
    refused = {
        "issue": ["issue", "--customer", "X", "--module", "hr", "--expires", "2031-01-01"],
        "renew": ["renew", license_["license_id"], "--expires", "2033-01-01"],
        "revoke": ["revoke", license_["license_id"], "--reason", "support may not"],
        "rotate": ["keys", "rotate"],
        "revocations": ["revocations", "export", "--out", str(tmp_path / "rev.json")],
        "batch": ["batch", str(batch)],
    }
    for name, args in refused.items():
        code, body, err = run(capsys, *args)
        assert code == 3, (name, body, err)
        assert "permission denied" in (err + str(body)).lower(), (name, err)

    # nothing changed: still one license, not revoked, key still at v1
    monkeypatch.setenv("VAULT_TOKEN", admin)
    code, body, _ = run(capsys, "list")
    assert body["total"] == 1 and body["licenses"][0]["status"] == "active"
    assert run(capsys, "keys", "show")[1]["latest_version"] == 1


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[DevServer]:
    """A dev server this test may seal without disturbing the session's server."""
    server = DevServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_oncall_token_reads_status_and_seals(
    own_server: DevServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    oncall = token_with_policy(
        own_server.client(), "license-oncall", "license-signing-key", "oncall-carol"
    )
    monkeypatch.setenv("VAULT_ADDR", own_server.address)
    monkeypatch.setenv("VAULT_TOKEN", oncall)
    code, body, _ = run(capsys, "status")
    assert code == 0 and body["state"] == "unsealed"
    # no access to the signing key
    code, body, err = run(capsys, "keys", "show")
    assert code == 3 and "permission denied" in err
    code, body, err = run(capsys, "seal")
    assert code == 0 and body["sealed"] is True, err
    code, body, _ = run(capsys, "status")
    assert code == 2 and body["state"] == "sealed"

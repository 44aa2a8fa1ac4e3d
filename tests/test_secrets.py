"""No token on disk, in output or in a repr after a full session through the CLI.

The session runs with a token whose value is distinctive (created by root with a chosen id),
then every file under the test's directory (data dir, HOME, registry with its WAL, every
output file) and everything printed are searched for it.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from conftest import DevServer
from trust_support import issue, render_policy, run, run_text

from license_console.config import Settings
from license_console.services import build_services


@pytest.fixture
def secret_token(
    env: dict[str, str], dev_server: DevServer, monkeypatch: pytest.MonkeyPatch
) -> str:
    token = "lcsecret-" + uuid.uuid4().hex
    key_name = env["LICENSE_CONSOLE_KEY_NAME"]
    client = dev_server.client()
    policy = f"license-admin-{key_name}"
    client.sys.create_or_update_policy(name=policy, policy=render_policy("license-admin", key_name))
    client.auth.token.create(id=token, policies=[policy], display_name="secret-session", ttl="1h")
    monkeypatch.setenv("VAULT_TOKEN", token)
    return token


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_no_token_anywhere_after_a_full_session(
    secret_token: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    printed: list[str] = []

    def cli(*args: str) -> int:
        code, out, err = run_text(capsys, *args)
        printed.extend([out, err])
        return code

    assert cli("status") == 0
    code, body, err = run(capsys, "status")
    printed.extend([str(body), err])
    assert cli("keys", "create") == 0
    license_ = issue(capsys, tmp_path / "a.lic")
    assert cli("validate", str(tmp_path / "a.lic")) == 0
    assert cli("renew", license_["license_id"], "--expires", "2033-01-01",
               "--out", str(tmp_path / "a2.lic")) == 0  # fmt: skip
    assert cli("list") == 0
    issue(capsys, tmp_path / "b.lic", "Globex")
    listed = run(capsys, "list", "--customer", "globex")[1]
    assert cli("revoke", listed["licenses"][0]["license_id"], "--reason", "breach") == 0
    batch = tmp_path / "batch.csv"
    batch.write_text("customer,modules,expires_at\nInitech,hr,2030-01-01\nbad,,\n")
    assert cli("batch", str(batch)) == 1  # one bad row: the error output is searched too
    assert cli("keys", "rotate") == 0
    assert cli("keys", "export", "--out", str(tmp_path / "keys.pem")) == 0
    assert cli("revocations", "export", "--out", str(tmp_path / "rev.json")) == 0
    assert cli("audit", "checkpoint") == 0
    assert cli("audit", "verify") == 0
    assert cli("audit", "--limit", "100") == 0
    assert cli("validate", str(tmp_path / "a.lic"), "--offline",
               "--public-key", str(tmp_path / "keys.pem")) == 0  # fmt: skip
    assert cli("issue", "--customer", "X", "--module", "a", "--expires", "yesterday") == 2
    (tmp_path / "forged.lic").write_text((tmp_path / "a.lic").read_text().replace("Acme", "Acne"))
    assert cli("validate", str(tmp_path / "forged.lic")) == 1

    needle = secret_token.encode()
    written = files_under(tmp_path)
    assert any(p.name == "registry.db" for p in written)
    leaks = [str(p) for p in written if needle in p.read_bytes()]
    assert leaks == []
    assert all(secret_token not in text for text in printed)
    assert not (Path.home() / ".vault-token").exists()

    # the audit trail names the token by display name and accessor only
    code, body, _ = run(capsys, "audit", "--limit", "200")
    actors = {event["actor"] for event in body["events"]}
    assert actors and all(a.startswith("token-secret-session (accessor ") for a in actors)


def test_settings_and_services_never_show_the_token(secret_token: str) -> None:
    settings = Settings()
    assert settings.vault_token is not None
    assert settings.vault_token.get_secret_value() == secret_token
    for text in (repr(settings), str(settings), settings.model_dump_json()):
        assert secret_token not in text
    services = build_services(settings)
    try:
        assert secret_token not in repr(services)
        assert secret_token not in repr(services.vault.whoami())
        assert services.token_source == "VAULT_TOKEN"
    finally:
        services.close()

"""When Vault goes away or seals: clear errors, exit 3, and a registry left exactly as it was."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from license_console.batch_file import BatchEntry
from license_console.cli import main
from license_console.config import Settings
from license_console.errors import VaultSealed, VaultUnreachable
from license_console.licenses import LicenseRequest
from license_console.registry import ListQuery
from license_console.services import build_services
from tests.conftest import ROOT_TOKEN, DevServer


@pytest.fixture
def own_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DevServer]:
    """A server of this test's own, free to be stopped or sealed."""
    server = DevServer(tmp_path)
    server.start()
    monkeypatch.setenv("VAULT_ADDR", server.address)
    monkeypatch.setenv("VAULT_TOKEN", ROOT_TOKEN)
    monkeypatch.setenv("LICENSE_CONSOLE_DB", str(tmp_path / "registry.db"))
    try:
        yield server
    finally:
        server.stop()


def _request(customer: str = "Acme") -> LicenseRequest:
    return LicenseRequest.build(customer, ["hr"], "2031-01-01")


def test_server_stopped_between_operations(own_server: DevServer) -> None:
    services = build_services(Settings())
    services.vault.create_key()
    first = services.licenses.issue(_request())
    own_server.stop()
    with pytest.raises(VaultUnreachable, match="cannot reach Vault"):
        services.licenses.issue(_request("Second"))
    with pytest.raises(VaultUnreachable):
        services.licenses.renew(first.license_id, "2032-01-01")
    listed = services.licenses.list(ListQuery())
    assert [r.license_id for r in listed.licenses] == [first.license_id]
    assert listed.licenses[0].status == "active" and listed.licenses[0].superseded_by is None
    status = services.vault.status()
    assert status.reachable is False and status.state == "unreachable"


def test_server_stopped_in_the_middle_of_a_batch(own_server: DevServer) -> None:
    services = build_services(Settings())
    services.vault.create_key()
    entries = [
        BatchEntry(row=n, customer=f"C{n}", modules=["m"], expires_at="2031-01-01")
        for n in range(1, 601)
    ]
    result = services.licenses.batch_issue(entries, progress=lambda done, _: own_server.stop())
    assert result.aborted and "cannot reach Vault" in result.aborted
    assert len(result.issued) == 200
    assert len(result.errors) == 400 and result.errors[0].row == 201
    assert services.licenses.list(ListQuery()).total == 200


def test_sealed_server(own_server: DevServer, capsys: pytest.CaptureFixture[str]) -> None:
    services = build_services(Settings())
    services.vault.create_key()
    services.licenses.issue(_request())
    services.vault.seal()

    assert main(["status", "--json"]) == 2
    body = json.loads(capsys.readouterr().out)
    assert body["sealed"] is True and body["state"] == "sealed"
    assert body["standby"] is False  # a sealed node's health says standby; it is not one

    with pytest.raises(VaultSealed, match="sealed"):
        services.licenses.issue(_request("Second"))
    assert main(["issue", "--customer", "B", "--module", "m", "--expires", "2031-01-01"]) == 3
    assert "sealed" in capsys.readouterr().err
    assert services.licenses.list(ListQuery()).total == 1


def test_wrong_token_is_permission_denied(own_server: DevServer, monkeypatch, capsys) -> None:
    monkeypatch.setenv("VAULT_TOKEN", "s.not-a-real-token")
    assert main(["keys", "show", "--json"]) == 3
    body = json.loads(capsys.readouterr().out)
    assert body["code"] == "UNAUTHORIZED" and "permission denied" in body["error"]


def test_missing_key_says_how_to_create_it(own_server: DevServer, capsys) -> None:
    assert main(["issue", "--customer", "A", "--module", "m", "--expires", "2031-01-01"]) == 1
    assert "keys create" in capsys.readouterr().err


def test_a_hung_vault_times_out_with_a_message(monkeypatch, capsys) -> None:
    """A server that accepts connections and never answers: the configured timeout ends it."""
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        monkeypatch.setenv("VAULT_ADDR", f"http://127.0.0.1:{listener.getsockname()[1]}")
        monkeypatch.setenv("VAULT_TOKEN", ROOT_TOKEN)
        monkeypatch.setenv("LICENSE_CONSOLE_TIMEOUT", "0.5")
        code = main(["keys", "show", "--json"])
        body = json.loads(capsys.readouterr().out)
        assert code == 3
        assert "did not answer within 0.5s" in body["error"]
        assert main(["status", "--json"]) == 1
        assert "did not answer" in json.loads(capsys.readouterr().out)["error"]

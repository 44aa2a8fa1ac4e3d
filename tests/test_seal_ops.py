"""Seal operations through VaultService against a real, freshly spawned `bao` (no auto-init).

The ceremony a production authority runs (several shares, a threshold) is exercised here on a
throwaway raft server, so the console's init/unseal/seal screens are tested on the real thing.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from license_console import local_server
from license_console.config import Settings
from license_console.errors import (
    InvalidInput,
    OperationRefused,
    VaultSealed,
    VaultUnreachable,
)
from license_console.vault import VaultService, scheme_for_key_type
from tests.conftest import end, free_ports

VAULT_ENV = ("VAULT_ADDR", "VAULT_TOKEN", "VAULT_NAMESPACE", "VAULT_CACERT", "VAULT_SKIP_VERIFY")
SCHEME = scheme_for_key_type("ed25519")


@pytest.fixture
def server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Settings, subprocess.Popen[bytes]]]:
    """A spawned, uninitialised server and settings aimed at it; always ended afterwards."""
    monkeypatch.setenv("LICENSE_CONSOLE_KEYRING", "file")
    for name in VAULT_ENV:
        monkeypatch.delenv(name, raising=False)
    api, cluster = free_ports()
    process = local_server.spawn(tmp_path / "data", api, cluster)
    try:
        settings = Settings(
            vault_addr=f"http://127.0.0.1:{api}", data_dir=tmp_path / "data", timeout=5.0
        )
        yield settings, process
    finally:
        end(process)


def wait_active(service: VaultService, timeout: float = 20.0) -> None:
    """After the last share raft still elects this node leader before it can serve."""
    deadline = time.monotonic() + timeout
    while service.status().state != "unsealed":
        assert time.monotonic() < deadline, service.status()
        time.sleep(0.1)


def test_a_fresh_server_is_uninitialised(server: tuple[Settings, subprocess.Popen[bytes]]) -> None:
    settings, _process = server
    status = VaultService(settings).status()

    assert status.reachable and not status.initialized
    assert status.state == "uninitialized"
    assert status.storage_type == "raft"


def test_init_unseal_and_seal_again(server: tuple[Settings, subprocess.Popen[bytes]]) -> None:
    settings, _process = server
    service = VaultService(settings)

    with pytest.raises(InvalidInput):
        service.initialize(shares=2, threshold=3)
    result = service.initialize(shares=3, threshold=2)
    assert len(result.keys) == 3
    with pytest.raises(OperationRefused, match="already initialised"):
        service.initialize(shares=3, threshold=2)

    status = service.status()
    assert status.initialized and status.sealed
    assert (status.threshold, status.shares, status.progress) == (2, 3, 0)

    status = service.unseal(result.keys[0].get_secret_value())
    assert status.sealed and status.progress == 1
    with pytest.raises(InvalidInput):
        service.unseal("not-a-key-share")
    status = service.unseal(result.keys[2].get_secret_value())
    assert not status.sealed and status.progress == 0

    root = VaultService(settings, token=result.root_token.get_secret_value())
    wait_active(root)
    key, created = root.create_key("ed25519")
    assert created
    assert len(root.sign([b"payload"], key.latest_version, SCHEME)) == 1

    status = root.seal()
    assert status.sealed and status.state == "sealed"
    with pytest.raises(VaultSealed):
        root.sign([b"payload"], key.latest_version, SCHEME)


def test_a_killed_server_is_unreachable(server: tuple[Settings, subprocess.Popen[bytes]]) -> None:
    settings, process = server
    process.kill()
    process.wait(timeout=10)
    service = VaultService(settings, token="any-token")

    with pytest.raises(VaultUnreachable):
        service.sign([b"payload"], 1, SCHEME)
    status = service.status()  # never raises
    assert not status.reachable and status.state == "unreachable"
    assert status.error and settings.vault_addr in status.error

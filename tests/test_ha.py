"""A two-node raft cluster on loopback: the standby answers /sys/health with 429, and the
console still reports it correctly (hvac hands back a Response there, not a dict)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import hvac
import pytest
import requests

from license_console.cli import main
from license_console.config import Settings
from license_console.vault import VaultService
from tests.conftest import bao_binary, free_port

CONFIG = """
storage "raft" {{
  path = "{data}"
  node_id = "{node}"
  performance_multiplier = 1
}}
listener "tcp" {{
  address = "127.0.0.1:{port}"
  cluster_address = "127.0.0.1:{cluster}"
  tls_disable = true
}}
api_addr = "http://127.0.0.1:{port}"
cluster_addr = "https://127.0.0.1:{cluster}"
cluster_name = "license-ha-test"
"""


def _node(tmp: Path, name: str) -> tuple[subprocess.Popen[bytes], str]:
    port, cluster = free_port(), free_port()
    data = tmp / name
    data.mkdir()
    config = tmp / f"{name}.hcl"
    config.write_text(CONFIG.format(data=data, node=name, port=port, cluster=cluster))
    log = (tmp / f"{name}.log").open("wb")
    process = subprocess.Popen(
        [bao_binary(), "server", f"-config={config}"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    address = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(f"{address}/v1/sys/seal-status", timeout=1)
            return process, address
        except requests.RequestException:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.1)


def _wait(condition, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("cluster did not settle")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    tmp = tmp_path_factory.mktemp("ha")
    processes = []
    try:
        first, leader = _node(tmp, "node1")
        processes.append(first)
        client = hvac.Client(url=leader)
        init = client.sys.initialize(secret_shares=1, secret_threshold=1)
        key = init["keys"][0]
        client.sys.submit_unseal_key(key)
        _wait(lambda: client.sys.read_leader_status().get("is_self") is True)

        second, standby = _node(tmp, "node2")
        processes.append(second)
        other = hvac.Client(url=standby)
        other.adapter.post("/v1/sys/storage/raft/join", json={"leader_api_addr": leader})
        other.sys.submit_unseal_key(key)
        _wait(lambda: not other.sys.read_seal_status()["sealed"])
        yield leader, standby
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=15)


def test_standby_and_active_nodes(cluster: tuple[str, str]) -> None:
    leader, standby = cluster
    assert requests.get(f"{standby}/v1/sys/health", timeout=5).status_code == 429

    status = VaultService(Settings(vault_addr=standby)).status()
    assert status.reachable and status.initialized and not status.sealed
    assert status.standby and status.ha_mode == "standby" and status.state == "standby"
    assert status.storage_type == "raft" and status.cluster_name == "license-ha-test"

    active = VaultService(Settings(vault_addr=leader)).status()
    assert active.ha_mode == "active" and active.state == "unsealed" and not active.standby


def test_status_command_on_a_standby_exits_0_like_vault(
    cluster: tuple[str, str], monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("VAULT_ADDR", cluster[1])
    assert main(["status", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["state"] == "standby" and body["ha_enabled"] is True

"""TLS as the Vault CLI does it: VAULT_CACERT trusts a private CA, VAULT_SKIP_VERIFY skips checks.

Uses `bao server -dev -dev-tls`, which makes its own CA and certificate on loopback.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from license_console.cli import main
from tests.conftest import ROOT_TOKEN, bao_binary, free_port


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    certs = tmp_path_factory.mktemp("tls")
    port = free_port()
    process = subprocess.Popen(
        [
            bao_binary(), "server", "-dev", "-dev-tls", f"-dev-tls-cert-dir={certs}",
            f"-dev-root-token-id={ROOT_TOKEN}", f"-dev-listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    address = f"https://127.0.0.1:{port}"
    ca = certs / "vault-ca.pem"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{address}/v1/sys/health", verify=str(ca), timeout=1)
                break
            except (requests.RequestException, OSError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield address, ca
    finally:
        process.terminate()
        process.wait(timeout=15)


def status(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    code = main(["status", "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_private_ca(tls_server, monkeypatch, capsys) -> None:
    address, ca = tls_server
    monkeypatch.setenv("VAULT_ADDR", address)
    monkeypatch.setenv("VAULT_TOKEN", ROOT_TOKEN)

    code, body = status(capsys)
    assert code == 1 and body["reachable"] is False  # an unknown CA is not trusted by default
    assert "VAULT_CACERT" in body["error"]

    monkeypatch.setenv("VAULT_CACERT", str(ca))
    code, body = status(capsys)
    assert code == 0 and body["state"] == "unsealed"

    monkeypatch.delenv("VAULT_CACERT")
    monkeypatch.setenv("VAULT_SKIP_VERIFY", "true")
    code, body = status(capsys)
    assert code == 0 and body["state"] == "unsealed"

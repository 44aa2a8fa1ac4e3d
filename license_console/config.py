"""Settings, read the way the Vault CLI reads them so existing shells and scripts just work.

Vault connection variables keep their standard names (VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE,
VAULT_CACERT, VAULT_SKIP_VERIFY); everything that is ours is prefixed LICENSE_CONSOLE_.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from platformdirs import user_data_path
from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "license-console"
DEFAULT_ADDR = "http://127.0.0.1:8200"
KEY_TYPES = (
    "ed25519",
    "ecdsa-p256",
    "ecdsa-p384",
    "ecdsa-p521",
    "rsa-2048",
    "rsa-3072",
    "rsa-4096",
)


def default_data_dir() -> Path:
    """Where the registry, the local server's raft data and its fallback secrets live (XDG)."""
    return user_data_path(APP_NAME, appauthor=False)


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    """Everything the services need; the CLI overrides fields from its flags."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, frozen=False)

    vault_addr: str = Field(DEFAULT_ADDR, validation_alias=_env("VAULT_ADDR", "vault_addr"))
    vault_token: SecretStr | None = Field(
        None, validation_alias=_env("VAULT_TOKEN", "vault_token"), repr=False
    )
    vault_namespace: str | None = Field(
        None, validation_alias=_env("VAULT_NAMESPACE", "vault_namespace")
    )
    vault_cacert: str | None = Field(None, validation_alias=_env("VAULT_CACERT", "vault_cacert"))
    vault_skip_verify: bool = Field(
        False, validation_alias=_env("VAULT_SKIP_VERIFY", "vault_skip_verify")
    )
    transit_mount: str = Field(
        "transit", validation_alias=_env("LICENSE_CONSOLE_TRANSIT_MOUNT", "transit_mount")
    )
    key_name: str = Field(
        "license-signing-key", validation_alias=_env("LICENSE_CONSOLE_KEY_NAME", "key_name")
    )
    rsa_padding: Literal["pss", "pkcs1v15"] = Field(
        "pss", validation_alias=_env("LICENSE_CONSOLE_RSA_PADDING", "rsa_padding")
    )
    timeout: float = Field(10.0, validation_alias=_env("LICENSE_CONSOLE_TIMEOUT", "timeout"))
    data_dir: Path = Field(
        default_factory=default_data_dir,
        validation_alias=_env("LICENSE_CONSOLE_DATA_DIR", "data_dir"),
    )
    db: str | None = Field(None, validation_alias=_env("LICENSE_CONSOLE_DB", "db"))
    issuer: str = Field(
        "License Authority", validation_alias=_env("LICENSE_CONSOLE_ISSUER", "issuer")
    )
    clock_skew_seconds: int = Field(
        300, validation_alias=_env("LICENSE_CONSOLE_CLOCK_SKEW", "clock_skew_seconds")
    )
    # Sign the audit chain's head after an operation once this many events are unsigned; 0 = never.
    audit_checkpoint_every: int = Field(
        100,
        ge=0,
        validation_alias=_env("LICENSE_CONSOLE_AUDIT_CHECKPOINT_EVERY", "audit_checkpoint_every"),
    )

    @field_validator("vault_addr")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("vault_namespace", "vault_cacert", "db", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def database(self) -> str:
        """The registry location: LICENSE_CONSOLE_DB / --db, else a SQLite file in data_dir."""
        return self.db or str(self.data_dir / "registry.db")

    @property
    def tls_verify(self) -> bool | str:
        """The `verify` argument of requests: a CA bundle, or False when told to skip."""
        if self.vault_skip_verify:
            return False
        return self.vault_cacert or True


def token_file() -> Path:
    """The Vault CLI's token helper file; we read it like `vault` does."""
    return Path.home() / ".vault-token"

"""Publishing the signing key's public halves, in the key-ring format the offline verifier reads.

Customers verify licenses with `verify.py` and this file alone, so the export goes through
`verify.format_public_keys`/`public_key_pem_from_transit`: whatever we write, the verifier reads.
"""

from __future__ import annotations

from pydantic import BaseModel

from license_console.errors import InvalidInput, OperationRefused
from license_console.vault import KeyInfo, VaultService
from license_console.verify import PublicKeyEntry, format_public_keys, public_key_pem_from_transit


class PublicKeyExport(BaseModel):
    key_name: str
    key_type: str
    versions: list[int]
    pem: str


def key_ring_entries(key: KeyInfo, version: int | None = None) -> list[PublicKeyEntry]:
    """Every version that still verifies (or just `version`) as key-ring entries.

    Versions below `min_decryption_version` are retired: Transit no longer accepts their
    signatures, so publishing them would let offline checks accept what online checks refuse.
    """
    if not key.supports_signing:
        raise OperationRefused(f"key {key.name!r} is a {key.type} key and has no public key")
    live = [v for v in key.versions if v.version >= key.min_decryption_version]
    if version is not None:
        live = [v for v in live if v.version == version]
        if not live:
            known = ", ".join(str(v.version) for v in key.versions)
            raise InvalidInput(
                f"key {key.name!r} has no usable version {version} (versions: {known}; "
                f"minimum usable: {key.min_decryption_version})"
            )
    entries = []
    for item in live:
        if not item.public_key_pem:
            raise OperationRefused(f"Vault returned no public key for {key.name} v{item.version}")
        pem = public_key_pem_from_transit(key.type, item.public_key_pem)
        entries.append(PublicKeyEntry(key.name, item.version, key.type, pem, item.creation_time))
    return entries


def export_public_keys(vault: VaultService, version: int | None = None) -> PublicKeyExport:
    """The key ring text for the configured signing key (needs only `read` on the key)."""
    key = vault.read_key()
    entries = key_ring_entries(key, version)
    return PublicKeyExport(
        key_name=key.name,
        key_type=key.type,
        versions=[e.version for e in entries],
        pem=format_public_keys(entries),
    )

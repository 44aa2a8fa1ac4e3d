"""Secrets the console keeps between runs: remembered Vault tokens and the local server's keys.

They go to the OS keyring (service "license-console") when the machine has one that works. A
headless box, a container or a CI runner usually has none (keyring's fail backend, or a chainer
with nothing to chain), so the fallback is a JSON file in the data directory, created 0600
inside a 0700 directory: the same protection `~/.vault-token` gets. LICENSE_CONSOLE_KEYRING=file
forces that file so tests and CI never read or write a real person's keyring.

Nothing here logs or prints a secret: errors name the file and the entry, never the value.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

import keyring
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from pydantic import BaseModel, SecretStr, ValidationError

from license_console.errors import LicenseConsoleError

SERVICE = "license-console"
FORCE_ENV = "LICENSE_CONSOLE_KEYRING"
SECRETS_FILE = "secrets.json"
KEYRING = "keyring"

log = logging.getLogger(__name__)

# The file is rewritten as a whole; TUI workers may store and forget concurrently.
_file_lock = threading.Lock()


class SecretStoreError(LicenseConsoleError):
    """The fallback file cannot be read or written (permissions, a full disk, bad JSON)."""

    code = "SECRET_STORE"


class LocalCredentials(BaseModel):
    """What the local server needs to come back after a restart, and who may administer it."""

    address: str
    unseal_key: SecretStr
    root_token: SecretStr


# -- the fallback file ---------------------------------------------------------------------


def secrets_file(data_dir: Path) -> Path:
    return data_dir / SECRETS_FILE


def ensure_private_dir(data_dir: Path) -> Path:
    """Create the data directory 0700, and tighten it if it exists: it holds keys and raft."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
    return data_dir


def _read_file(data_dir: Path) -> dict[str, str]:
    path = secrets_file(data_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise SecretStoreError(f"cannot read the secrets file {path}: {exc.strerror}") from exc
    try:
        data = json.loads(text)
    except ValueError:
        raise SecretStoreError(f"the secrets file {path} is not valid JSON") from None
    if not isinstance(data, dict):
        raise SecretStoreError(f"the secrets file {path} is not a JSON object")
    return {str(k): str(v) for k, v in data.items()}


def write_private(path: Path, text: str) -> None:
    """Write to a fresh 0600 file, then rename: a crash never leaves a half-written secret."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.unlink(missing_ok=True)  # O_EXCL below must create it, so that 0600 applies
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SecretStoreError(f"cannot write {path}: {exc.strerror}") from exc


def _write_file(data_dir: Path, entries: dict[str, str]) -> None:
    path = secrets_file(ensure_private_dir(data_dir))
    write_private(path, json.dumps(entries, indent=2, sort_keys=True))


def _file_set(data_dir: Path, name: str, value: str | None) -> None:
    with _file_lock:
        entries = _read_file(data_dir)
        if value is None:
            if name not in entries:
                return
            del entries[name]
        else:
            entries[name] = value
        _write_file(data_dir, entries)


# -- the OS keyring ------------------------------------------------------------------------


def _keyring_backend() -> tuple[KeyringBackend | None, str]:
    """The keyring to use, or None and the reason the file fallback applies."""
    if os.environ.get(FORCE_ENV, "").strip().lower() == "file":
        return None, f"forced by {FORCE_ENV}=file"
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # any backend may fail while loading (D-Bus, missing libraries)
        return None, f"the OS keyring failed to load ({type(exc).__name__})"
    if isinstance(backend, fail.Keyring | null.Keyring):
        return None, "no usable OS keyring on this machine"
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return None, "no usable OS keyring on this machine"
    return backend, ""


def _backend_name(backend: KeyringBackend) -> str:
    return str(getattr(backend, "name", type(backend).__name__))


# -- public API ----------------------------------------------------------------------------


def store_secret(data_dir: Path, name: str, value: str) -> str:
    """Keep `value` under `name`; returns "keyring" or "file:<path>", wherever it went."""
    backend, _reason = _keyring_backend()
    if backend is not None:
        try:
            backend.set_password(SERVICE, name, value)
        except Exception as exc:  # a locked or broken keyring: the file still works
            log.warning("keyring refused %r (%s); using the file", name, type(exc).__name__)
        else:
            _file_set(data_dir, name, None)  # one copy only, so a stale one never wins
            return KEYRING
    _file_set(data_dir, name, value)
    return f"file:{secrets_file(data_dir)}"


def load_secret(data_dir: Path, name: str) -> str | None:
    """The keyring first, then the file (a store may have fallen back while the keyring failed)."""
    backend, _reason = _keyring_backend()
    if backend is not None:
        try:
            value = backend.get_password(SERVICE, name)
        except Exception as exc:
            log.warning("keyring could not read %r (%s)", name, type(exc).__name__)
        else:
            if value is not None:
                return value
    with _file_lock:
        return _read_file(data_dir).get(name)


def delete_secret(data_dir: Path, name: str) -> None:
    """Remove `name` from both places; missing entries are fine."""
    backend, _reason = _keyring_backend()
    if backend is not None:
        try:
            backend.delete_password(SERVICE, name)
        except Exception:  # PasswordDeleteError when absent; anything else leaves nothing to do
            pass
    _file_set(data_dir, name, None)


def backend_description(data_dir: Path) -> str:
    """One line for status screens: where new secrets go, and why."""
    backend, reason = _keyring_backend()
    if backend is not None:
        return f"OS keyring ({_backend_name(backend)})"
    return f"file {secrets_file(data_dir)} (mode 0600; {reason})"


# -- remembered tokens (the Connect screen) -------------------------------------------------


def _token_name(vault_addr: str) -> str:
    return f"token:{vault_addr.rstrip('/')}"


def remembered_token(data_dir: Path, vault_addr: str) -> str | None:
    return load_secret(data_dir, _token_name(vault_addr))


def remember_token(data_dir: Path, vault_addr: str, token: str | SecretStr) -> str:
    plain = token.get_secret_value() if isinstance(token, SecretStr) else token
    return store_secret(data_dir, _token_name(vault_addr), plain)


def forget_token(data_dir: Path, vault_addr: str) -> None:
    delete_secret(data_dir, _token_name(vault_addr))


# -- the local server's unseal key and root token -------------------------------------------


def _local_name(data_dir: Path) -> str:
    """One entry per data directory: two local servers must never share a keyring item."""
    return f"local-server:{data_dir.expanduser().resolve()}"


def local_credentials(data_dir: Path) -> LocalCredentials | None:
    raw = load_secret(data_dir, _local_name(data_dir))
    if raw is None:
        return None
    try:
        return LocalCredentials.model_validate_json(raw)
    except ValidationError:
        # `from None`: pydantic's message quotes the input, and the input is the secret.
        raise SecretStoreError(
            f"the stored local-server credentials for {data_dir} are unreadable"
        ) from None


def remember_local_credentials(data_dir: Path, credentials: LocalCredentials) -> str:
    """Store the unseal key and root token together, so they can never get out of step."""
    payload = {
        "address": credentials.address,
        "unseal_key": credentials.unseal_key.get_secret_value(),
        "root_token": credentials.root_token.get_secret_value(),
    }
    return store_secret(data_dir, _local_name(data_dir), json.dumps(payload))


def forget_local_credentials(data_dir: Path) -> None:
    delete_secret(data_dir, _local_name(data_dir))

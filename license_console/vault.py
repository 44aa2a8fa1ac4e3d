"""The only module that talks to Vault: a thin hvac wrapper with domain errors and timeouts.

Everything above this layer speaks in licenses and key versions; everything Vault-specific
(paths, health codes, batch limits, signing parameters) stays here.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import hvac
import hvac.exceptions as hx
import requests
import urllib3
from pydantic import BaseModel, SecretStr

from license_console.config import KEY_TYPES, Settings
from license_console.errors import (
    InvalidInput,
    KeyMissing,
    OperationRefused,
    PermissionDenied,
    VaultError,
    VaultSealed,
    VaultUnreachable,
)
from license_console.verify import public_key_pem_from_transit

# Transit refuses JSON bodies with too many strings (about 1,000); a verify item carries four.
BATCH_CHUNK = 200


class SealStatus(BaseModel):
    """What on-call needs at a glance: can this Vault sign right now, and if not, why."""

    address: str
    reachable: bool = True
    initialized: bool = False
    sealed: bool = True
    standby: bool = False
    performance_standby: bool = False
    threshold: int = 0
    shares: int = 0
    progress: int = 0
    version: str | None = None
    storage_type: str | None = None
    cluster_name: str | None = None
    cluster_id: str | None = None
    ha_enabled: bool = False
    ha_mode: str = "disabled"
    leader_address: str | None = None
    error: str | None = None

    @property
    def state(self) -> str:
        """One word for the status line: unreachable, uninitialized, sealed, standby, unsealed."""
        if not self.reachable:
            return "unreachable"
        if not self.initialized:
            return "uninitialized"
        if self.sealed:
            return "sealed"
        if self.standby:
            return "standby"
        return "unsealed"


class InitResult(BaseModel):
    """Shown once and never stored by the console (except the local server's own keyring)."""

    keys: list[SecretStr]
    keys_base64: list[SecretStr]
    root_token: SecretStr


class KeyVersion(BaseModel):
    version: int
    creation_time: str | None = None
    public_key_pem: str | None = None


class KeyInfo(BaseModel):
    name: str
    type: str
    latest_version: int
    min_decryption_version: int = 1
    min_available_version: int = 0
    versions: list[KeyVersion]
    supports_signing: bool = True


@dataclass(frozen=True)
class SigningScheme:
    """How a key type is asked to sign, and the `alg` label recorded in the license.

    Transit's defaults are not what a verifier expects (sha2-256 for every key, PKCS#1 v1.5 for
    RSA, and ECDSA's marshaling), so every parameter is sent explicitly and named in `alg`.
    """

    alg: str
    hash_algorithm: str | None = None
    signature_algorithm: str | None = None
    marshaling_algorithm: str | None = None

    def params(self) -> dict[str, str]:
        values = {
            "hash_algorithm": self.hash_algorithm,
            "signature_algorithm": self.signature_algorithm,
            "marshaling_algorithm": self.marshaling_algorithm,
        }
        return {k: v for k, v in values.items() if v}


_ECDSA_HASH = {"ecdsa-p256": "sha2-256", "ecdsa-p384": "sha2-384", "ecdsa-p521": "sha2-512"}


def scheme_for_key_type(key_type: str, rsa_padding: str = "pss") -> SigningScheme:
    if key_type == "ed25519":
        return SigningScheme(alg="ed25519")
    if key_type in _ECDSA_HASH:
        digest = _ECDSA_HASH[key_type]
        return SigningScheme(
            alg=f"{key_type}+{digest}", hash_algorithm=digest, marshaling_algorithm="asn1"
        )
    if key_type.startswith("rsa-"):
        return SigningScheme(
            alg=f"rsa-{rsa_padding}-sha256",
            hash_algorithm="sha2-256",
            signature_algorithm=rsa_padding,
        )
    raise KeyMissing(
        f"key type {key_type!r} cannot sign licenses; use one of {', '.join(KEY_TYPES)}"
    )


def scheme_for_alg(alg: str) -> SigningScheme:
    """The inverse of scheme_for_key_type, for verifying a license that names its `alg`."""
    if alg == "ed25519":
        return SigningScheme(alg=alg)
    for key_type, digest in _ECDSA_HASH.items():
        if alg == f"{key_type}+{digest}":
            return scheme_for_key_type(key_type)
    for padding in ("pss", "pkcs1v15"):
        if alg == f"rsa-{padding}-sha256":
            return scheme_for_key_type("rsa-2048", padding)
    raise InvalidInput(f"unknown signature algorithm {alg!r}")


def key_type_matches_alg(key_type: str, alg: str) -> bool:
    if key_type.startswith("rsa-"):
        return alg.startswith("rsa-")
    return scheme_for_key_type(key_type).alg == alg


@dataclass(frozen=True)
class VerifyOutcome:
    valid: bool
    error: str | None = None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _chunks(items: Sequence[Any], size: int = BATCH_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _vault_message(exc: hx.VaultError) -> str:
    errors = getattr(exc, "errors", None)
    if isinstance(errors, list) and errors:
        return "; ".join(str(e) for e in errors)
    return str(exc).split(", on ")[0]


class VaultService:
    """One Vault connection: status, seal operations, the Transit key, sign and verify."""

    def __init__(
        self, settings: Settings, token: str | None = None, token_source: str = "given"
    ) -> None:
        self.settings = settings
        self.token_source = token_source
        self.address = settings.vault_addr
        self.client = hvac.Client(
            url=settings.vault_addr,
            # "" rather than None: hvac would fall back to VAULT_TOKEN and ~/.vault-token by
            # itself, behind the back of resolve_token and the Connect screen.
            token=token or "",
            namespace=settings.vault_namespace,
            verify=settings.tls_verify,
            timeout=settings.timeout,
        )
        self._actor: str | None = None
        if settings.vault_skip_verify:  # asked for explicitly: no warning on every request
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

    @property
    def has_token(self) -> bool:
        return bool(self.client.token)

    # -- error translation -------------------------------------------------------------------

    @contextlib.contextmanager
    def _errors(self, what: str, key_path: bool = False) -> Iterator[None]:
        """Turn hvac/requests exceptions into domain errors that say what to do next."""
        try:
            yield
        except requests.exceptions.Timeout as exc:
            raise VaultUnreachable(
                f"Vault at {self.address} did not answer within {self.settings.timeout:g}s "
                f"while trying to {what}",
                details=str(exc),
            ) from exc
        except requests.exceptions.SSLError as exc:
            raise VaultUnreachable(
                f"TLS verification failed for Vault at {self.address}: set VAULT_CACERT to the CA "
                "that signed its certificate (VAULT_SKIP_VERIFY=true skips the check)",
                details=str(exc),
            ) from exc
        except requests.exceptions.ConnectionError as exc:
            raise VaultUnreachable(
                f"cannot reach Vault at {self.address} (is it running? is VAULT_ADDR right?)",
                details=str(exc),
            ) from exc
        except requests.exceptions.RequestException as exc:
            raise VaultUnreachable(f"cannot talk to Vault at {self.address}: {exc}") from exc
        except hx.VaultDown as exc:
            raise VaultSealed(
                f"Vault at {self.address} is sealed, so nothing can be signed or verified: "
                "unseal it (`license-console unseal`, the console's status screen, or for the "
                "local server `license-console local start`)",
                details=_vault_message(exc),
            ) from exc
        except (hx.Forbidden, hx.Unauthorized) as exc:
            raise PermissionDenied(self._denied(what), details=_vault_message(exc)) from exc
        except hx.InvalidPath as exc:
            if key_path:
                raise KeyMissing(
                    f"signing key {self.settings.key_name!r} not found on mount "
                    f"{self.settings.transit_mount!r}: create it with `license-console keys "
                    "create`",
                    details=_vault_message(exc),
                ) from exc
            raise VaultError(f"Vault has no such path while trying to {what}") from exc
        except hx.InvalidRequest as exc:
            message = _vault_message(exc)
            if "no handler for route" in message or "unsupported path" in message:
                raise KeyMissing(
                    f"no Transit engine at mount {self.settings.transit_mount!r}: run "
                    "`license-console keys create` to enable it",
                    details=message,
                ) from exc
            raise VaultError(f"Vault refused to {what}: {message}", details=message) from exc
        except hx.VaultError as exc:
            raise VaultError(
                f"Vault failed to {what}: {_vault_message(exc)}", details=_vault_message(exc)
            ) from exc

    def _denied(self, what: str) -> str:
        if not self.client.token:
            return (
                f"permission denied: no Vault token to {what}; set VAULT_TOKEN, run `vault "
                "login`, or start the local server"
            )
        return (
            f"permission denied: the token (from {self.token_source}) may not {what}; "
            "check that it is current and that its policies allow it"
        )

    def _transit(self, op: str) -> str:
        return f"/v1/{self.settings.transit_mount}/{op}/{self.settings.key_name}"

    def _key_path(self) -> str:
        return f"/v1/{self.settings.transit_mount}/keys/{self.settings.key_name}"

    def _read_json(self, path: str) -> dict[str, Any]:
        """GET an unauthenticated sys endpoint whatever its status code (health uses 5xx)."""
        response = self.client.adapter.get(path, raise_exception=False)
        if isinstance(response, dict):
            return response
        try:
            body = response.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    # -- status and seal operations ------------------------------------------------------------

    def status(self) -> SealStatus:
        """Health, seal and HA state; never raises, because on-call needs an answer regardless."""
        try:
            with self._errors("read its status"):
                health = self._read_json("/v1/sys/health")
                seal = self._read_json("/v1/sys/seal-status")
                leader = self._read_json("/v1/sys/leader") if seal.get("initialized") else {}
        except VaultUnreachable as exc:
            return SealStatus(address=self.address, reachable=False, error=exc.message)
        except VaultError as exc:
            return SealStatus(address=self.address, error=exc.message)
        return _build_status(self.address, health, seal, leader)

    def initialize(self, shares: int, threshold: int) -> InitResult:
        if not 1 <= threshold <= shares:
            raise InvalidInput("threshold must be between 1 and the number of shares")
        with self._errors("initialise Vault"):
            if self.client.sys.is_initialized():
                raise OperationRefused(f"Vault at {self.address} is already initialised")
            result = self.client.sys.initialize(secret_shares=shares, secret_threshold=threshold)
        return InitResult(
            keys=result["keys"], keys_base64=result["keys_base64"], root_token=result["root_token"]
        )

    def unseal(self, key: str) -> SealStatus:
        with self._errors("unseal Vault"):
            try:
                self.client.sys.submit_unseal_key(key=key.strip())
            except hx.InvalidRequest as exc:
                raise InvalidInput(f"unseal key refused: {_vault_message(exc)}") from exc
        return self.status()

    def seal(self) -> SealStatus:
        with self._errors("seal Vault"):
            self.client.sys.seal()
        return self.status()

    def whoami(self) -> str:
        """Who acts, for the audit trail: display name and accessor, never the token itself."""
        if self._actor is None:
            with self._errors("look up its own token"):
                data = self.client.auth.token.lookup_self()["data"]
            name = data.get("display_name") or "token"
            accessor = data.get("accessor") or "?"
            self._actor = f"{name} (accessor {accessor})"
        return self._actor

    # -- the Transit key -------------------------------------------------------------------

    def ensure_transit(self) -> None:
        mount = self.settings.transit_mount
        with self._errors("enable the Transit engine"):
            mounts = self.client.sys.list_mounted_secrets_engines()
            data = mounts.get("data", mounts)
            if f"{mount}/" in data:
                return
            self.client.sys.enable_secrets_engine("transit", path=mount)

    def create_key(self, key_type: str = "ed25519") -> tuple[KeyInfo, bool]:
        """Create the signing key if missing; returns (key, created). Idempotent by design."""
        if key_type not in KEY_TYPES:
            raise InvalidInput(f"unknown key type {key_type!r}; use one of {', '.join(KEY_TYPES)}")
        self.ensure_transit()
        try:
            return self.read_key(), False
        except KeyMissing:
            pass
        with self._errors("create the signing key"):
            self.client.secrets.transit.create_key(
                name=self.settings.key_name,
                key_type=key_type,
                mount_point=self.settings.transit_mount,
            )
        return self.read_key(), True

    def read_key(self) -> KeyInfo:
        with self._errors("read the signing key", key_path=True):
            data = self.client.adapter.get(self._key_path())["data"]
        return _build_key_info(data)

    def rotate_key(self) -> KeyInfo:
        with self._errors("rotate the signing key", key_path=True):
            self.client.adapter.post(f"{self._key_path()}/rotate")
        return self.read_key()

    def set_min_decryption_version(self, version: int) -> KeyInfo:
        """Retire old key versions: signatures made with them stop verifying."""
        with self._errors("configure the signing key", key_path=True):
            self.client.adapter.post(
                f"{self._key_path()}/config", json={"min_decryption_version": version}
            )
        return self.read_key()

    def require_signing(self, what: str) -> None:
        """Refuse, as a denied sign would, unless this token may sign with the license key.

        For actions that change only the registry but carry the authority's word (revoke):
        without this check, any token that can look itself up could revoke.
        """
        path = f"{self.settings.transit_mount}/sign/{self.settings.key_name}"
        with self._errors(f"check whether it may {what}"):
            answer = self.client.adapter.post("/v1/sys/capabilities-self", json={"paths": [path]})
        data = answer.get("data", answer) if isinstance(answer, dict) else {}
        capabilities = set(data.get(path) or data.get("capabilities") or [])
        if not capabilities & {"root", "update"}:
            raise PermissionDenied(
                f"permission denied: the token may not {what} (its policies do not allow "
                f"signing with {self.settings.key_name!r})"
            )

    # -- sign and verify ---------------------------------------------------------------------

    def sign(self, payloads: Sequence[bytes], key_version: int, scheme: SigningScheme) -> list[str]:
        """Sign many payloads with one pinned key version, in chunks the server accepts."""
        signatures: list[str] = []
        for chunk in _chunks(payloads):
            body = {
                "batch_input": [{"input": _b64(p)} for p in chunk],
                "key_version": key_version,
                **scheme.params(),
            }
            with self._errors("sign with the license key", key_path=True):
                results = self.client.adapter.post(self._transit("sign"), json=body)["data"][
                    "batch_results"
                ]
            for result in results:
                if result.get("error"):
                    raise VaultError(f"Vault refused to sign: {result['error']}")
                signatures.append(result["signature"])
        return signatures

    def verify(
        self, items: Sequence[tuple[bytes, str]], scheme: SigningScheme
    ) -> list[VerifyOutcome]:
        """Verify many (payload, signature) pairs; a bad signature is an outcome, not an error.

        hvac's verify_signed_data has no batch_input, so the adapter posts the body itself.
        """
        outcomes: list[VerifyOutcome] = []
        for chunk in _chunks(items):
            body = {
                "batch_input": [{"input": _b64(p), "signature": s} for p, s in chunk],
                **scheme.params(),
            }
            with self._errors("verify with the license key", key_path=True):
                results = self.client.adapter.post(self._transit("verify"), json=body)["data"][
                    "batch_results"
                ]
            outcomes.extend(
                VerifyOutcome(valid=bool(r.get("valid")), error=r.get("error") or None)
                for r in results
            )
        return outcomes


def _build_status(
    address: str, health: dict[str, Any], seal: dict[str, Any], leader: dict[str, Any]
) -> SealStatus:
    sealed = bool(seal.get("sealed", health.get("sealed", True)))
    standby = bool(health.get("standby")) and not sealed  # a sealed node reports standby too
    ha_enabled = bool(leader.get("ha_enabled"))
    if ha_enabled:
        ha_mode = "active" if leader.get("is_self") else "standby"
    else:
        ha_mode = "disabled"
    return SealStatus(
        address=address,
        initialized=bool(seal.get("initialized", health.get("initialized", False))),
        sealed=sealed,
        standby=standby,
        performance_standby=bool(health.get("performance_standby")),
        threshold=int(seal.get("t") or 0),
        shares=int(seal.get("n") or 0),
        progress=int(seal.get("progress") or 0),
        version=seal.get("version") or health.get("version"),
        storage_type=seal.get("storage_type"),
        cluster_name=seal.get("cluster_name") or health.get("cluster_name"),
        cluster_id=seal.get("cluster_id") or health.get("cluster_id"),
        ha_enabled=ha_enabled,
        ha_mode=ha_mode,
        leader_address=leader.get("leader_address") or None,
    )


def _pem(key_type: str, public_key: str | None) -> str | None:
    """Transit gives ed25519 keys as raw base64 and the others as PEM: always PEM here."""
    if not public_key:
        return None
    try:
        return public_key_pem_from_transit(key_type, public_key)
    except ValueError:
        return public_key


def _build_key_info(data: dict[str, Any]) -> KeyInfo:
    versions = []
    for number, entry in sorted(data.get("keys", {}).items(), key=lambda kv: int(kv[0])):
        if isinstance(entry, dict):
            versions.append(
                KeyVersion(
                    version=int(number),
                    creation_time=entry.get("creation_time"),
                    public_key_pem=_pem(data["type"], entry.get("public_key")),
                )
            )
        else:  # symmetric keys list only a timestamp; they cannot sign, but show them anyway
            versions.append(KeyVersion(version=int(number)))
    return KeyInfo(
        name=data["name"],
        type=data["type"],
        latest_version=int(data["latest_version"]),
        min_decryption_version=int(data.get("min_decryption_version") or 1),
        min_available_version=int(data.get("min_available_version") or 0),
        versions=versions,
        supports_signing=bool(data.get("supports_signing")),
    )

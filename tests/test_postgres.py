"""The registry on PostgreSQL, through the same models: a real server started for the test.

PostgreSQL is on this project's machines (Debian's postgresql package); the test starts a
throwaway cluster on a free loopback port. It is skipped only where no PostgreSQL is installed.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from license_console.config import Settings
from license_console.licenses import LicenseRequest
from license_console.registry import ListQuery
from license_console.services import build_services
from tests.conftest import free_port


def _pg_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


def _as_postgres(args: list[str]) -> list[str]:
    """initdb refuses to run as root; CI runs as root, so drop to the postgres user."""
    if os.geteuid() == 0 and shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed on this machine")
    base = tmp_path_factory.mktemp("pg")
    base.chmod(0o777)
    data = base / "data"
    port = free_port()
    if os.geteuid() == 0:
        data.mkdir()
        shutil.chown(data, "postgres", "postgres")
        for parent in (base, *base.parents):
            if parent == Path("/"):
                break
            parent.chmod(parent.stat().st_mode | 0o011)  # traversable by postgres
    subprocess.run(
        _as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "lc"]),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1"
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-t", "60"]
    subprocess.run(
        _as_postgres([*pg_ctl, "-l", str(base / "pg.log"), "start"]),
        check=True,
        capture_output=True,
    )
    try:
        url = f"postgresql://lc@127.0.0.1:{port}/postgres"
        yield url
    finally:
        subprocess.run(_as_postgres([*pg_ctl, "-m", "fast", "stop"]), capture_output=True)
        time.sleep(0.1)


def test_lifecycle_on_postgres(postgres_url: str, env: dict[str, str]) -> None:
    settings = Settings(db=postgres_url)
    services = build_services(settings)
    try:
        services.vault.create_key()
        service = services.licenses
        first = service.issue(LicenseRequest.build("Acme Corp", ["hr"], "2031-01-01"))
        service.issue(LicenseRequest.build("50% Off Ltd", ["crm"], "2031-01-01"))
        renewed = service.renew(first.license_id, "2032-01-01", ["crm"])
        service.revoke(renewed.license_id, "test")

        assert service.list(ListQuery()).total == 3
        assert service.list(ListQuery(customer="ACME")).total == 2
        assert service.list(ListQuery(customer="50%")).total == 1
        assert service.list(ListQuery(customer="5_%")).total == 0
        assert service.list(ListQuery(module="crm")).total == 2
        assert service.list(ListQuery(status="superseded")).total == 1
        assert service.list(ListQuery(status="revoked")).total == 1
        assert service.list(ListQuery(search=first.license_id[:12])).total >= 1
        verdict = service.validate(first.document())
        assert verdict.valid and verdict.superseded
        assert service.get(renewed.license_id).status == "revoked"
    finally:
        services.close()

"""Benchmarks that print numbers: signing throughput and registry queries at scale.

Runs against a real OpenBao raft server it starts on a free loopback port (and stops).

    .venv/bin/python benchmarks/bench.py [--rows 100000]

Measures: Transit sign one request per license vs batched; issue and validate end to end;
batch issue of 2,000 rows; list queries (first page, filters, search) on a registry of --rows
licenses, seeded straight into the database since only the queries are measured there.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from license_console import local_server
from license_console.batch_file import BatchEntry
from license_console.config import Settings
from license_console.licenses import LicenseRequest, format_ts, new_license_id, utcnow
from license_console.registry import ListQuery, Registry
from license_console.services import build_services
from license_console.vault import scheme_for_key_type


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def timed(label: str, count: int, run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    elapsed = time.perf_counter() - start
    print(f"{label:<48} {elapsed * 1000:9.1f} ms  {count / elapsed:10.0f} /s")
    return elapsed


def bench_signing(settings: Settings) -> None:
    services = build_services(settings)
    vault, licenses = services.vault, services.licenses
    key = vault.read_key()
    scheme = scheme_for_key_type(key.type)
    payloads = [f"license payload {i}".encode() for i in range(500)]
    single = timed(
        "sign 500, one request each",
        500,
        lambda: [vault.sign([p], key.latest_version, scheme) for p in payloads],
    )
    batch = timed("sign 500, batched (chunks of 200)", 500, lambda: vault.sign(
        payloads, key.latest_version, scheme))  # fmt: skip
    print(f"{'batch speed-up':<48} {single / batch:9.1f} x")
    request = LicenseRequest.build("Bench Corp", ["hr"], "2031-01-01", {"seats": 10})
    issued = []
    timed("issue 100 licenses one by one", 100, lambda: issued.extend(
        licenses.issue(request) for _ in range(100)))  # fmt: skip
    timed("validate 100 licenses one by one", 100, lambda: [
        licenses.validate(lic.document()) for lic in issued])  # fmt: skip
    entries = [
        BatchEntry(row=i, customer=f"Customer {i}", modules=["basic"], expires_at="2031-01-01")
        for i in range(1, 2001)
    ]
    timed("batch issue 2,000 rows (sign + registry + audit)", 2000, lambda: licenses.batch_issue(
        entries))  # fmt: skip
    services.close()


def seed_registry(path: Path, rows: int) -> None:
    registry = Registry(str(path))
    now = utcnow()
    modules = ["basic", "crm", "hr", "payroll", "reporting"]
    batch = []
    for i in range(rows):
        document = {
            "license_id": new_license_id(),
            "customer": f"Customer {i % 5000:05d} {'Labs' if i % 3 else 'Corp'}",
            "modules": sorted({modules[i % 5], modules[(i * 7) % 5]}),
            "issued_at": format_ts(now - timedelta(days=i % 700)),
            "expires_at": format_ts(now + timedelta(days=(i % 900) - 200)),
            "metadata": {"seats": i % 500},
            "issuer": "Bench",
            "version": "1.0",
            "renewed_from": None,
            "key_name": "license-signing-key",
            "key_version": 1,
            "alg": "ed25519",
            "signature": "vault:v1:AAAA",
        }
        batch.append(document)
        if len(batch) == 5000:
            with registry.write():
                for doc in batch:
                    registry.add_license(doc)
            batch = []
    with registry.write():
        for doc in batch:
            registry.add_license(doc)
    registry.close()


def bench_queries(path: Path, rows: int) -> None:
    registry = Registry(str(path))
    now = utcnow()
    queries = {
        "first page (50), newest first": ListQuery(),
        "status=active": ListQuery(status="active"),
        "customer contains '0042'": ListQuery(customer="0042"),
        "search-as-you-type 'customer 01'": ListQuery(search="customer 01"),
        "module=crm, expiring within 30 days": ListQuery(module="crm", expiring_within=30),
        "page 1000 (offset 50,000), by expiry": ListQuery(offset=50_000, sort="expires_at"),
    }
    for label, query in queries.items():
        runs = 5
        start = time.perf_counter()
        for _ in range(runs):
            result = registry.query(query, now)
        elapsed = (time.perf_counter() - start) / runs
        print(f"list {label:<43} {elapsed * 1000:9.1f} ms  (total {result.total})")
    registry.close()


def bench_console(path: Path) -> None:
    """The console on the big registry: time to the first page, and to a typed search."""
    import asyncio

    from textual.widgets import DataTable, Input

    from license_console.tui.app import create_app

    settings = Settings(db=str(path), vault_addr="http://127.0.0.1:9", timeout=1)

    async def run() -> None:
        services = build_services(settings)
        app = create_app(settings, services, refresh_interval=3600)
        start = time.perf_counter()
        async with app.run_test(size=(120, 40)) as pilot:
            table = app.screen.query_one(DataTable)
            while table.row_count == 0:
                await pilot.pause(0.01)
            elapsed = (time.perf_counter() - start) * 1000
            print(f"{'console: first page of the list':<48} {elapsed:9.1f} ms")
            start = time.perf_counter()
            app.screen.query_one("#search", Input).value = "Customer 00042"
            while table.row_count > 20:  # debounce included: what a person waits for
                await pilot.pause(0.01)
            elapsed = (time.perf_counter() - start) * 1000
            print(f"{'console: search-as-you-type, debounce included':<48} {elapsed:9.1f} ms")
        services.close()

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="registry size for queries")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        os.environ["LICENSE_CONSOLE_KEYRING"] = "file"
        settings = Settings(
            data_dir=base / "data", db=str(base / "bench.db"), vault_addr="http://127.0.0.1:1"
        )
        info = local_server.start(settings, port=free_port(), cluster_port=free_port())
        settings = Settings(data_dir=settings.data_dir, db=settings.db, vault_addr=info.address)
        try:
            print(f"OpenBao raft server at {info.address}")
            bench_signing(settings)
        finally:
            local_server.stop(settings)
        db = base / "queries.db"
        start = time.perf_counter()
        seed_registry(db, args.rows)
        print(f"seeded {args.rows} licenses in {time.perf_counter() - start:.1f} s")
        bench_queries(db, args.rows)
        bench_console(db)
    print(json.dumps({"done": True}))


if __name__ == "__main__":
    main()

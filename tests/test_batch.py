"""Batch issue: CSV and JSON files, bad rows mixed in, 2,000 rows through chunked Transit calls."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from license_console.batch_file import parse_batch, read_batch_file
from license_console.cli import main
from license_console.errors import InvalidInput
from license_console.licenses import canonical_bytes
from license_console.registry import ListQuery
from license_console.services import Services
from license_console.vault import scheme_for_alg

BAD_ROWS = {
    7: ({"customer": "", "modules": "hr", "expires_at": "2031-01-01"}, "customer"),
    50: ({"customer": "X", "modules": "hr", "expires_at": "2020-01-01"}, "in the past"),
    333: ({"customer": "X", "modules": "", "expires_at": "2031-01-01"}, "module"),
    1000: ({"customer": "X", "modules": "hr", "expires_at": "someday"}, "not a date"),
    1500: ({"customer": "X", "modules": "hr", "expires_at": "2031-01-01", "metadata": "{oops"},
           "metadata"),
    1999: ({"customer": "X", "modules": "bad module", "expires_at": "2031-01-01"}, "module"),
}  # fmt: skip


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["customer", "modules", "expires_at", "metadata"])
        writer.writeheader()
        for number in range(1, rows + 1):
            if number in BAD_ROWS:
                writer.writerow(BAD_ROWS[number][0])
                continue
            writer.writerow(
                {
                    "customer": f"Customer {number:04d}",
                    "modules": "basic;reporting" if number % 2 else "premium",
                    "expires_at": "2031-06-30",
                    "metadata": json.dumps({"seats": number}),
                }
            )


def test_two_thousand_rows_with_bad_rows_mixed_in(
    services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "batch.csv"
    write_csv(path, 2000)
    code = main(["batch", str(path), "--json"])
    body = json.loads(capsys.readouterr().out)
    assert code == 1  # some rows were rejected
    assert len(body["issued"]) == 2000 - len(BAD_ROWS)
    assert [e["row"] for e in body["errors"]] == sorted(BAD_ROWS)
    for error in body["errors"]:
        assert BAD_ROWS[error["row"]][1] in error["error"]
    customers = {e["row"]: e["customer"] for e in body["errors"]}
    assert customers[50] == "X" and customers[1500] == "X"  # found in the file by name too

    listed = services.licenses.list(ListQuery(limit=1))
    assert listed.total == 2000 - len(BAD_ROWS)
    assert services.licenses.list(ListQuery(customer="Customer 0007")).total == 0

    issued = body["issued"]
    assert len({d["license_id"] for d in issued}) == len(issued)
    seats = {d["customer"]: d["metadata"]["seats"] for d in issued}
    assert seats["Customer 0008"] == 8
    outcomes = services.vault.verify(
        [(canonical_bytes(d), d["signature"]) for d in issued], scheme_for_alg("ed25519")
    )
    assert all(o.valid for o in outcomes)


def test_json_batch_in_the_shape_of_the_system_description(services: Services, capsys) -> None:
    document = {
        "licenses": [
            {"customer": "Customer A", "modules": ["basic"], "expires_at": "2031-12-31"},
            {"customer": "Customer B", "modules": ["premium"], "expires_at": "2031-12-31",
             "metadata": {"max_users": 5}},
            {"customer": "Customer C", "modules": 42, "expires_at": "2031-12-31"},
            "not an object",
        ]
    }  # fmt: skip
    entries, errors = parse_batch(json.dumps(document))
    result = services.licenses.batch_issue(entries)
    assert [d["customer"] for d in result.issued] == ["Customer A", "Customer B"]
    assert [(e.row, e.error) for e in errors] == [(4, "row is not a JSON object")]
    assert [e.row for e in result.errors] == [3]


def test_progress_is_reported_per_chunk(services: Services) -> None:
    text = "customer,modules,expires_at,metadata\n" + "".join(
        f"C{i},m,2031-01-01,\n" for i in range(450)
    )
    entries, _ = parse_batch(text)
    seen: list[tuple[int, int]] = []
    result = services.licenses.batch_issue(entries, progress=lambda d, t: seen.append((d, t)))
    assert len(result.issued) == 450
    assert seen == [(200, 450), (400, 450), (450, 450)]


def test_cancelling_leaves_whole_chunks_only(services: Services) -> None:
    text = "customer,modules,expires_at\n" + "".join(f"C{i},m,2031-01-01\n" for i in range(450))
    entries, _ = parse_batch(text)
    calls = iter([False, True])
    result = services.licenses.batch_issue(entries, cancelled=lambda: next(calls))
    assert result.aborted == "cancelled"
    assert len(result.issued) == 200 and len(result.errors) == 250
    assert services.licenses.list(ListQuery()).total == 200


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ('{"rows": []}', '{"licenses": [...]}'),
        ("name,modules\nx,y\n", "header"),
        ("customer,modules,expires_at\n", "no rows"),
    ],
)
def test_unusable_batch_files_are_refused_whole(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment.replace("[", r"\[").replace("{", r"\{")):
        parse_batch(text)


def test_missing_batch_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such batch file"):
        read_batch_file(tmp_path / "nope.csv")


def test_interrupting_a_batch_reports_what_was_issued(
    services: Services, env: dict[str, str], tmp_path: Path
) -> None:
    """Ctrl-C finishes the chunk in flight, then prints the result: nothing unaccounted for."""
    import os
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "big.csv"
    path.write_text(
        "customer,modules,expires_at\n" + "".join(f"C{i},m,2031-01-01\n" for i in range(8000)),
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "license_console", "batch", str(path), "--json"],
        env={**os.environ},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while services.licenses.list(ListQuery(limit=1)).total == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    body = json.loads(out)
    assert "Traceback" not in err
    registered = services.licenses.list(ListQuery(limit=1)).total
    assert registered == len(body["issued"])
    assert len(body["issued"]) + len(body["errors"]) == 8000
    if process.returncode == 130:  # interrupted before the end, as intended
        assert body["aborted"] == "cancelled" and len(body["issued"]) < 8000
    else:  # the machine was quick enough to finish first
        assert process.returncode == 0 and len(body["issued"]) == 8000

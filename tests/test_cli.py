"""The CLI contract: JSON shapes, exit codes and one-line errors, against a real server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from license_console.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict, str]:
    """Run the CLI in-process with --json; return (exit code, parsed stdout, stderr)."""
    code = main([*args, "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else {}, captured.err


@pytest.fixture
def key(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, body, _ = run(capsys, "keys", "create")
    assert code == 0 and body["created"] is True


def issue(capsys: pytest.CaptureFixture[str], out: Path, customer: str = "Acme Corp") -> dict:
    code, body, _ = run(
        capsys, "issue", "--customer", customer, "--module", "hr", "--module", "payroll",
        "--expires", "2031-12-31", "--meta", "max_users=100", "--out", str(out),
    )  # fmt: skip
    assert code == 0, body
    return body


def test_status_json_and_exit_codes(env: dict[str, str], capsys: pytest.CaptureFixture[str]):
    code, body, _ = run(capsys, "status")
    assert code == 0
    assert body["initialized"] is True and body["sealed"] is False
    assert body["state"] == "unsealed" and body["version"]


def test_status_unreachable_exits_1(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from tests.conftest import free_port

    monkeypatch.setenv("VAULT_ADDR", f"http://127.0.0.1:{free_port()}")
    code, body, _ = run(capsys, "status")
    assert code == 1
    assert body["reachable"] is False and body["state"] == "unreachable"


def test_keys_create_is_idempotent(key: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, body, _ = run(capsys, "keys", "create")
    assert code == 0 and body["created"] is False and body["key"]["type"] == "ed25519"
    code, body, _ = run(capsys, "keys", "create", "--type", "rsa-2048")
    assert code == 1 and "already exists as ed25519" in body["error"]
    code, body, _ = run(capsys, "keys", "rotate")
    assert code == 0 and body["latest_version"] == 2
    code, body, _ = run(capsys, "keys", "show")
    assert [v["version"] for v in body["versions"]] == [1, 2]


def test_issue_validate_renew_revoke(key: None, tmp_path: Path, capsys) -> None:
    lic = tmp_path / "acme.lic"
    body = issue(capsys, lic)
    assert body["success"] is True
    license_ = body["license"]
    assert license_["customer"] == "Acme Corp" and license_["metadata"] == {"max_users": 100}
    assert json.loads(lic.read_text()) == license_

    code, verdict, _ = run(capsys, "validate", str(lic))
    assert code == 0
    assert verdict["valid"] is True and verdict["signature_valid"] is True
    assert verdict["expired"] is False and verdict["reasons"] == []
    assert set(verdict) >= {"days_until_expiry", "license", "validation_timestamp", "revoked"}

    renewed_file = tmp_path / "renewed.lic"
    code, body, _ = run(
        capsys, "renew", str(lic), "--expires", "2033-01-31", "--add-module", "reporting",
        "--meta", "max_users=250", "--out", str(renewed_file),
    )  # fmt: skip
    assert code == 0
    renewed = body["license"]
    assert renewed["renewed_from"] == license_["license_id"]
    assert renewed["modules"] == ["hr", "payroll", "reporting"]
    assert renewed["metadata"] == {"max_users": 250}

    code, body, _ = run(capsys, "revoke", renewed["license_id"], "--reason", "Security breach")
    assert code == 0 and body["success"] is True and body["effective_now"] is True
    code, verdict, _ = run(capsys, "validate", str(renewed_file))
    assert code == 1 and verdict["revoked"] is True and verdict["valid"] is False

    code, body, _ = run(capsys, "list")
    assert code == 0 and body["total"] == 2
    statuses = {lic["license_id"]: lic["status"] for lic in body["licenses"]}
    assert statuses == {license_["license_id"]: "superseded", renewed["license_id"]: "revoked"}

    code, body, _ = run(capsys, "audit", "--license", license_["license_id"])
    assert code == 0
    assert [e["action"] for e in body["events"]] == ["supersede", "validate", "issue"]


def test_tampered_file_is_invalid(key: None, tmp_path: Path, capsys) -> None:
    lic = tmp_path / "a.lic"
    issue(capsys, lic)
    document = json.loads(lic.read_text())
    document["metadata"]["max_users"] = 100000
    lic.write_text(json.dumps(document))
    code, verdict, _ = run(capsys, "validate", str(lic))
    assert code == 1 and verdict["signature_valid"] is False
    assert "altered" in verdict["reasons"][0]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--customer", "Acme", "--module", "hr", "--expires", "2020-01-01"], "in the past"),
        (["--customer", "Acme", "--module", "hr", "--expires", "31/12/2030"], "not a date"),
        (["--customer", "  ", "--module", "hr", "--expires", "2030-01-01"], "customer"),
        (["--customer", "A", "--module", "h r", "--expires", "2030-01-01"], "module"),
        (["--customer", "A", "--module", "hr", "--expires", "2030-01-01", "--meta", "x"], "KEY="),
        (
            ["--customer", "A", "--module", "hr", "--expires", "2030-01-01", "--meta",
             "n=9007199254740993"],
            "2^53",
        ),
    ],
)  # fmt: skip
def test_bad_issue_input_exits_2_with_a_clear_error(key: None, capsys, args, fragment) -> None:
    code, body, err = run(capsys, "issue", *args)
    assert code == 2
    assert body["code"] == "INVALID_LICENSE" and fragment in body["error"]
    assert set(body) == {"error", "code", "details"}
    assert err.startswith("error: ") and "Traceback" not in err


def test_bad_files(key: None, tmp_path: Path, capsys) -> None:
    junk = tmp_path / "junk.lic"
    junk.write_text("this is not json")
    code, body, _ = run(capsys, "validate", str(junk))
    assert code == 2 and "not JSON" in body["error"]
    code, body, _ = run(capsys, "validate", str(tmp_path / "missing.lic"))
    assert code == 2 and "no such license file" in body["error"]
    code, body, _ = run(capsys, "validate", str(junk.with_name("x.lic")))
    assert code == 2


def test_malformed_signature_is_invalid_not_an_error(key: None, tmp_path: Path, capsys) -> None:
    lic = tmp_path / "a.lic"
    issue(capsys, lic)
    document = json.loads(lic.read_text())
    document["signature"] = "vault:v1:!!!"
    lic.write_text(json.dumps(document))
    code, verdict, _ = run(capsys, "validate", str(lic))
    assert code == 1 and verdict["signature_valid"] is False


def test_unknown_license_and_refusals_exit_1(key: None, tmp_path: Path, capsys) -> None:
    code, body, _ = run(capsys, "revoke", "01NOPENOPENOPENOPENOPENOPE", "--reason", "x")
    assert code == 1 and body["code"] == "NOT_FOUND"
    license_ = issue(capsys, tmp_path / "a.lic")["license"]
    run(capsys, "revoke", license_["license_id"], "--reason", "x")
    code, body, _ = run(capsys, "renew", license_["license_id"], "--expires", "2035-01-01")
    assert code == 1 and body["code"] == "OPERATION_REFUSED"


def test_usage_errors_exit_2(env: dict[str, str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["issue", "--customer", "x"])
    assert exc.value.code == 2


def test_markup_in_customer_names_prints_literally(key: None, tmp_path: Path, capsys) -> None:
    issue(capsys, tmp_path / "a.lic", customer="[red]x[/red] & [bold]co")
    assert main(["list"]) == 0
    assert "[red]x[/red] & [bold]co" in capsys.readouterr().out


def test_unreachable_vault_is_one_line_and_exit_3(tmp_path: Path) -> None:
    """A real process: no traceback, the documented exit code."""
    from tests.conftest import free_port

    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "VAULT_ADDR": f"http://127.0.0.1:{free_port()}",
        "VAULT_TOKEN": "whatever",
        "LICENSE_CONSOLE_DB": str(tmp_path / "r.db"),
        "LICENSE_CONSOLE_KEYRING": "file",
        "LICENSE_CONSOLE_DATA_DIR": str(tmp_path / "data"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "license_console", "issue", "--customer", "A", "--module", "m",
         "--expires", "2031-01-01"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 3
    assert result.stderr.startswith("error: cannot reach Vault at")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_global_flags_work_before_the_subcommand(key: None, tmp_path: Path, capsys) -> None:
    issue(capsys, tmp_path / "a.lic")
    other = tmp_path / "other.db"
    assert main(["--json", "--db", str(other), "list"]) == 0
    assert json.loads(capsys.readouterr().out) == {"licenses": [], "total": 0}
    assert main(["--json", "list"]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == 1


def test_a_mistyped_db_path_fails_instead_of_starting_an_empty_registry(
    env: dict[str, str], tmp_path: Path, capsys
) -> None:
    code, body, _ = run(capsys, "list", "--db", str(tmp_path / "no" / "such" / "r.db"))
    assert code == 2 and "is not a directory" in body["error"]
    assert not (tmp_path / "no").exists()
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all" * 100)
    code, body, err = run(capsys, "list", "--db", str(junk))
    assert code == 1 and "cannot open the registry" in body["error"]
    assert "Traceback" not in err


def test_unwritable_out_is_refused_before_signing(key: None, tmp_path: Path, capsys) -> None:
    for out in (tmp_path, tmp_path / "missing-dir" / "a.lic"):
        code, body, _ = run(
            capsys, "issue", "--customer", "A", "--module", "m", "--expires", "2031-01-01",
            "--out", str(out),
        )  # fmt: skip
        assert code == 2 and "cannot write" in body["error"]
    code, body, _ = run(capsys, "list")
    assert body["total"] == 0  # nothing was issued behind the error


def test_show_rewrites_a_license_file(key: None, tmp_path: Path, capsys) -> None:
    license_ = issue(capsys, tmp_path / "a.lic")["license"]
    again = tmp_path / "again.lic"
    code, body, _ = run(capsys, "show", license_["license_id"][:10], "--out", str(again))
    assert code == 0 and body["status"] == "active"
    assert json.loads(again.read_text()) == license_


def test_an_added_member_is_a_tampered_license(key: None, tmp_path: Path, capsys) -> None:
    lic = tmp_path / "a.lic"
    issue(capsys, lic)
    document = json.loads(lic.read_text())
    document["seats_unlimited"] = True
    lic.write_text(json.dumps(document))
    code, verdict, _ = run(capsys, "validate", str(lic))
    assert code == 1 and verdict["signature_valid"] is False
    assert "unexpected member(s) seats_unlimited" in verdict["reasons"][0]


def test_usage_errors_honour_json(env: dict[str, str], capsys, monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", ["license-console", "list", "--limit", "0", "--json"])
    with pytest.raises(SystemExit) as exc:
        main(["list", "--limit", "0", "--json"])
    assert exc.value.code == 2
    body = json.loads(capsys.readouterr().out)
    assert body["code"] == "USAGE" and "--limit" in body["error"]


def test_audit_takes_a_short_id(key: None, tmp_path: Path, capsys) -> None:
    license_ = issue(capsys, tmp_path / "a.lic")["license"]
    code, body, _ = run(capsys, "audit", "--license", license_["license_id"][:12])
    assert code == 0 and [e["action"] for e in body["events"]] == ["issue"]


def test_revoke_cancel_and_scheduled_in_list(key: None, tmp_path: Path, capsys) -> None:
    license_ = issue(capsys, tmp_path / "a.lic")["license"]
    code, _, _ = run(
        capsys, "revoke", license_["license_id"], "--reason", "ends", "--effective", "2030-01-01"
    )
    assert code == 0
    code, body, _ = run(capsys, "list")
    listed = body["licenses"][0]
    assert listed["status"] == "active"
    assert listed["revocation_scheduled"] == "2030-01-01T00:00:00.000Z"
    code, body, _ = run(capsys, "revoke", license_["license_id"], "--cancel")
    assert code == 0 and body["cancelled"] is True
    code, body, _ = run(capsys, "list")
    assert body["licenses"][0]["revocation_scheduled"] is None

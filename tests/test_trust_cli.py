"""Trust through the real CLI: offline validation, OpenSSL agreement, revocation lists, and an
audit trail whose tampering `audit verify` detects and names."""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from trust_support import issue, run, run_text

from license_console import licenses
from license_console.audit import event_hash
from license_console.licenses import parse_ts
from license_console.verify import canonical_bytes, load_public_keys, verify_license

OFFLINE = ("--offline", "--public-key")


@pytest.fixture
def key(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, body, err = run(capsys, "keys", "create")
    assert code == 0 and body["created"] is True, err


def export_keys(capsys: pytest.CaptureFixture[str], out: Path, *extra: str) -> dict[str, Any]:
    code, body, err = run(capsys, "keys", "export", "--out", str(out), *extra)
    assert code == 0, err
    return dict(body)


def offline_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No Vault (a dead address, no token) and a registry path that must never be created."""
    monkeypatch.setenv("VAULT_ADDR", "http://127.0.0.1:9")
    monkeypatch.delenv("VAULT_TOKEN")
    registry = tmp_path / "nowhere" / "registry.db"
    monkeypatch.setenv("LICENSE_CONSOLE_DB", str(registry))
    return registry


# -- keys export -----------------------------------------------------------------------------------


def test_keys_export_every_version_or_one(
    key: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> None:
    assert run(capsys, "keys", "rotate")[0] == 0
    code, pem, _ = run_text(capsys, "keys", "export")
    assert code == 0
    ring = load_public_keys(pem)
    assert sorted(ring) == [
        (env["LICENSE_CONSOLE_KEY_NAME"], 1),
        (env["LICENSE_CONSOLE_KEY_NAME"], 2),
    ]
    assert "# type: ed25519" in pem and "# version: 2" in pem
    body = export_keys(capsys, tmp_path / "v1.pem", "--version", "1")
    assert body["versions"] == [1] and body["out"] == str(tmp_path / "v1.pem")
    assert list(load_public_keys((tmp_path / "v1.pem").read_text())) == [
        (env["LICENSE_CONSOLE_KEY_NAME"], 1)
    ]
    code, _, err = run(capsys, "keys", "export", "--version", "7")
    assert code == 2 and "no usable version 7" in err


# -- offline validate ------------------------------------------------------------------------------


def test_license_verifies_offline_with_only_the_exported_key(
    key: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lic = tmp_path / "a.lic"
    issue(capsys, lic)
    export_keys(capsys, tmp_path / "keys.pem")
    code, online, _ = run(capsys, "validate", str(lic))
    registry = offline_env(monkeypatch, tmp_path)
    code, body, err = run(capsys, "validate", str(lic), *OFFLINE, str(tmp_path / "keys.pem"))
    assert code == 0, err
    assert not registry.exists() and not registry.parent.exists()
    assert set(online) <= set(body) | {"superseded"}  # the online JSON shape, field for field
    assert body["valid"] and body["signature_valid"] and not body["expired"]
    assert not body["revoked"] and body["days_until_expiry"] > 0 and body["reasons"] == []
    assert any("without a revocation list" in w for w in body["warnings"])
    assert body["license"]["license_id"] == json.loads(lic.read_text())["license_id"]
    parse_ts(body["validation_timestamp"])
    code, text, _ = run_text(capsys, "validate", str(lic), *OFFLINE, str(tmp_path / "keys.pem"))
    assert code == 0 and "VALID" in text


def test_offline_tampered_license_is_invalid(
    key: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lic = tmp_path / "a.lic"
    doc = issue(capsys, lic)
    export_keys(capsys, tmp_path / "keys.pem")
    offline_env(monkeypatch, tmp_path)
    doc["metadata"]["max_users"] = 1000
    lic.write_text(json.dumps(doc))
    code, body, _ = run(capsys, "validate", str(lic), *OFFLINE, str(tmp_path / "keys.pem"))
    assert code == 1 and not body["valid"] and not body["signature_valid"]
    assert "signature does not match" in body["reasons"][0]


def test_offline_bad_input_exits_2(
    key: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lic = tmp_path / "a.lic"
    issue(capsys, lic)
    keys = tmp_path / "keys.pem"
    export_keys(capsys, keys)
    assert run(capsys, "validate", str(lic), "--public-key", str(keys))[0] == 2
    assert run(capsys, "validate", str(lic))[0] == 0  # online validate is unchanged
    offline_env(monkeypatch, tmp_path)
    code, _, err = run(capsys, "validate", str(lic), "--offline")
    assert code == 2 and "--public-key" in err
    code, _, err = run(capsys, "validate", str(lic), *OFFLINE, str(tmp_path / "missing.pem"))
    assert code == 2 and "no such public key file" in err
    (tmp_path / "junk.pem").write_text("not a key\n")
    code, _, err = run(capsys, "validate", str(lic), *OFFLINE, str(tmp_path / "junk.pem"))
    assert code == 2 and "not a usable public key file" in err
    code, _, err = run(capsys, "validate", str(tmp_path / "none.lic"), *OFFLINE, str(keys))
    assert code == 2 and "no such license file" in err
    (tmp_path / "bad.lic").write_text("{nope")
    code, _, err = run(capsys, "validate", str(tmp_path / "bad.lic"), *OFFLINE, str(keys))
    assert code == 2 and "not valid JSON" in err


def test_rotate_then_export_both_versions_verify(
    key: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    old = issue(capsys, tmp_path / "v1.lic")
    assert run(capsys, "keys", "rotate")[0] == 0
    new = issue(capsys, tmp_path / "v2.lic", "Globex")
    assert (old["key_version"], new["key_version"]) == (1, 2)
    export_keys(capsys, tmp_path / "keys.pem")
    offline_env(monkeypatch, tmp_path)
    for name in ("v1.lic", "v2.lic"):
        code, body, err = run(
            capsys, "validate", str(tmp_path / name), *OFFLINE, str(tmp_path / "keys.pem")
        )
        assert code == 0 and body["valid"], (name, body, err)


# -- revocation lists ------------------------------------------------------------------------------


def test_revoked_license_fails_offline_once_the_signed_list_is_given(
    key: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    revoked = issue(capsys, tmp_path / "revoked.lic")
    issue(capsys, tmp_path / "kept.lic", "Globex")
    later = issue(capsys, tmp_path / "later.lic", "Initech")
    assert run(capsys, "revoke", revoked["license_id"], "--reason", "Security breach")[0] == 0
    assert run(capsys, "revoke", later["license_id"], "--reason", "ends", "--effective",
               "2030-01-01")[0] == 0  # fmt: skip
    assert run(capsys, "keys", "rotate")[0] == 0  # the list is signed with the latest version
    export_keys(capsys, tmp_path / "keys.pem")
    rev = tmp_path / "rev.json"
    code, body, err = run(capsys, "revocations", "export", "--out", str(rev), "--valid-days", "3")
    assert code == 0 and body["count"] == 2 and body["key_version"] == 2, err

    document = json.loads(rev.read_text())
    assert document["type"] == "license-console-revocations"
    assert document["signature"].startswith("vault:v2:")
    assert parse_ts(document["next_update"]) - parse_ts(document["issued_at"]) == timedelta(days=3)
    assert {r["license_id"] for r in document["revocations"]} == {
        revoked["license_id"],
        later["license_id"],
    }
    # the console signs exactly the bytes the offline verifier checks
    assert licenses.canonical_bytes(document) == canonical_bytes(document)
    code, audit_body, _ = run(capsys, "audit", "--action", "revocations-export")
    assert audit_body["total"] == 1

    offline_env(monkeypatch, tmp_path)
    keys = str(tmp_path / "keys.pem")
    code, body, _ = run(capsys, "validate", str(tmp_path / "revoked.lic"), *OFFLINE, keys)
    assert code == 0, "without the list, revocation is unknown offline"
    args = ("--revocations", str(rev))
    code, body, _ = run(capsys, "validate", str(tmp_path / "revoked.lic"), *OFFLINE, keys, *args)
    assert code == 1 and body["revoked"] and body["signature_valid"] and not body["valid"]
    assert "Security breach" in body["reasons"][0] and body["status"] == "revoked"
    code, body, _ = run(capsys, "validate", str(tmp_path / "kept.lic"), *OFFLINE, keys, *args)
    assert code == 0 and body["valid"]
    code, body, _ = run(capsys, "validate", str(tmp_path / "later.lic"), *OFFLINE, keys, *args)
    assert code == 0 and any("will be revoked on 2030-01-01" in w for w in body["warnings"])


def test_tampered_revocation_list_is_refused(
    key: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    revoked = issue(capsys, tmp_path / "revoked.lic")
    assert run(capsys, "revoke", revoked["license_id"], "--reason", "breach")[0] == 0
    export_keys(capsys, tmp_path / "keys.pem")
    rev = tmp_path / "rev.json"
    assert run(capsys, "revocations", "export", "--out", str(rev))[0] == 0
    document = json.loads(rev.read_text())
    document["revocations"] = []  # un-revoke by editing the list
    rev.write_text(json.dumps(document))
    offline_env(monkeypatch, tmp_path)
    code, body, err = run(
        capsys, "validate", str(tmp_path / "revoked.lic"), *OFFLINE, str(tmp_path / "keys.pem"),
        "--revocations", str(rev),
    )  # fmt: skip
    assert code == 2 and "revocation list refused" in err
    assert body["code"] == "INVALID_LICENSE"


def test_revocations_export_needs_a_positive_validity(
    key: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:  # a usage error, refused before anything runs
        run(capsys, "revocations", "export", "--out", str(tmp_path / "r.json"), "--valid-days", "0")
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "--valid-days" in err and not (tmp_path / "r.json").exists()


# -- OpenSSL, a verifier nobody here wrote -------------------------------------------------------

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl")


def _openssl_files(doc: dict[str, Any], tmp_path: Path) -> tuple[Path, Path]:
    data, sig = tmp_path / "data.bin", tmp_path / "sig.bin"
    data.write_bytes(canonical_bytes(doc))
    sig.write_bytes(base64.b64decode(doc["signature"].split(":", 2)[2]))
    return data, sig


@needs_openssl
def test_openssl_verifies_an_ed25519_license(
    key: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = issue(capsys, tmp_path / "a.lic")
    pub = tmp_path / "pub.pem"
    export_keys(capsys, pub, "--version", "1")
    data, sig = _openssl_files(doc, tmp_path)
    command = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(pub), "-rawin"]
    ok = subprocess.run([*command, "-in", str(data), "-sigfile", str(sig)], capture_output=True)
    assert ok.returncode == 0 and b"Signature Verified Successfully" in ok.stdout
    data.write_bytes(data.read_bytes().replace(b"Acme", b"Acmf"))
    bad = subprocess.run([*command, "-in", str(data), "-sigfile", str(sig)], capture_output=True)
    assert bad.returncode != 0


@needs_openssl
def test_openssl_verifies_an_ecdsa_p384_license(
    env: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LICENSE_CONSOLE_KEY_NAME", env["LICENSE_CONSOLE_KEY_NAME"] + "-p384")
    code, body, err = run(capsys, "keys", "create", "--type", "ecdsa-p384")
    assert code == 0 and body["key"]["type"] == "ecdsa-p384", err
    doc = issue(capsys, tmp_path / "a.lic")
    assert doc["alg"] == "ecdsa-p384+sha2-384"
    pub = tmp_path / "pub.pem"
    export_keys(capsys, pub, "--version", "1")
    data, sig = _openssl_files(doc, tmp_path)
    command = ["openssl", "dgst", "-sha384", "-verify", str(pub), "-signature", str(sig)]
    ok = subprocess.run([*command, str(data)], capture_output=True)
    assert ok.returncode == 0 and b"Verified OK" in ok.stdout
    data.write_bytes(data.read_bytes() + b" ")
    assert subprocess.run([*command, str(data)], capture_output=True).returncode != 0
    assert verify_license(doc, load_public_keys(pub.read_text())).valid


# -- the audit chain -------------------------------------------------------------------------------


@pytest.fixture
def trail(key: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], env: dict[str, str]):
    """Seven events: key-create, three issues (2-4), a revoke (5), two validations (6, 7)."""
    first = issue(capsys, tmp_path / "a.lic")
    issue(capsys, tmp_path / "b.lic", "Globex")
    issue(capsys, tmp_path / "c.lic", "Initech")
    assert run(capsys, "revoke", first["license_id"], "--reason", "breach")[0] == 0
    assert run(capsys, "validate", str(tmp_path / "b.lic"))[0] == 0
    assert run(capsys, "validate", str(tmp_path / "c.lic"))[0] == 0
    return Path(env["LICENSE_CONSOLE_DB"])


def sql(db: Path, *statements: str, params: tuple[Any, ...] = ()) -> None:
    with sqlite3.connect(db) as conn:
        for statement in statements:
            conn.execute(statement, params if "?" in statement else ())


def verify(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code, body, _ = run(capsys, "audit", "verify")
    return code, body


def test_intact_trail_verifies_and_audit_list_still_works(
    trail: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, body = verify(capsys)
    assert code == 0 and body["intact"] and body["events"] == 7
    assert body["unsigned_events"] == 7 and body["checkpoints"] == 0
    code, body, _ = run(capsys, "audit", "checkpoint")
    assert code == 0 and body["created"] and body["checkpoint"]["event_id"] == 7
    assert run(capsys, "audit", "checkpoint")[1]["created"] is False  # idempotent
    code, body = verify(capsys)
    assert code == 0 and body["signatures_verified"] and body["checkpoints_checked"] == 1
    assert body["unsigned_events"] == 0
    code, text, _ = run_text(capsys, "audit", "verify")
    assert code == 0 and "INTACT" in text
    # checkpoints can be checked offline with the exported key ring, too
    export_keys(capsys, tmp_path / "keys.pem")
    code, body, _ = run(capsys, "audit", "verify", "--public-key", str(tmp_path / "keys.pem"))
    assert code == 0 and body["signatures_verified"]
    # the list keeps its old form
    code, body, _ = run(capsys, "audit", "--limit", "2")
    assert code == 0 and len(body["events"]) == 2 and body["total"] == 7
    code, body, _ = run(capsys, "audit", "list", "--action", "revoke")
    assert code == 0 and body["total"] == 1


@pytest.mark.parametrize(
    ("statement", "first_bad"),
    [
        ("UPDATE audit_events SET details = replace(details, 'Globex', 'Globey') WHERE id = 3", 3),
        ("UPDATE audit_events SET actor = 'someone else' WHERE id = 4", 4),
        ("UPDATE audit_events SET at = '2020-01-01 00:00:00' WHERE id = 5", 5),
        ("DELETE FROM audit_events WHERE id = 3", 3),
    ],
    ids=["edit-details", "edit-actor", "edit-time", "delete"],
)
def test_edit_or_delete_is_detected(
    trail: Path, capsys: pytest.CaptureFixture[str], statement: str, first_bad: int
) -> None:
    sql(trail, statement)
    code, body = verify(capsys)
    assert code == 1 and not body["intact"] and body["first_bad_event"] == first_bad
    code, text, _ = run_text(capsys, "audit", "verify")
    assert code == 1 and f"TAMPERED at event {first_bad}" in text


def test_swapped_ids_are_detected(trail: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sql(
        trail,
        "UPDATE audit_events SET id = -1 WHERE id = 2",
        "UPDATE audit_events SET id = 2 WHERE id = 4",
        "UPDATE audit_events SET id = 4 WHERE id = -1",
    )
    code, body = verify(capsys)
    assert code == 1 and body["first_bad_event"] == 2


def test_inserted_event_is_detected_even_with_a_correct_hash(
    trail: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Shift events 3.. up by one and slot a well-formed, correctly hashed event in at 3."""
    with sqlite3.connect(trail) as conn:
        prev = conn.execute("SELECT hash FROM audit_events WHERE id = 2").fetchone()[0]
        conn.execute("UPDATE audit_events SET id = id + 1000 WHERE id >= 3")
        conn.execute("UPDATE audit_events SET id = id - 999 WHERE id >= 1000")
        at = licenses.utcnow()
        digest = event_hash(3, at, "revoke", None, "forger", {}, prev)
        conn.execute(
            "INSERT INTO audit_events (id, at, action, license_id, actor, details, prev_hash, "
            "hash) VALUES (3, ?, 'revoke', NULL, 'forger', '{}', ?, ?)",
            (at.replace(tzinfo=None).isoformat(sep=" "), prev, digest),
        )
    code, body = verify(capsys)
    assert code == 1 and body["first_bad_event"] == 4  # the first event that no longer fits


def test_a_rewritten_chain_is_caught_by_the_checkpoint(
    trail: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Edit event 2 and recompute every hash after it: only the signed checkpoint notices."""
    assert run(capsys, "audit", "checkpoint")[0] == 0
    with sqlite3.connect(trail) as conn:
        conn.execute("UPDATE audit_events SET actor = 'nobody' WHERE id = 2")
        rows = conn.execute(
            "SELECT id, at, action, license_id, actor, details FROM audit_events ORDER BY id"
        ).fetchall()
        prev = "0" * 64
        for event_id, at, action, license_id, actor, details in rows:
            moment = parse_ts(at)
            digest = event_hash(
                event_id, moment, action, license_id, actor, json.loads(details), prev
            )
            conn.execute(
                "UPDATE audit_events SET prev_hash = ?, hash = ? WHERE id = ?",
                (prev, digest, event_id),
            )
            prev = digest
    code, body = verify(capsys)
    assert code == 1 and body["bad_checkpoint"] == 1 and "rewritten" in body["problem"]
    # and the console refuses to sign over it
    new_event = ("issue", "--customer", "X", "--module", "a", "--expires", "2031-01-01")
    assert run(capsys, *new_event)[0] == 0
    code, _, err = run(capsys, "audit", "checkpoint")
    assert code == 1 and "nothing was signed" in err


def test_truncated_tail_is_caught_only_after_a_checkpoint(
    trail: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql(trail, "DELETE FROM audit_events WHERE id = 7")
    code, body = verify(capsys)
    assert code == 0, "documented limit: an unsigned tail can be cut without a trace"
    assert run(capsys, "validate", str(trail.parent / "c.lic"))[0] == 0  # event 7 again
    assert run(capsys, "audit", "checkpoint")[0] == 0
    sql(trail, "DELETE FROM audit_events WHERE id >= 5")
    code, body = verify(capsys)
    assert code == 1 and body["first_bad_event"] == 5 and "deleted" in body["problem"]


def test_forged_checkpoint_signature_is_detected(
    trail: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "audit", "checkpoint")[0] == 0
    sql(trail, "UPDATE audit_checkpoints SET at = '2020-01-01 00:00:00'")
    code, body = verify(capsys)
    assert code == 1 and body["bad_checkpoint"] == 1 and "signature" in body["problem"]


def test_checkpoints_are_taken_automatically(
    key: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LICENSE_CONSOLE_AUDIT_CHECKPOINT_EVERY", "3")
    for number in range(4):
        issue(capsys, tmp_path / f"{number}.lic", f"Customer {number}")
    batch = tmp_path / "batch.csv"
    batch.write_text("customer,modules,expires_at\n" + "".join(
        f"C{n},hr,2030-01-01\n" for n in range(10)))  # fmt: skip
    assert run(capsys, "batch", str(batch))[0] == 0
    code, body = verify(capsys)
    # key-create and 4 issues, then a batch of 10 issues + 1 batch event: checkpoints after
    # events 3 (the second issue) and 16 (the batch), never in the middle of the batch
    assert code == 0 and body["checkpoints"] == 2 and body["last_checkpoint_event"] == 16
    assert body["signatures_verified"] and body["unsigned_events"] == 0

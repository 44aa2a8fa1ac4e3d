"""Tests for license_console.verify, the offline verifier customers embed.

The canonical form is checked against RFC 8785's own examples and the rfc8785 package; signatures
are checked against keys made here, against the OpenSSL command line (both directions) and against
a real OpenBao dev server's Transit engine, because a verifier that only agrees with itself proves
nothing.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from license_console.verify import (
    ANY_KEY,
    OfflineResult,
    PublicKeyEntry,
    RevocationListError,
    canonical_bytes,
    format_public_keys,
    jcs_dumps,
    key_type_of,
    load_public_keys,
    load_revocation_list,
    public_key_pem_from_transit,
    verify_license,
    verify_license_file,
)

KEY_NAME = "license-signing-key"
NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
CURVE_HASH: dict[str, type[hashes.HashAlgorithm]] = {
    "ecdsa-p256+sha2-256": hashes.SHA256,
    "ecdsa-p384+sha2-384": hashes.SHA384,
    "ecdsa-p521+sha2-512": hashes.SHA512,
}

# ---------------------------------------------------------------------------------------------
# RFC 8785
# ---------------------------------------------------------------------------------------------

RFC_SAMPLE_INPUT = r"""{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}"""
RFC_SAMPLE_OUTPUT = (
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
    '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
).encode("utf-8")


def test_rfc8785_section_3_2_2_sample() -> None:
    assert jcs_dumps(json.loads(RFC_SAMPLE_INPUT)) == RFC_SAMPLE_OUTPUT


def test_rfc8785_section_3_2_3_sorting_by_utf16_code_units() -> None:
    source = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    expected = (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    )
    assert jcs_dumps(source) == expected.encode("utf-8")


# RFC 8785 Appendix B: IEEE 754 bit pattern -> canonical JSON number.
APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("3eb0c6f7a0b5ed8e", "0.0000010000000000000002"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "expected"), APPENDIX_B)
def test_rfc8785_appendix_b_numbers(bits: str, expected: str) -> None:
    value = struct.unpack(">d", bytes.fromhex(bits))[0]
    assert jcs_dumps(value) == expected.encode("ascii")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1e21, "1e+21"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (-0.0, "0"),
        (100.0, "100"),
        (2**53 - 1, "9007199254740991"),
        (-(2**53 - 1), "-9007199254740991"),
        (True, "true"),
        (None, "null"),
        ("\x7f\x1f", '"\x7f\\u001f"'),
        ((1, 2), "[1,2]"),
    ],
)
def test_small_cases(value: Any, expected: str) -> None:
    assert jcs_dumps(value) == expected.encode("utf-8")


@pytest.mark.parametrize(
    "value",
    [
        float("nan"),
        float("inf"),
        float("-inf"),
        2**53,
        -(2**53),
        [1, 2**64],
        "\ud800",
    ],
)
def test_values_json_cannot_carry_are_refused(value: Any) -> None:
    with pytest.raises(ValueError):
        jcs_dumps(value)


def test_non_json_types_are_refused() -> None:
    with pytest.raises(TypeError):
        jcs_dumps({1: "x"})
    with pytest.raises(TypeError):
        jcs_dumps({"when": datetime.now()})


_TEXT = st.text(
    st.characters(codec="utf-8")
    | st.sampled_from([chr(c) for c in range(0x20)] + ['"', "\\", "\x7f", "\u2028"])
)
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53 - 1), 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT,
    lambda children: st.lists(children, max_size=6) | st.dictionaries(_TEXT, children, max_size=6),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None, database=None)
@given(_JSON)
def test_jcs_matches_rfc8785_package(value: Any) -> None:
    assert jcs_dumps(value) == rfc8785.dumps(value)


def test_verify_imports_only_stdlib_and_cryptography() -> None:
    """Customers copy verify.py into their apps; any other import would break it there."""
    import ast

    import license_console.verify as verify

    tree = ast.parse(Path(verify.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    outside = {
        name
        for name in imported
        if name.split(".")[0] not in sys.stdlib_module_names
        and name.split(".")[0] not in ("__future__", "cryptography")
    }
    assert outside == set()


def test_canonical_bytes_covers_everything_but_signature() -> None:
    doc = {"b": 1, "a": [1.0, "x"], "signature": "vault:v1:AAAA", "extra": None}
    assert canonical_bytes(doc) == b'{"a":[1,"x"],"b":1,"extra":null}'


# ---------------------------------------------------------------------------------------------
# Local keys and helpers
# ---------------------------------------------------------------------------------------------

PrivateKey = Any
ALGS = [
    "ed25519",
    "ecdsa-p256+sha2-256",
    "ecdsa-p384+sha2-384",
    "ecdsa-p521+sha2-512",
    "rsa-pss-sha256",
    "rsa-pss-sha512",
    "rsa-pkcs1v15-sha256",
    "rsa-pkcs1v15-sha384",
]


@pytest.fixture(scope="module")
def private_keys() -> dict[str, PrivateKey]:
    """One private key per alg; RSA is generated once because it is slow."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keys: dict[str, PrivateKey] = {
        "ed25519": ed25519.Ed25519PrivateKey.generate(),
        "ecdsa-p256+sha2-256": ec.generate_private_key(ec.SECP256R1()),
        "ecdsa-p384+sha2-384": ec.generate_private_key(ec.SECP384R1()),
        "ecdsa-p521+sha2-512": ec.generate_private_key(ec.SECP521R1()),
    }
    keys.update({alg: rsa_key for alg in ALGS if alg.startswith("rsa-")})
    return keys


def raw_sign(private_key: PrivateKey, alg: str, data: bytes, *, salt: int | None = None) -> bytes:
    """Sign like Transit: ed25519 unhashed, ECDSA DER, RSA-PSS with the longest salt."""
    if alg == "ed25519":
        return private_key.sign(data)
    if alg in CURVE_HASH:
        return private_key.sign(data, ec.ECDSA(CURVE_HASH[alg]()))
    digest = HASHES[alg.rsplit("-", 1)[1]]()
    if alg.startswith("rsa-pss-"):
        salt_length = padding.PSS.MAX_LENGTH if salt is None else salt
        return private_key.sign(data, padding.PSS(padding.MGF1(digest), salt_length), digest)
    return private_key.sign(data, padding.PKCS1v15(), digest)


def license_doc(alg: str = "ed25519", **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "license_id": "01JEZ7Q6W3B5N8K2M4P6R8T0VX",
        "customer": "Acme Corp",
        "modules": ["hr", "payroll"],
        "issued_at": "2026-12-03T15:53:57.123Z",
        "expires_at": "2030-12-31T23:59:59.999Z",
        "metadata": {"max_users": 100, "environment": "production"},
        "issuer": "License Authority",
        "version": "1.0",
        "renewed_from": None,
        "key_name": KEY_NAME,
        "key_version": 1,
        "alg": alg,
    }
    doc.update(changes)
    return doc


def sign_doc(
    doc: dict[str, Any],
    private_key: PrivateKey,
    *,
    prefix_version: int | None = None,
    salt: int | None = None,
) -> dict[str, Any]:
    unsigned = {key: value for key, value in doc.items() if key != "signature"}
    raw = raw_sign(private_key, doc["alg"], canonical_bytes(unsigned), salt=salt)
    version = doc["key_version"] if prefix_version is None else prefix_version
    return {**unsigned, "signature": f"vault:v{version}:{base64.b64encode(raw).decode()}"}


def entry_for(
    private_key: PrivateKey, version: int = 1, key_name: str = KEY_NAME
) -> PublicKeyEntry:
    public = private_key.public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return PublicKeyEntry(key_name, version, key_type_of(public), pem, "2026-12-03T15:54:31Z")


def ring_for(*entries: PublicKeyEntry) -> dict[tuple[str, int], PublicKeyEntry]:
    """Go through the file format so every test also exercises it."""
    return load_public_keys(format_public_keys(list(entries)))


# ---------------------------------------------------------------------------------------------
# Signatures with local keys
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ALGS)
def test_good_license_verifies(alg: str, private_keys: dict[str, PrivateKey]) -> None:
    key = private_keys[alg]
    result = verify_license(sign_doc(license_doc(alg), key), ring_for(entry_for(key)), now=NOW)
    assert result == OfflineResult(True, True, False, False, result.days_until_expiry, [], [])
    assert (
        result.days_until_expiry
        == (datetime(2030, 12, 31, 23, 59, 59, 999000, tzinfo=UTC) - NOW).days
    )


def _tampered(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return "tampered"
    if isinstance(value, int):
        return value + 1
    if isinstance(value, list):
        return [*value, "inventory"]
    if isinstance(value, dict):
        return {**value, "max_users": 100000}
    if value.startswith("vault:v1:"):  # flip one signature character
        index = len("vault:v1:") + 10
        return value[:index] + ("A" if value[index] != "A" else "B") + value[index + 1 :]
    if value.endswith("Z"):
        return value.replace("2", "3", 1)
    return value + "x"


@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("name", list(license_doc()) + ["signature"])
def test_tampering_with_any_field_breaks_the_signature(
    alg: str, name: str, private_keys: dict[str, PrivateKey]
) -> None:
    key = private_keys[alg]
    doc = sign_doc(license_doc(alg), key)
    doc[name] = _tampered(doc[name])
    result = verify_license(doc, ring_for(entry_for(key)), now=NOW)
    assert not result.valid and not result.signature_valid
    assert result.reasons


@pytest.mark.parametrize("change", ["add", "remove"])
def test_adding_or_removing_a_field_breaks_the_signature(
    change: str, private_keys: dict[str, PrivateKey]
) -> None:
    key = private_keys["ed25519"]
    doc = sign_doc(license_doc(), key)
    if change == "add":
        doc["support_level"] = "platinum"
    else:
        del doc["metadata"]
    result = verify_license(doc, ring_for(entry_for(key)), now=NOW)
    assert not result.valid
    assert result.reasons == [
        "signature does not match: the license was altered or signed by another key"
    ]


def test_signature_from_another_key_is_refused(private_keys: dict[str, PrivateKey]) -> None:
    doc = sign_doc(license_doc(), ed25519.Ed25519PrivateKey.generate())
    result = verify_license(doc, ring_for(entry_for(private_keys["ed25519"])), now=NOW)
    assert not result.signature_valid
    assert "signed by another key" in result.reasons[0]


def test_pss_accepts_max_and_digest_length_salts(private_keys: dict[str, PrivateKey]) -> None:
    key = private_keys["rsa-pss-sha256"]
    ring = ring_for(entry_for(key))
    max_salt = sign_doc(license_doc("rsa-pss-sha256"), key)  # Transit's "auto" = maximum
    digest_salt = sign_doc(license_doc("rsa-pss-sha256"), key, salt=32)
    assert verify_license(max_salt, ring, now=NOW).valid
    assert verify_license(digest_salt, ring, now=NOW).valid


def test_alg_that_does_not_fit_the_key(private_keys: dict[str, PrivateKey]) -> None:
    doc = sign_doc(license_doc("ecdsa-p384+sha2-384"), private_keys["ecdsa-p384+sha2-384"])
    ring = ring_for(entry_for(private_keys["ecdsa-p256+sha2-256"]))
    result = verify_license(doc, ring, now=NOW)
    assert result.reasons == [
        "alg ecdsa-p384+sha2-384 does not fit the public key, which is ecdsa-p256"
    ]


def test_signature_prefix_must_match_key_version(private_keys: dict[str, PrivateKey]) -> None:
    key = private_keys["ed25519"]
    doc = sign_doc(license_doc(), key, prefix_version=2)
    result = verify_license(doc, ring_for(entry_for(key), entry_for(key, 2)), now=NOW)
    assert not result.valid and not result.signature_valid
    assert result.reasons == [
        "signature was made with key version 2 but the document says key_version 1"
    ]


def test_unknown_key_version(private_keys: dict[str, PrivateKey]) -> None:
    key = private_keys["ed25519"]
    doc = sign_doc(license_doc(key_version=3), key)
    result = verify_license(doc, ring_for(entry_for(key), entry_for(key, 2)), now=NOW)
    assert result.reasons == ["no public key for license-signing-key version 3"]


def test_rotated_keys_each_verify_their_own_licenses(private_keys: dict[str, PrivateKey]) -> None:
    old, new = private_keys["ed25519"], ed25519.Ed25519PrivateKey.generate()
    ring = ring_for(entry_for(old, 1), entry_for(new, 2))
    assert verify_license(sign_doc(license_doc(), old), ring, now=NOW).valid
    assert verify_license(sign_doc(license_doc(key_version=2), new), ring, now=NOW).valid
    forged = sign_doc(license_doc(key_version=2), old)
    assert not verify_license(forged, ring, now=NOW).signature_valid


def test_key_ring_text_is_accepted_directly(private_keys: dict[str, PrivateKey]) -> None:
    key = private_keys["ecdsa-p256+sha2-256"]
    text = format_public_keys([entry_for(key)])
    assert verify_license(sign_doc(license_doc("ecdsa-p256+sha2-256"), key), text, now=NOW).valid


# ---------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------


@pytest.fixture()
def signed(private_keys: dict[str, PrivateKey]) -> Any:
    key = private_keys["ed25519"]
    ring = ring_for(entry_for(key))

    def check(now: datetime, **changes: Any) -> OfflineResult:
        return verify_license(sign_doc(license_doc(**changes), key), ring, now=now)

    return check


def test_expired_license(signed: Any) -> None:
    result = signed(datetime(2031, 1, 1, tzinfo=UTC))
    assert result.signature_valid and result.expired and not result.valid
    assert result.days_until_expiry == -1
    assert result.reasons == ["license expired on 2030-12-31T23:59:59.999Z"]


def test_expiry_is_exact_and_days_are_floored(signed: Any) -> None:
    at_expiry = datetime(2030, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)
    assert signed(at_expiry).expired
    just_before = signed(at_expiry - timedelta(milliseconds=1))
    assert just_before.valid and just_before.days_until_expiry == 0
    assert signed(at_expiry - timedelta(days=1, hours=23)).days_until_expiry == 1


def test_issued_in_the_future_beyond_skew(signed: Any) -> None:
    issued = datetime(2026, 12, 3, 15, 53, 57, 123000, tzinfo=UTC)
    result = signed(issued - timedelta(minutes=10))
    assert not result.valid and result.signature_valid and not result.expired
    assert result.reasons == [
        "issued_at lies in the future (2026-12-03T15:53:57.123Z); is this machine's clock wrong "
        "or was the license forged?"
    ]
    assert signed(issued - timedelta(minutes=4)).valid


def test_naive_now_is_utc_and_offsets_are_accepted(signed: Any) -> None:
    result = signed(datetime(2030, 12, 31, 22, 30), expires_at="2031-01-01T00:00:00+01:00")
    assert result.valid and result.days_until_expiry == 0
    assert signed(datetime(2030, 12, 31, 23, 0), expires_at="2031-01-01T00:00:00+01:00").expired


def test_expiry_before_issue_is_refused(signed: Any) -> None:
    result = signed(NOW, expires_at="2026-01-01T00:00:00Z")
    assert "expires_at is before issued_at" in result.reasons


# ---------------------------------------------------------------------------------------------
# Malformed documents never raise
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"license_id": None}, "license_id is missing or not a non-empty string"),
        ({"customer": ""}, "customer is missing or not a non-empty string"),
        ({"modules": "hr"}, "modules is missing or not a list of strings"),
        ({"expires_at": 20301231}, "expires_at is missing or not an ISO 8601 time with an offset"),
        (
            {"issued_at": "2026-12-03T15:53:57"},
            "issued_at is missing or not an ISO 8601 time with an offset",
        ),
        ({"key_version": "1"}, "key_version is missing or not a positive integer"),
        ({"key_version": True}, "key_version is missing or not a positive integer"),
        ({"key_name": 7}, "key_name is missing or not a string"),
        ({"alg": "hmac-sha256"}, "unsupported alg 'hmac-sha256'"),
        ({"signature": "v1:AAAA"}, "signature is missing or not of the form vault:v<N>:<base64>"),
        ({"signature": None}, "signature is missing or not of the form vault:v<N>:<base64>"),
        ({"metadata": {"big": 2**60}}, "cannot check the signature: integer"),
        ({"metadata": {"when": datetime(2027, 1, 1)}}, "cannot check the signature: datetime"),
    ],
)
def test_ill_typed_fields_give_reasons(
    changes: dict[str, Any], reason: str, private_keys: dict[str, PrivateKey]
) -> None:
    key = private_keys["ed25519"]
    doc = {**sign_doc(license_doc(), key), **changes}
    result = verify_license(doc, ring_for(entry_for(key)), now=NOW)
    assert not result.valid
    assert any(r.startswith(reason) for r in result.reasons), result.reasons


@pytest.mark.parametrize("missing", list(license_doc()) + ["signature"])
def test_missing_fields_give_reasons(missing: str, private_keys: dict[str, PrivateKey]) -> None:
    key = private_keys["ed25519"]
    doc = sign_doc(license_doc(), key)
    del doc[missing]
    result = verify_license(doc, ring_for(entry_for(key)), now=NOW)
    assert not result.valid and result.reasons


@pytest.mark.parametrize("doc", [[], "license", None, 42])
def test_non_object_license(doc: Any, private_keys: dict[str, PrivateKey]) -> None:
    result = verify_license(doc, ring_for(entry_for(private_keys["ed25519"])), now=NOW)
    assert result.reasons == ["license is not a JSON object"] and not result.valid


def test_bad_base64_signature(private_keys: dict[str, PrivateKey]) -> None:
    key = private_keys["ed25519"]
    doc = {**sign_doc(license_doc(), key), "signature": "vault:v1:A"}
    result = verify_license(doc, ring_for(entry_for(key)), now=NOW)
    assert result.reasons[0].startswith("cannot check the signature")


# ---------------------------------------------------------------------------------------------
# Key ring file format
# ---------------------------------------------------------------------------------------------


def test_key_ring_round_trip_and_format(private_keys: dict[str, PrivateKey]) -> None:
    one = entry_for(private_keys["ed25519"], 1)
    two = entry_for(private_keys["rsa-pss-sha256"], 2, "other-key")
    text = format_public_keys([two, one])
    assert text.startswith(
        "# License Console public keys\n# key: license-signing-key\n# type: ed25519\n"
        "# version: 1\n# created: 2026-12-03T15:54:31Z\n-----BEGIN PUBLIC KEY-----\n"
    )
    assert "# key: other-key\n# type: rsa-2048\n# version: 2\n" in text
    assert load_public_keys(text) == {(KEY_NAME, 1): one, ("other-key", 2): two}


def test_plain_pem_applies_to_any_key(private_keys: dict[str, PrivateKey]) -> None:
    key = private_keys["ecdsa-p384+sha2-384"]
    ring = load_public_keys(entry_for(key).pem)
    assert list(ring) == [ANY_KEY] and ring[ANY_KEY].key_type == "ecdsa-p384"
    doc = sign_doc(license_doc("ecdsa-p384+sha2-384", key_name="whatever", key_version=9), key)
    assert verify_license(doc, ring, now=NOW).valid


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t.replace("# type: ed25519", "# type: ecdsa-p256"), "labelled ecdsa-p256"),
        (lambda t: t.replace("# version: 2", "# version: 1"), "appears twice"),
        (lambda t: t.replace("# version: 2\n", ""), "needs '# key:' and '# version:'"),
        (lambda t: t.replace("# version: 2", "# version: two"), "not a positive integer"),
        (lambda t: t + "garbage\n", "unexpected text outside a PEM block"),
        (lambda t: t.rsplit("-----END", 1)[0], "no END line"),
        (lambda t: "# just a comment\n", "no PEM public key found"),
    ],
)
def test_bad_key_rings_are_refused(
    mutate: Any, message: str, private_keys: dict[str, PrivateKey]
) -> None:
    key = private_keys["ed25519"]
    text = format_public_keys([entry_for(key, 1), entry_for(key, 2)])
    with pytest.raises(ValueError, match=message):
        load_public_keys(mutate(text))


def test_public_key_pem_from_transit(private_keys: dict[str, PrivateKey]) -> None:
    ed = private_keys["ed25519"].public_key()
    raw = ed.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    expected = entry_for(private_keys["ed25519"]).pem
    assert public_key_pem_from_transit("ed25519", base64.b64encode(raw).decode()) == expected
    ec_pem = entry_for(private_keys["ecdsa-p256+sha2-256"]).pem
    assert public_key_pem_from_transit("ecdsa-p256", ec_pem) == ec_pem
    with pytest.raises(ValueError, match="Transit said rsa-2048 but the key is ecdsa-p256"):
        public_key_pem_from_transit("rsa-2048", ec_pem)


# ---------------------------------------------------------------------------------------------
# Revocation lists
# ---------------------------------------------------------------------------------------------


def revocation_doc(
    private_key: PrivateKey, *entries: dict[str, Any], next_update: str = "2027-07-01T00:00:00.000Z"
) -> dict[str, Any]:
    doc = {
        "type": "license-console-revocations",
        "key_name": KEY_NAME,
        "key_version": 1,
        "alg": "ed25519",
        "issued_at": "2027-05-01T00:00:00.000Z",
        "next_update": next_update,
        "revocations": list(entries),
    }
    return sign_doc(doc, private_key)


REVOKED = {
    "license_id": "01JEZ7Q6W3B5N8K2M4P6R8T0VX",
    "effective_at": "2027-05-15T08:00:00.000Z",
    "reason": "key compromised",
}


def test_revoked_license(private_keys: dict[str, PrivateKey]) -> None:
    key = private_keys["ed25519"]
    ring = ring_for(entry_for(key))
    other = {**REVOKED, "license_id": "someone-else"}
    revocations = load_revocation_list(revocation_doc(key, other, REVOKED), ring)
    result = verify_license(sign_doc(license_doc(), key), ring, now=NOW, revocations=revocations)
    assert result.revoked and result.signature_valid and not result.valid
    assert result.reasons == ["revoked on 2027-05-15T08:00:00.000Z: key compromised"]
    assert result.warnings == []


def test_future_revocation_only_warns(private_keys: dict[str, PrivateKey]) -> None:
    key = private_keys["ed25519"]
    ring = ring_for(entry_for(key))
    later = {**REVOKED, "effective_at": "2027-06-30T00:00:00Z"}
    revocations = load_revocation_list(revocation_doc(key, later), ring)
    result = verify_license(sign_doc(license_doc(), key), ring, now=NOW, revocations=revocations)
    assert result.valid and not result.revoked
    assert result.warnings == ["will be revoked on 2027-06-30T00:00:00Z: key compromised"]


def test_stale_revocation_list_is_used_with_a_warning(private_keys: dict[str, PrivateKey]) -> None:
    key = private_keys["ed25519"]
    ring = ring_for(entry_for(key))
    stale = load_revocation_list(
        revocation_doc(key, REVOKED, next_update="2027-05-20T00:00:00Z"), ring
    )
    result = verify_license(sign_doc(license_doc(), key), ring, now=NOW, revocations=stale)
    assert result.revoked and not result.valid
    assert result.warnings == [
        "revocation list was due for an update on 2027-05-20T00:00:00Z; fetch a fresh one"
    ]


def test_tampered_revocation_list_is_refused(private_keys: dict[str, PrivateKey]) -> None:
    key = private_keys["ed25519"]
    doc = revocation_doc(key, REVOKED)
    doc["revocations"] = []  # someone tries to un-revoke a license
    with pytest.raises(RevocationListError, match="revocation list refused: signature does not"):
        load_revocation_list(doc, ring_for(entry_for(key)))


def test_revocation_list_signed_by_another_key_is_refused(
    private_keys: dict[str, PrivateKey],
) -> None:
    doc = revocation_doc(ed25519.Ed25519PrivateKey.generate(), REVOKED)
    with pytest.raises(RevocationListError):
        load_revocation_list(doc, ring_for(entry_for(private_keys["ed25519"])))


@pytest.mark.parametrize("doc", [[], {"type": "something-else"}])
def test_non_revocation_documents_are_refused(
    doc: Any, private_keys: dict[str, PrivateKey]
) -> None:
    with pytest.raises(RevocationListError, match="not a license-console-revocations"):
        load_revocation_list(doc, ring_for(entry_for(private_keys["ed25519"])))


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------


def test_verify_license_file(tmp_path: Path, private_keys: dict[str, PrivateKey]) -> None:
    key = private_keys["ed25519"]
    (tmp_path / "license.json").write_text(json.dumps(sign_doc(license_doc(), key), indent=2))
    (tmp_path / "keys.pem").write_text(format_public_keys([entry_for(key)]))
    (tmp_path / "revocations.json").write_text(json.dumps(revocation_doc(key, REVOKED)))
    assert verify_license_file(tmp_path / "license.json", tmp_path / "keys.pem", now=NOW).valid
    revoked = verify_license_file(
        tmp_path / "license.json", tmp_path / "keys.pem", tmp_path / "revocations.json", now=NOW
    )
    assert revoked.revoked and not revoked.valid


@pytest.mark.parametrize("text", ["{not json", '{"a": 1, "a": 2}', '{"a": NaN}'])
def test_unparseable_license_file(
    text: str, tmp_path: Path, private_keys: dict[str, PrivateKey]
) -> None:
    (tmp_path / "license.json").write_text(text)
    (tmp_path / "keys.pem").write_text(format_public_keys([entry_for(private_keys["ed25519"])]))
    result = verify_license_file(tmp_path / "license.json", tmp_path / "keys.pem", now=NOW)
    assert not result.valid and result.reasons[0].startswith("not valid JSON")


def test_broken_revocation_file_raises(tmp_path: Path, private_keys: dict[str, PrivateKey]) -> None:
    key = private_keys["ed25519"]
    (tmp_path / "license.json").write_text(json.dumps(sign_doc(license_doc(), key)))
    (tmp_path / "keys.pem").write_text(format_public_keys([entry_for(key)]))
    (tmp_path / "revocations.json").write_text("[")
    with pytest.raises(RevocationListError, match="not valid JSON"):
        verify_license_file(
            tmp_path / "license.json", tmp_path / "keys.pem", tmp_path / "revocations.json", now=NOW
        )


# ---------------------------------------------------------------------------------------------
# OpenSSL command line, both directions
# ---------------------------------------------------------------------------------------------

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl command not installed")


def openssl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    assert OPENSSL is not None
    return subprocess.run([OPENSSL, *map(str, args)], capture_output=True, text=True, check=False)


def openssl_verify_args(alg: str, pub: Path, data: Path, sig: Path) -> list[str | Path]:
    if alg == "ed25519":
        return [
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            pub,
            "-rawin",
            "-in",
            data,
            "-sigfile",
            sig,
        ]
    digest = {
        "ecdsa-p256+sha2-256": "-sha256",
        "ecdsa-p384+sha2-384": "-sha384",
        "ecdsa-p521+sha2-512": "-sha512",
    }.get(alg) or "-" + alg.rsplit("-", 1)[1]
    pss = ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:auto"]
    return ["dgst", digest, *(pss if "pss" in alg else []), "-verify", pub, "-signature", sig, data]


def check_with_openssl(tmp_path: Path, alg: str, pem: str, data: bytes, sig: bytes) -> bool:
    (tmp_path / "pub.pem").write_text(pem)
    (tmp_path / "data.bin").write_bytes(data)
    (tmp_path / "sig.bin").write_bytes(sig)
    done = openssl(
        *openssl_verify_args(alg, tmp_path / "pub.pem", tmp_path / "data.bin", tmp_path / "sig.bin")
    )
    return done.returncode == 0 and "Verified" in done.stdout


@needs_openssl
@pytest.mark.parametrize(
    "alg",
    [
        "ed25519",
        "ecdsa-p256+sha2-256",
        "ecdsa-p384+sha2-384",
        "rsa-pss-sha256",
        "rsa-pkcs1v15-sha256",
    ],
)
def test_openssl_verifies_our_signatures(
    alg: str, tmp_path: Path, private_keys: dict[str, PrivateKey]
) -> None:
    key = private_keys[alg]
    doc = sign_doc(license_doc(alg), key)
    sig = base64.b64decode(doc["signature"].split(":", 2)[2])
    pem = entry_for(key).pem
    assert check_with_openssl(tmp_path, alg, pem, canonical_bytes(doc), sig)
    assert not check_with_openssl(
        tmp_path, alg, pem, canonical_bytes({**doc, "customer": "X"}), sig
    )


OPENSSL_KEYGEN = {
    "ed25519": ["-algorithm", "ed25519"],
    "ecdsa-p384+sha2-384": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
    "ecdsa-p256+sha2-256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    "rsa-pss-sha256": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
}


def openssl_sign_args(alg: str, key: Path, data: Path, sig: Path) -> list[str | Path]:
    if alg == "ed25519":
        return ["pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", data, "-out", sig]
    digest = "-sha384" if alg == "ecdsa-p384+sha2-384" else "-sha256"
    pss = ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:max"]
    return ["dgst", digest, *(pss if "pss" in alg else []), "-sign", key, "-out", sig, data]


@needs_openssl
@pytest.mark.parametrize("alg", list(OPENSSL_KEYGEN))
def test_we_verify_openssl_signatures(alg: str, tmp_path: Path) -> None:
    key, pub = tmp_path / "key.pem", tmp_path / "pub.pem"
    data, sig = tmp_path / "data.bin", tmp_path / "sig.bin"
    assert openssl("genpkey", *OPENSSL_KEYGEN[alg], "-out", key).returncode == 0
    assert openssl("pkey", "-in", key, "-pubout", "-out", pub).returncode == 0
    doc = license_doc(alg)
    data.write_bytes(canonical_bytes(doc))
    signing = openssl(*openssl_sign_args(alg, key, data, sig))
    assert signing.returncode == 0, signing.stderr
    doc["signature"] = "vault:v1:" + base64.b64encode(sig.read_bytes()).decode()
    ring = load_public_keys(pub.read_text())
    assert verify_license(doc, ring, now=NOW).valid
    assert not verify_license({**doc, "modules": ["hr"]}, ring, now=NOW).signature_valid


# ---------------------------------------------------------------------------------------------
# A real OpenBao dev server's Transit engine
# ---------------------------------------------------------------------------------------------


def find_bao() -> str | None:
    beside_python = Path(sys.executable).parent / "bao"
    return shutil.which("bao") or (str(beside_python) if beside_python.exists() else None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def transit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A throwaway OpenBao dev server with Transit enabled; always stopped afterwards."""
    bao = find_bao()
    if bao is None:
        pytest.skip("OpenBao's bao binary is not installed")
    import hvac

    home = tmp_path_factory.mktemp("bao-home")
    port = free_port()
    log = (home / "server.log").open("w")
    server = subprocess.Popen(
        [bao, "server", "-dev", "-dev-root-token-id=root", f"-dev-listen-address=127.0.0.1:{port}"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "HOME": str(home)},
    )
    try:
        client = hvac.Client(url=f"http://127.0.0.1:{port}", token="root")
        deadline = time.monotonic() + 30
        while True:
            try:
                if client.sys.is_initialized() and not client.sys.is_sealed():
                    break
            except Exception:  # noqa: BLE001 - the server is still starting
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log_text = (home / "server.log").read_text()
                pytest.fail(f"OpenBao dev server did not start:\n{log_text}")
            time.sleep(0.1)
        client.sys.enable_secrets_engine("transit")
        yield client
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


TRANSIT_CASES = {
    "ed25519": ("ed25519", {}),
    "ecdsa-p256+sha2-256": (
        "ecdsa-p256",
        {"hash_algorithm": "sha2-256", "marshaling_algorithm": "asn1"},
    ),
    "ecdsa-p384+sha2-384": (
        "ecdsa-p384",
        {"hash_algorithm": "sha2-384", "marshaling_algorithm": "asn1"},
    ),
    "rsa-pss-sha256": ("rsa-2048", {"hash_algorithm": "sha2-256", "signature_algorithm": "pss"}),
    "rsa-pss-sha512": ("rsa-2048", {"hash_algorithm": "sha2-512", "signature_algorithm": "pss"}),
    "rsa-pkcs1v15-sha256": (
        "rsa-2048",
        {"hash_algorithm": "sha2-256", "signature_algorithm": "pkcs1v15"},
    ),
}


def transit_sign(client: Any, name: str, doc: dict[str, Any]) -> dict[str, Any]:
    _, params = TRANSIT_CASES[doc["alg"]]
    response = client.secrets.transit.sign_data(
        name=name,
        hash_input=base64.b64encode(canonical_bytes(doc)).decode(),
        key_version=doc["key_version"],
        **params,
    )
    return {**doc, "signature": response["data"]["signature"]}


def transit_verify(client: Any, name: str, doc: dict[str, Any]) -> bool:
    _, params = TRANSIT_CASES[doc["alg"]]
    response = client.secrets.transit.verify_signed_data(
        name=name,
        hash_input=base64.b64encode(canonical_bytes(doc)).decode(),
        signature=doc["signature"],
        **params,
    )
    return bool(response["data"]["valid"])


def transit_ring(client: Any, name: str) -> dict[tuple[str, int], PublicKeyEntry]:
    data = client.secrets.transit.read_key(name=name)["data"]
    entries = [
        PublicKeyEntry(
            name,
            int(version),
            data["type"],
            public_key_pem_from_transit(data["type"], info["public_key"]),
            info["creation_time"],
        )
        for version, info in data["keys"].items()
    ]
    return ring_for(*entries)


@pytest.mark.parametrize("alg", list(TRANSIT_CASES))
def test_transit_signatures_verify_offline(alg: str, transit: Any) -> None:
    key_type, _ = TRANSIT_CASES[alg]
    name = f"license-{alg.replace('+', '-')}"
    transit.secrets.transit.create_key(name=name, key_type=key_type)
    v1 = transit_sign(transit, name, license_doc(alg, key_name=name))
    ring = transit_ring(transit, name)
    assert verify_license(v1, ring, now=NOW).valid and transit_verify(transit, name, v1)
    tampered = {**v1, "metadata": {"max_users": 1000}}
    assert not verify_license(tampered, ring, now=NOW).signature_valid
    assert not transit_verify(transit, name, tampered)

    transit.secrets.transit.rotate_key(name=name)
    v2 = transit_sign(transit, name, license_doc(alg, key_name=name, key_version=2))
    assert v2["signature"].startswith("vault:v2:")
    assert verify_license(v2, ring, now=NOW).reasons == [f"no public key for {name} version 2"]
    rotated = transit_ring(transit, name)
    assert set(rotated) == {(name, 1), (name, 2)}
    for doc in (v1, v2):
        assert verify_license(doc, rotated, now=NOW).valid and transit_verify(transit, name, doc)
    relabelled = {**v2, "key_version": 1, "signature": v2["signature"].replace("v2", "v1", 1)}
    assert not verify_license(relabelled, rotated, now=NOW).signature_valid
    assert not transit_verify(transit, name, relabelled)


@needs_openssl
@pytest.mark.parametrize("alg", ["ed25519", "ecdsa-p256+sha2-256", "ecdsa-p384+sha2-384"])
def test_openssl_verifies_transit_signatures(alg: str, transit: Any, tmp_path: Path) -> None:
    key_type, _ = TRANSIT_CASES[alg]
    name = f"openssl-{alg.replace('+', '-')}"
    transit.secrets.transit.create_key(name=name, key_type=key_type)
    doc = transit_sign(transit, name, license_doc(alg, key_name=name))
    pem = transit_ring(transit, name)[(name, 1)].pem
    sig = base64.b64decode(doc["signature"].split(":", 2)[2])
    assert check_with_openssl(tmp_path, alg, pem, canonical_bytes(doc), sig)
    assert not check_with_openssl(tmp_path, alg, pem, canonical_bytes({**doc, "version": "2"}), sig)

"""The license model and its canonical form, without a server: pure input rules."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from license_console.errors import InvalidInput
from license_console.licenses import (
    LicenseRequest,
    canonical_bytes,
    draft_license,
    format_ts,
    load_document,
    parse_expiry,
    parse_meta_pairs,
    signature_version,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_bare_date_means_end_of_day_utc() -> None:
    assert format_ts(parse_expiry("2030-12-31")) == "2030-12-31T23:59:59.999Z"


@pytest.mark.parametrize("text", ["2030-12-31", "20301231"])
def test_every_bare_date_form_means_end_of_day(text: str) -> None:
    assert format_ts(parse_expiry(text)) == "2030-12-31T23:59:59.999Z"


def test_datetime_with_offset_is_converted_to_utc() -> None:
    assert format_ts(parse_expiry("2030-06-01T12:00:00+02:00")) == "2030-06-01T10:00:00.000Z"


@pytest.mark.parametrize("text", ["2030-13-01", "31/12/2030", "tomorrow", "", "2030-02-30"])
def test_bad_dates_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_expiry(text)


def test_expiry_in_the_past_is_refused() -> None:
    with pytest.raises(InvalidInput, match="in the past"):
        LicenseRequest.build("Acme", ["hr"], "2025-12-31", now=NOW)


@pytest.mark.parametrize("customer", ["", "   ", None, "bad\x1b[31mname", "x" * 201])
def test_bad_customers_are_refused(customer: object) -> None:
    with pytest.raises(InvalidInput):
        LicenseRequest.build(customer, ["hr"], "2030-01-01", now=NOW)


def test_modules_are_a_sorted_set() -> None:
    request = LicenseRequest.build("Acme", ["payroll", "hr", "payroll"], "2030-01-01", now=NOW)
    assert request.modules == ["hr", "payroll"]


@pytest.mark.parametrize("modules", [[], ["has space"], [""], [3]])
def test_bad_modules_are_refused(modules: list[object]) -> None:
    with pytest.raises(InvalidInput):
        LicenseRequest.build("Acme", modules, "2030-01-01", now=NOW)


@pytest.mark.parametrize(
    "metadata",
    [{"seats": 2**53}, {"seats": -(2**53)}, {"ratio": math.nan}, {"x": [math.inf]}],
)
def test_metadata_the_canonical_form_cannot_hold_is_refused(metadata: dict) -> None:
    with pytest.raises(InvalidInput):
        LicenseRequest.build("Acme", ["hr"], "2030-01-01", metadata, now=NOW)


def test_meta_pairs_keep_json_types() -> None:
    parsed = parse_meta_pairs(["seats=100", "env=production", "trial=true", 'tag="007"'])
    assert parsed == {"seats": 100, "env": "production", "trial": True, "tag": "007"}
    with pytest.raises(InvalidInput):
        parse_meta_pairs(["novalue"])


def test_canonical_bytes_cover_every_field_but_the_signature() -> None:
    request = LicenseRequest.build("Acme", ["hr"], "2030-01-01", {"b": 1, "a": 2}, now=NOW)
    license_ = draft_license(
        request, issuer="Test", key_name="k", key_version=3, alg="ed25519", now=NOW
    )
    document = license_.document()
    signed = canonical_bytes(document)
    assert b'"key_version":3' in signed and b'"alg":"ed25519"' in signed
    assert b"signature" not in signed
    assert signed.startswith(b'{"alg":"ed25519","customer":"Acme"')
    assert b'"metadata":{"a":2,"b":1}' in signed
    document["signature"] = "vault:v3:AAAA"
    assert canonical_bytes(document) == signed


def test_signature_version_is_read_from_the_prefix() -> None:
    assert signature_version("vault:v12:QUJD") == 12
    assert signature_version("v1:QUJD") is None
    assert signature_version("vault:vX:QUJD") is None


def test_load_document_accepts_the_issue_envelope_and_refuses_non_objects() -> None:
    assert load_document('{"success": true, "license": {"a": 1}}') == {"a": 1}
    with pytest.raises(InvalidInput, match="not JSON"):
        load_document("not json")
    with pytest.raises(InvalidInput, match="not a JSON object"):
        load_document("[1, 2]")

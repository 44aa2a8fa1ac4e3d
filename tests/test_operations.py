"""The license lifecycle against a real OpenBao server: issue, validate, tamper, rotate, renew."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from license_console import audit
from license_console.errors import InvalidInput, NotFound, OperationRefused
from license_console.licenses import LicenseRequest, format_ts, utcnow
from license_console.registry import ListQuery
from license_console.services import Services


def _request(customer: str = "Acme Corp", **kwargs: object) -> LicenseRequest:
    return LicenseRequest.build(
        customer,
        kwargs.get("modules", ["payroll", "hr"]),  # type: ignore[arg-type]
        kwargs.get("expires", "2031-12-31"),  # type: ignore[arg-type]
        kwargs.get("metadata", {"max_users": 100, "env": {"tier": "prod"}}),  # type: ignore[arg-type]
    )


def test_issue_then_validate(services: Services) -> None:
    license_ = services.licenses.issue(_request())
    assert license_.signature and license_.signature.startswith("vault:v1:")
    assert license_.modules == ["hr", "payroll"]
    assert license_.expires_at == "2031-12-31T23:59:59.999Z"
    assert len(license_.license_id) == 26

    result = services.licenses.validate(license_.document())
    assert result.valid and result.signature_valid
    assert not result.expired and not result.revoked
    assert result.status == "active" and result.reasons == []
    assert result.days_until_expiry is not None and result.days_until_expiry > 365

    actions = [e.action for e in audit.list_events(license_id=license_.license_id)[0]]
    assert actions == ["validate", "issue"]


def test_ids_do_not_collide(services: Services) -> None:
    ids = {services.licenses.issue(_request(f"C{i}")).license_id for i in range(20)}
    assert len(ids) == 20


TAMPERS = {
    "customer": lambda d: d.update(customer="Evil Corp"),
    "modules": lambda d: d["modules"].append("zz-extra"),
    "issued_at": lambda d: d.update(issued_at="2020-01-01T00:00:00.000Z"),
    "expires_at": lambda d: d.update(expires_at="2099-12-31T23:59:59.999Z"),
    "metadata value": lambda d: d["metadata"].update(max_users=100000),
    "nested metadata": lambda d: d["metadata"]["env"].update(tier="dev"),
    "metadata removed": lambda d: d.update(metadata={}),
    "issuer": lambda d: d.update(issuer="Someone else"),
    "version": lambda d: d.update(version="2.0"),
    "renewed_from": lambda d: d.update(renewed_from="01ABCDEFGHJKMNPQRSTVWXYZ00"),
    "alg": lambda d: d.update(alg="ecdsa-p256+sha2-256"),
    "license_id": lambda d: d.update(license_id="01ABCDEFGHJKMNPQRSTVWXYZ00"),
}


@pytest.mark.parametrize("field", TAMPERS)
def test_tampering_any_signed_field_invalidates(services: Services, field: str) -> None:
    document = services.licenses.issue(_request()).document()
    tampered = copy.deepcopy(document)
    TAMPERS[field](tampered)
    result = services.licenses.validate(tampered)
    assert not result.valid and not result.signature_valid
    assert result.reasons


def test_signature_from_another_key_name_or_version_is_refused(services: Services) -> None:
    document = services.licenses.issue(_request()).document()
    for change in ({"key_name": "other-key"}, {"key_version": 2}):
        result = services.licenses.validate({**document, **change})
        assert not result.signature_valid
    malformed = services.licenses.validate({**document, "signature": "not-a-signature"})
    assert not malformed.valid and "malformed" in malformed.reasons[0]


def test_rotation_keeps_old_licenses_and_retiring_versions_fails_them(services: Services) -> None:
    old = services.licenses.issue(_request())
    key = services.vault.rotate_key()
    assert key.latest_version == 2
    new = services.licenses.issue(_request())
    assert new.signature and new.signature.startswith("vault:v2:") and new.key_version == 2
    assert services.licenses.validate(old.document()).valid
    assert services.licenses.validate(new.document()).valid

    services.vault.set_min_decryption_version(2)
    result = services.licenses.validate(old.document())
    assert not result.valid
    assert any("retired" in r for r in result.reasons)
    assert services.licenses.validate(new.document()).valid


def test_renew_chain(services: Services) -> None:
    first = services.licenses.issue(_request(modules=["hr"], metadata={"max_users": 10}))
    second = services.licenses.renew(
        first.license_id, "2033-06-30", ["reporting"], {"max_users": 200}
    )
    assert second.renewed_from == first.license_id
    assert second.license_id != first.license_id
    assert second.modules == ["hr", "reporting"]
    assert second.metadata == {"max_users": 200}
    assert second.expires_at == "2033-06-30T23:59:59.999Z"

    old = services.licenses.get(first.license_id)
    assert old.status == "superseded" and old.superseded_by == second.license_id
    verdict = services.licenses.validate(first.document())
    assert verdict.valid and verdict.superseded
    assert any("superseded" in w for w in verdict.warnings)

    with pytest.raises(OperationRefused, match="already renewed"):
        services.licenses.renew(first.license_id, "2034-01-01")
    third = services.licenses.renew(second.license_id, "2035-01-01")
    assert services.licenses.get(third.license_id).renewed_from == second.license_id


def test_renew_picks_up_a_rotated_key(services: Services) -> None:
    first = services.licenses.issue(_request())
    services.vault.rotate_key()
    renewed = services.licenses.renew(first.license_id, "2033-01-01")
    assert renewed.key_version == 2


def test_revoke_now(services: Services) -> None:
    license_ = services.licenses.issue(_request())
    result = services.licenses.revoke(license_.license_id, "Security breach")
    assert result.effective_now
    verdict = services.licenses.validate(license_.document())
    assert not verdict.valid and verdict.revoked and verdict.signature_valid
    assert any("Security breach" in r for r in verdict.reasons)
    assert services.licenses.get(license_.license_id).status == "revoked"
    with pytest.raises(OperationRefused, match="already revoked"):
        services.licenses.revoke(license_.license_id, "again")
    with pytest.raises(OperationRefused, match="revoked"):
        services.licenses.renew(license_.license_id, "2035-01-01")


def test_revocation_in_the_future_takes_effect_later(services: Services) -> None:
    license_ = services.licenses.issue(_request())
    later = utcnow() + timedelta(days=10)
    result = services.licenses.revoke(license_.license_id, "contract ends", later)
    assert not result.effective_now
    verdict = services.licenses.validate(license_.document())
    assert verdict.valid and not verdict.revoked
    assert any("scheduled for revocation" in w for w in verdict.warnings)
    assert services.licenses.get(license_.license_id).status == "active"

    services.licenses.clock = lambda: later + timedelta(seconds=1)
    verdict = services.licenses.validate(license_.document())
    assert not verdict.valid and verdict.revoked
    assert services.licenses.get(license_.license_id).status == "revoked"


def test_expired_license_is_invalid_but_its_signature_holds(services: Services) -> None:
    license_ = services.licenses.issue(_request(expires="2027-01-01"))
    services.licenses.clock = lambda: utcnow() + timedelta(days=3650)
    verdict = services.licenses.validate(license_.document())
    assert verdict.signature_valid and verdict.expired and not verdict.valid
    assert verdict.days_until_expiry is not None and verdict.days_until_expiry < 0
    assert services.licenses.get(license_.license_id).status == "expired"


def test_future_issued_at_beyond_clock_skew_is_invalid(services: Services) -> None:
    license_ = services.licenses.issue(_request())
    services.licenses.clock = lambda: utcnow() - timedelta(hours=1)
    verdict = services.licenses.validate(license_.document())
    assert verdict.signature_valid and not verdict.valid
    assert any("future" in r for r in verdict.reasons)


def test_unknown_license_is_signature_valid_with_a_warning(services: Services) -> None:
    document = services.licenses.issue(_request()).document()
    services.registry.db.execute_sql("DELETE FROM license_modules")
    services.registry.db.execute_sql("DELETE FROM licenses")
    verdict = services.licenses.validate(document)
    assert verdict.valid and verdict.status == "unknown"
    assert any("not in this console's registry" in w for w in verdict.warnings)


def test_list_filters_and_paging(services: Services) -> None:
    service = services.licenses
    acme = [service.issue(_request("Acme Corp", modules=["hr"])) for _ in range(3)]
    service.issue(_request("ACME Labs", modules=["crm"]))
    globex = service.issue(_request("Globex", modules=["hr", "crm"], expires="2027-01-15"))
    service.revoke(acme[0].license_id, "test")
    service.renew(acme[1].license_id, "2032-01-01")

    def total(**kw: object) -> int:
        return service.list(ListQuery(**kw)).total  # type: ignore[arg-type]

    assert total() == 6
    assert total(customer="acme") == 5  # case-insensitive substring, the renewal included
    assert total(customer="ACME CORP") == 4
    assert total(customer_exact="Acme Corp") == 4
    assert total(customer_exact="acme corp") == 0  # exact means exact
    assert total(module="crm") == 2
    assert total(status="revoked") == 1
    assert total(status="superseded") == 1
    assert total(status="active") == 4
    assert total(status="expired") == 0
    assert total(customer="%") == 0  # wildcards are literal
    within = (utcnow().date().replace(year=2027, month=1, day=20) - utcnow().date()).days
    found = service.list(ListQuery(expiring_within=within))
    assert [r.license_id for r in found.licenses] == [globex.license_id]

    first = service.list(ListQuery(limit=4, offset=0, sort="issued_at", descending=False))
    rest = service.list(ListQuery(limit=4, offset=4, sort="issued_at", descending=False))
    assert first.total == rest.total == 6
    assert len(first.licenses) == 4 and len(rest.licenses) == 2
    ids = [r.license_id for r in first.licenses + rest.licenses]
    assert len(set(ids)) == 6 and ids[0] == acme[0].license_id


def test_get_by_short_prefix(services: Services) -> None:
    license_ = services.licenses.issue(_request())
    assert services.licenses.get(license_.license_id[:20]).license_id == license_.license_id
    with pytest.raises(NotFound):
        services.licenses.get("ZZZZZZZZZZ")


def test_bad_revocation_input(services: Services) -> None:
    license_ = services.licenses.issue(_request())
    with pytest.raises(InvalidInput):
        services.licenses.revoke(license_.license_id, "  ")
    with pytest.raises(NotFound):
        services.licenses.revoke("01NOPE0000000000000000000", "x")


def test_validate_refuses_a_document_that_is_not_a_license(services: Services) -> None:
    with pytest.raises(InvalidInput, match="malformed license"):
        services.licenses.validate({"customer": "x"})


def test_every_operation_is_audited_with_an_actor_not_a_token(services: Services) -> None:
    license_ = services.licenses.issue(_request())
    services.licenses.revoke(license_.license_id, "done", utcnow() + timedelta(days=1))
    events, total = audit.list_events()
    assert total == 2
    assert {e.action for e in events} == {"issue", "revoke"}
    token = services.vault.client.token
    for event in events:
        assert " (accessor " in event.actor
        assert token not in event.actor and token not in str(event.details)
    assert events[0].details["effective_at"] == format_ts(
        services.licenses.get(license_.license_id).revocation.effective_at  # type: ignore[union-attr]
    )


def test_expiring_within_counts_whole_days_as_shown(services: Services) -> None:
    now = utcnow()
    inside = services.licenses.issue(
        LicenseRequest.build("Soon", ["hr"], now + timedelta(days=7, hours=12))
    )
    services.licenses.issue(LicenseRequest.build("Later", ["hr"], now + timedelta(days=8, hours=1)))
    assert services.licenses.get(inside.license_id).status == "active"
    found = services.licenses.list(ListQuery(expiring_within=7))
    assert [r.customer for r in found.licenses] == ["Soon"]  # "7 days left" is within 7 days


def test_audit_filter_takes_a_short_id(services: Services) -> None:
    license_ = services.licenses.issue(_request())
    events, total = audit.list_events(license_id=license_.license_id[:10].lower())
    assert total == 1 and events[0].license_id == license_.license_id


def test_a_scheduled_revocation_can_be_brought_forward_or_cancelled(services: Services) -> None:
    license_ = services.licenses.issue(_request())
    later = utcnow() + timedelta(days=30)
    services.licenses.revoke(license_.license_id, "contract ends", later)

    services.licenses.revoke(license_.license_id, "terminated early")  # now, replacing it
    record = services.licenses.get(license_.license_id)
    assert record.status == "revoked" and record.revocation is not None
    assert record.revocation.reason == "terminated early"
    with pytest.raises(OperationRefused, match="already revoked"):
        services.licenses.revoke(license_.license_id, "again")
    with pytest.raises(OperationRefused, match="final"):
        services.licenses.cancel_revocation(license_.license_id)

    other = services.licenses.issue(_request("Other"))
    services.licenses.revoke(other.license_id, "maybe", later)
    services.licenses.cancel_revocation(other.license_id)
    assert services.licenses.get(other.license_id).revocation is None
    assert services.licenses.validate(other.document()).warnings == []
    with pytest.raises(OperationRefused, match="no revocation"):
        services.licenses.cancel_revocation(other.license_id)
    actions = [e.action for e in audit.list_events(license_id=license_.license_id)[0]]
    assert actions[:2] == ["revoke", "revoke"]
    replaced = audit.list_events(license_id=license_.license_id)[0][0].details
    assert replaced["replaces"] == format_ts(later)
    assert audit.list_events(action="revoke-cancel")[1] == 1

"""Revocation through the issuer's W3C Bitstring Status List: index allocation (unique, never reused, safe under
concurrency), the revoked credential's bit only, the GZIP + multibase base64url encoding, and the public
BitstringStatusListCredential, signed with a Data Integrity proof."""

import json

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse

from certification import services
from certification.models import StatusEntry, StatusList
from certification.vc import integrity, keys, ob3, status

from ..concurrency import errors, race


def issue(c, i):
    return services.award_decide(actor=c.board, enrolment=c.enrolments[i]).credentials.get()


def revoke(c, credential):
    return services.credential_revoke(actor=c.board, credential=credential, reason="Awarded in error")


def bits_set(status_list):
    status_list.refresh_from_db()
    raw = bytes(status_list.bitstring)
    return {i for i in range(status_list.size) if raw[i // 8] and status.bit(raw, i)}


def test_entries_are_allocated_once_in_order(awardable):
    c = awardable
    first, second = issue(c, 0), issue(c, 1)
    entry = status.status_entry_for(first)
    issuer = first.award.issuing_institution_id
    assert entry["statusListCredential"].endswith(f"/issuers/{issuer}/status/revocation")
    assert entry == {"id": entry["statusListCredential"] + "#0", "type": "BitstringStatusListEntry",
                     "statusPurpose": "revocation", "statusListIndex": "0",
                     "statusListCredential": entry["statusListCredential"]}
    assert status.status_entry_for(first) == entry  # idempotent
    assert status.status_entry_for(second)["statusListIndex"] == "1"
    status_list = StatusList.objects.get(institution_id=issuer)
    assert (status_list.size, len(bytes(status_list.bitstring)), status_list.next_index) == (131072, 16384, 2)


def test_ob3_credential_carries_its_status_entry(awardable):
    credential = issue(awardable, 0)
    document = ob3.build_credential(credential)
    assert document["credentialStatus"] == status.status_entry_for(credential)
    assert document["credentialStatus"]["type"] == "BitstringStatusListEntry"


def test_indexes_are_unique_and_never_reused(awardable):
    c = awardable
    a, b, third = issue(c, 0), issue(c, 1), issue(c, 2)
    status.entry_for(a)
    entry_b = status.entry_for(b)
    entry_b.delete()  # even if the highest entry disappeared, its index is not given out again
    assert status.entry_for(third).index == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        StatusEntry.objects.create(status_list=entry_b.status_list, credential=b, index=0)


def test_a_full_list_refuses_to_allocate(awardable):
    c = awardable
    status.entry_for(issue(c, 0))
    StatusList.objects.update(next_index=131072)
    with pytest.raises(status.StatusListFull):
        status.entry_for(issue(c, 1))


def test_revoking_flips_only_that_credentials_bit(awardable):
    c = awardable
    kept, revoked, later = issue(c, 0), issue(c, 1), issue(c, 2)
    for credential in (kept, revoked):
        status.entry_for(credential)
    revoke(c, revoked)
    status.entry_for(later)
    status_list = StatusList.objects.get()
    assert bits_set(status_list) == {1}
    assert status.is_revoked(revoked) and not status.is_revoked(kept) and not status.is_revoked(later)


def test_revoking_a_credential_without_an_entry_allocates_one(awardable):
    c = awardable
    credential = issue(c, 0)
    revoke(c, credential)
    entry = StatusEntry.objects.get(credential=credential)
    assert bits_set(entry.status_list) == {entry.index}


def test_a_failed_revocation_leaves_the_bit_alone(awardable):
    c = awardable
    credential = issue(c, 0)
    revoke(c, credential)
    with pytest.raises(services.TransitionError):
        revoke(c, credential)  # already revoked: refused, nothing else changes
    assert bits_set(StatusList.objects.get()) == {0}


def test_encoded_list_decodes_back_with_the_right_bit(awardable):
    c = awardable
    credentials = [issue(c, i) for i in range(3)]
    for credential in credentials:
        status.entry_for(credential)
    revoke(c, credentials[2])
    encoded = status.encoded_list(StatusList.objects.get())
    assert encoded.startswith("u") and "=" not in encoded and "+" not in encoded and "/" not in encoded
    raw = status.decode_list(encoded)
    assert len(raw) * 8 >= 131072
    assert [status.bit(raw, i) for i in range(4)] == [False, False, True, False]
    assert raw[0] == 0b0010_0000  # index 0 is the most significant bit of the first byte
    assert sum(bin(b).count("1") for b in raw) == 1


def test_public_status_list_credential_is_signed_and_verifies(awardable, client):
    c = awardable
    credential = issue(c, 1)
    revoke(c, credential)
    issuer = credential.award.issuing_institution
    key = keys.ensure_key(issuer)
    entry = status.status_entry_for(credential)
    url = reverse("issuer-status-revocation", args=[issuer.pk])
    assert entry["statusListCredential"].endswith(url)
    response = Client().get(url)  # anonymous
    assert response.status_code == 200 and response["Content-Type"] == "application/vc"
    document = json.loads(response.content)
    assert document["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert document["id"] == entry["statusListCredential"]
    subject = document["credentialSubject"]
    assert (subject["type"], subject["statusPurpose"]) == ("BitstringStatusList", "revocation")
    assert status.bit(status.decode_list(subject["encodedList"]), int(entry["statusListIndex"]))
    assert document["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert document["proof"]["verificationMethod"] == keys.multikey_method_id(key)
    public = keys.private_key(key).private_key.public_key()
    results = integrity.verify_proof(document, lambda vm: public if vm == keys.multikey_method_id(key) else None)
    assert integrity.is_valid(results), [r.message for r in results if not r.ok]


def test_status_list_is_unsigned_without_a_key_and_404_without_a_list(awardable):
    c = awardable
    credential = issue(c, 0)
    status.entry_for(credential)
    issuer_id = credential.award.issuing_institution_id
    document = json.loads(Client().get(reverse("issuer-status-revocation", args=[issuer_id])).content)
    assert "proof" not in document and document["credentialSubject"]["encodedList"].startswith("u")
    other = c.enrolments[0].edition.programme.consortium_id  # not an institution
    assert Client().get(reverse("issuer-status-revocation", args=[other])).status_code == 404


# --- PostgreSQL: two processes' transactions at the same time ---------------------------------------------------------


def _concurrently(*jobs):
    assert not errors(race(*jobs, timeout=30))


@pytest.mark.django_db(transaction=True)
def test_concurrent_revocations_both_land_postgresql(awardable):
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL (row locks); run with DATABASE_URL=postgres://...")
    c = awardable
    first, second = issue(c, 0), issue(c, 1)  # no status entries yet: both threads allocate, then flip
    _concurrently(lambda: revoke(c, first), lambda: revoke(c, second))
    entries = {e.credential_id: e.index for e in StatusEntry.objects.all()}
    assert sorted(entries.values()) == [0, 1]
    assert bits_set(StatusList.objects.get()) == {0, 1}


@pytest.mark.django_db(transaction=True)
def test_concurrent_allocations_get_distinct_indexes_postgresql(awardable):
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL (row locks); run with DATABASE_URL=postgres://...")
    c = awardable
    credentials = [issue(c, i) for i in range(3)]
    _concurrently(*[(lambda cr=cr: status.entry_for(cr)) for cr in credentials])
    assert sorted(StatusEntry.objects.values_list("index", flat=True)) == [0, 1, 2]
    assert StatusList.objects.get().next_index == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_bit_flips_on_an_existing_list_both_land_postgresql(awardable):
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL (row locks); run with DATABASE_URL=postgres://...")
    c = awardable
    first, second = issue(c, 0), issue(c, 1)
    status.entry_for(first), status.entry_for(second)  # the list and both indexes exist: only the bits race
    _concurrently(lambda: revoke(c, first), lambda: revoke(c, second))
    assert bits_set(StatusList.objects.get()) == {0, 1}

"""Revocation with a W3C Bitstring Status List (one list per issuing institution and purpose).

Every credential gets, the first time it is asked for, an index in its issuer's list
(:func:`status_entry_for`, which ``ob3.build_credential`` puts into ``credentialStatus``); revoking it sets that
bit (:func:`set_revoked`). The list is published as a ``BitstringStatusListCredential`` at the stable URL
``{PUBLIC_BASE_URL}/issuers/<institution id>/status/revocation``, its ``encodedList`` being the GZIP-compressed
bitstring in multibase base64url (``u`` prefix, no padding), signed with a Data Integrity proof
(``eddsa-rdfc-2022``) by the institution's active issuer key.

Concurrency: allocation and bit flips lock the list's row (``select_for_update``), re-read it, then write, so
two processes revoking at the same time both land. ``StatusList.next_index`` only grows and
``UniqueConstraint(status_list, index)`` backs it: an index is never reused.
"""

from __future__ import annotations

import base64
import gzip
from datetime import UTC
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import Http404, JsonResponse

from consortium.api import policy

from ..models import STATUS_LIST_MIN_SIZE, Credential, StatusEntry, StatusList, StatusPurpose
from . import integrity, keys

REVOCATION = StatusPurpose.REVOCATION.value
VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"


class StatusListFull(Exception):
    """Every index of the issuer's list has been allocated (a second list would be needed)."""


# --- URLs ---------------------------------------------------------------------------------------------------------


def list_url(institution_id, purpose: str = REVOCATION) -> str:
    return f"{settings.PUBLIC_BASE_URL}/issuers/{institution_id}/status/{purpose}"


def _issuer_institution_id(credential: Credential):
    return credential.award.issuing_institution_id


# --- Allocation ---------------------------------------------------------------------------------------------------


def _locked_list(institution_id, purpose: str = REVOCATION) -> StatusList:
    """The institution's list, created if missing (race-safe: the unique constraint decides), row-locked and
    freshly read. Call inside a transaction."""
    StatusList.objects.get_or_create(  # get_or_create retries the get when a concurrent create wins
        institution_id=institution_id, purpose=purpose,
        defaults={"size": STATUS_LIST_MIN_SIZE, "bitstring": bytes(STATUS_LIST_MIN_SIZE // 8)},
    )
    return StatusList.objects.select_for_update().get(institution_id=institution_id, purpose=purpose)


def entry_for(credential: Credential) -> StatusEntry:
    """The credential's StatusEntry, allocating the next never-used index of its issuer's list the first time."""
    entry = StatusEntry.objects.filter(credential=credential).select_related("status_list").first()
    if entry is not None:
        return entry
    with transaction.atomic():
        status_list = _locked_list(_issuer_institution_id(credential))
        entry = StatusEntry.objects.filter(credential=credential).select_related("status_list").first()
        if entry is not None:  # allocated by a concurrent caller while we waited for the lock
            return entry
        if status_list.next_index >= status_list.size:
            raise StatusListFull(f"The status list of institution {status_list.institution_id} is full.")
        entry = StatusEntry.objects.create(status_list=status_list, credential=credential,
                                           index=status_list.next_index)
        status_list.next_index += 1
        status_list.save(update_fields=["next_index", "updated_at"])
        return entry


def status_entry_for(credential: Credential) -> dict[str, Any]:
    """The ``BitstringStatusListEntry`` (purpose revocation) for ``credentialStatus``."""
    entry = entry_for(credential)
    url = list_url(entry.status_list.institution_id, entry.status_list.purpose)
    return {
        "id": f"{url}#{entry.index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": entry.status_list.purpose,
        "statusListIndex": str(entry.index),
        "statusListCredential": url,
    }


# --- Bits ---------------------------------------------------------------------------------------------------------


def _mask(index: int) -> tuple[int, int]:
    """Byte offset and bit mask: index 0 is the left-most (most significant) bit of the first byte."""
    return index // 8, 0x80 >> (index % 8)


def bit(bitstring: bytes, index: int) -> bool:
    byte, mask = _mask(index)
    return bool(bitstring[byte] & mask)


def set_revoked(credential: Credential) -> StatusEntry:
    """Set the credential's revocation bit (allocating its index if it never had one), under the list's row lock.
    Runs in the caller's transaction when there is one (``credential_revoke``)."""
    with transaction.atomic():
        entry = entry_for(credential)
        status_list = StatusList.objects.select_for_update().get(pk=entry.status_list_id)
        bits = bytearray(status_list.bitstring)
        byte, mask = _mask(entry.index)
        if not bits[byte] & mask:
            bits[byte] |= mask
            status_list.bitstring = bytes(bits)
            status_list.save(update_fields=["bitstring", "updated_at"])
        return entry


def is_revoked(credential: Credential) -> bool:
    entry = StatusEntry.objects.filter(credential=credential).select_related("status_list").first()
    return entry is not None and bit(bytes(entry.status_list.bitstring), entry.index)


# --- Encoding -----------------------------------------------------------------------------------------------------


def encode_bitstring(bitstring: bytes) -> str:
    """GZIP, then multibase base64url without padding (``u`` prefix). ``mtime=0``: same bits, same string."""
    compressed = gzip.compress(bytes(bitstring), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode("ascii").rstrip("=")


def decode_list(encoded: str) -> bytes:
    """Inverse of :func:`encode_bitstring` (what a verifier does with ``encodedList``)."""
    if not encoded.startswith("u"):
        raise ValueError("encodedList must be multibase base64url (prefix 'u').")
    body = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def encoded_list(status_list: StatusList) -> str:
    return encode_bitstring(bytes(status_list.bitstring))


# --- The status list credential -------------------------------------------------------------------------------------


def status_list_credential(status_list: StatusList, *, sign: bool = True) -> dict[str, Any]:
    """The ``BitstringStatusListCredential``, with a Data Integrity proof by the institution's active key when it
    has one (otherwise unsigned)."""
    url = list_url(status_list.institution_id, status_list.purpose)
    document: dict[str, Any] = {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": keys.did_for(status_list.institution_id),
        "validFrom": integrity.xsd_datetime(status_list.updated_at.astimezone(UTC)),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": status_list.purpose,
            "encodedList": encoded_list(status_list),
        },
    }
    if not sign:
        return document
    key = keys.active_key(status_list.institution)
    if key is None:
        return document
    secret = keys.private_key(key).private_key  # joserfc OKPKey → cryptography Ed25519PrivateKey
    return integrity.add_proof(document, secret, keys.multikey_method_id(key))


@policy.policy(policy.PUBLIC)
def status_list_view(request, institution_id, purpose: str = REVOCATION):
    status_list = (StatusList.objects.select_related("institution")
                   .filter(institution_id=institution_id, purpose=purpose).first())
    if status_list is None:
        raise Http404("No status list.")
    response = JsonResponse(status_list_credential(status_list), content_type="application/vc",
                            json_dumps_params={"indent": 2})
    response["Access-Control-Allow-Origin"] = "*"  # verifiers run in browsers too; the list is public
    response["Cache-Control"] = "public, max-age=60"  # a revocation shows within a minute
    return response

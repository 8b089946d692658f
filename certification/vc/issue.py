"""Signed Open Badges 3.0 credentials: the OB 3.0 JSON from ``ob3.build_credential``, secured with a VC-JOSE-COSE
JWT or an embedded Data Integrity proof (``eddsa-rdfc-2022``) by the issuing institution's active key (generated
the first time an institution signs).

``signed_copy`` signs a credential once per format and keeps the result on the credential: the sealed PDFs embed
that JSON, and the learner's and the public downloads serve the same bytes (no re-signing per request)."""

from __future__ import annotations

from typing import Any, Literal

from django.db import transaction

from ..models import Credential
from . import integrity, jose, keys, ob3

JWT = "jwt"
DATA_INTEGRITY = "data-integrity"
Proof = Literal["jwt", "data-integrity"]
_FIELDS = {JWT: "signed_jwt", DATA_INTEGRITY: "signed_json"}


def issue_signed(credential: Credential, proof: Proof = JWT) -> str | dict[str, Any]:
    """The credential as a newly signed OB 3.0 credential: a compact JWS (``proof="jwt"``) or the JSON credential
    with an embedded DataIntegrityProof (``proof="data-integrity"``)."""
    if proof not in _FIELDS:
        raise ValueError(f"Unknown proof format {proof!r}: use {JWT!r} or {DATA_INTEGRITY!r}.")
    institution = credential.award.issuing_institution
    key = keys.ensure_key(institution)
    document = ob3.build_credential(credential)
    if proof == JWT:
        return jose.sign_jwt(document, institution)
    secret = keys.private_key(key).private_key  # joserfc OKPKey → cryptography Ed25519PrivateKey
    return integrity.add_proof(document, secret, keys.multikey_method_id(key))


def signed_copy(credential: Credential, proof: Proof = DATA_INTEGRITY) -> str | dict[str, Any]:
    """The credential's kept signed copy in ``proof`` format, signed on first use. Two workers signing at once keep
    the first copy saved (row lock), so every PDF and download of a credential carries the same signature."""
    if proof not in _FIELDS:
        raise ValueError(f"Unknown proof format {proof!r}: use {JWT!r} or {DATA_INTEGRITY!r}.")
    field = _FIELDS[proof]
    if getattr(credential, field):
        return getattr(credential, field)
    signed = issue_signed(credential, proof)  # outside the lock: canonicalisation takes a few tens of ms
    with transaction.atomic():
        kept = getattr(Credential.objects.select_for_update().only(field).get(pk=credential.pk), field)
        if not kept:
            Credential.objects.filter(pk=credential.pk).update(**{field: signed})
            kept = signed
    setattr(credential, field, kept)
    return kept

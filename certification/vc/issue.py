"""Signed Open Badges 3.0 credentials: the OB 3.0 JSON from ``ob3.build_credential``, secured with a VC-JOSE-COSE
JWT or an embedded Data Integrity proof (``eddsa-rdfc-2022``) by the issuing institution's active key (generated
the first time an institution signs)."""

from __future__ import annotations

from typing import Any, Literal

from ..models import Credential
from . import integrity, jose, keys, ob3

JWT = "jwt"
DATA_INTEGRITY = "data-integrity"
Proof = Literal["jwt", "data-integrity"]


def issue_signed(credential: Credential, proof: Proof = JWT) -> str | dict[str, Any]:
    """The credential as a signed OB 3.0 credential: a compact JWS (``proof="jwt"``) or the JSON credential with
    an embedded DataIntegrityProof (``proof="data-integrity"``)."""
    if proof not in (JWT, DATA_INTEGRITY):
        raise ValueError(f"Unknown proof format {proof!r}: use {JWT!r} or {DATA_INTEGRITY!r}.")
    institution = credential.award.issuing_institution
    key = keys.ensure_key(institution)
    document = ob3.build_credential(credential)
    if proof == JWT:
        return jose.sign_jwt(document, institution)
    secret = keys.private_key(key).private_key  # joserfc OKPKey → cryptography Ed25519PrivateKey
    return integrity.add_proof(document, secret, keys.verification_method_id(key))

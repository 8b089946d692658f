"""VC-JOSE-COSE (W3C, 2025): a credential secured as a compact JWS, ``typ: vc+jwt``, whose payload is the
credential itself (no ``vc`` claim wrapper), signed with EdDSA (Ed25519).

``verify_jwt`` resolves the key from our own ``IssuerKey`` table by the header's ``kid`` (a DID URL
``did:web:…#<thumbprint>``); it never goes to the network. Each failure raises ``VerificationError`` with a
specific message.

RFC 9864 (2025) deprecates the polymorphic ``EdDSA`` name in favour of ``Ed25519``; VC-JOSE-COSE verifiers and
JOSE libraries (PyJWT included) still expect ``EdDSA``, so we sign with it and silence joserfc's warning.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import warnings
from typing import Any

from django.utils import timezone
from joserfc import jws
from joserfc.errors import BadSignatureError, JoseError

from consortium.api import Institution

from ..models import IssuerKey
from . import keys

TYP = "vc+jwt"


class VerificationError(Exception):
    """The token is not a valid credential JWT issued by us; ``str(error)`` says why."""


@contextlib.contextmanager
def _quiet():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*EdDSA is deprecated.*")
        yield


def sign_jwt(credential: dict[str, Any], institution: Institution) -> str:
    """Sign ``credential`` with the institution's active key. The issuer of the credential must be its DID."""
    key = keys.active_key(institution)
    if key is None:
        raise keys.IssuerKeyError(f"{institution.short_name} has no signing key (manage.py issuer_keys).")
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if issuer_id != keys.did_for(institution.pk):
        raise keys.IssuerKeyError(f"The credential's issuer is {issuer_id}, not {institution.short_name}.")
    header = {"alg": keys.ALG, "typ": TYP, "kid": keys.verification_method_id(key)}
    payload = json.dumps(credential, ensure_ascii=False, separators=(",", ":")).encode()
    with _quiet():
        return jws.serialize_compact(header, payload, keys.private_key(key), algorithms=[keys.ALG])


def _b64json(segment: str) -> dict:
    value = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _datetime(value: str, name: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, ValueError) as exc:
        raise VerificationError(f"The credential's {name} is not a date-time: {value!r}.") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def verify_jwt(token: str, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The verified credential, or ``VerificationError``: malformed token, wrong ``typ``/``alg``, unknown key,
    key not the issuer's, bad signature (tampered or signed by another key), expired or not yet valid."""
    now = now or timezone.now()
    parts = token.strip().split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        raise VerificationError("Malformed token: a compact JWS has three dot-separated parts.")
    try:
        header = _b64json(parts[0])
    except ValueError as exc:
        raise VerificationError("Malformed token: the protected header is not base64url-encoded JSON.") from exc
    if header.get("typ") != TYP:
        raise VerificationError(f"Unsupported token type {header.get('typ')!r}: expected {TYP!r}.")
    if header.get("alg") != keys.ALG:
        raise VerificationError(f"Unsupported algorithm {header.get('alg')!r}: expected {keys.ALG!r}.")
    kid = header.get("kid")
    if not isinstance(kid, str) or "#" not in kid:
        raise VerificationError("The header has no key id (kid) naming a DID URL.")
    did, _, thumbprint = kid.partition("#")
    key = IssuerKey.objects.filter(kid=thumbprint).first()
    if key is None or keys.did_for(key.institution_id) != did:
        raise VerificationError(f"Unknown signing key {kid}: not a key published by this service.")
    try:
        with _quiet():
            verified = jws.deserialize_compact(token.strip(), keys.public_key(key), algorithms=[keys.ALG])
    except BadSignatureError as exc:
        raise VerificationError(
            f"Invalid signature: the token was altered or was not signed with key {kid}.") from exc
    except (JoseError, ValueError) as exc:
        raise VerificationError(f"Malformed token: {exc}.") from exc
    try:
        credential = json.loads(verified.payload)
    except ValueError as exc:
        raise VerificationError("Malformed token: the payload is not JSON.") from exc
    if not isinstance(credential, dict):
        raise VerificationError("Malformed token: the payload is not a credential object.")
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if issuer_id != did:
        raise VerificationError(f"Wrong key: {kid} belongs to {did}, but the credential's issuer is {issuer_id}.")
    if "validFrom" in credential:
        valid_from = _datetime(credential["validFrom"], "validFrom")
        if valid_from > now:
            raise VerificationError(f"The credential is not valid before {credential['validFrom']}.")
        if key.retired_at and valid_from > key.retired_at:
            raise VerificationError(f"Key {kid} was retired on {key.retired_at.isoformat()}, before the "
                                    f"credential's validFrom {credential['validFrom']}.")
    if "validUntil" in credential and _datetime(credential["validUntil"], "validUntil") < now:
        raise VerificationError(f"The credential expired on {credential['validUntil']}.")
    return credential

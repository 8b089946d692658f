"""Issuer signing keys: Ed25519, one active key per institution, rotation, encryption at rest, did:web.

The private key is serialised (PKCS#8 DER) and encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under the
key(s) in ``settings.CREDENTIAL_KEY_ENCRYPTION_KEY``. In DEBUG and in the tests
(``CREDENTIAL_KEY_DERIVE_FROM_SECRET``) a key derived from ``SECRET_KEY`` (HKDF-SHA256) is used when none is
configured; production without a configured key refuses to create or use a signing key. Private keys leave this
module only as a ``joserfc`` key object handed to ``certification.vc.jose``; nothing here logs or returns them.
"""

from __future__ import annotations

import base64
from urllib.parse import quote, urlsplit

import base58
from cryptography.fernet import InvalidToken, MultiFernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from joserfc.jwk import OKPKey

from consortium.api import Institution, encryption

from ..models import IssuerKey

ALG = "EdDSA"
CURVE = "Ed25519"


class IssuerKeyError(Exception):
    """No usable signing key (none generated, or the encryption key is missing or wrong)."""


# --- Encryption at rest -----------------------------------------------------------------------------------------


def _fernet() -> MultiFernet:
    return encryption.fernet(purpose="sign credentials (see docs/credentials.md)",
                             development_info=b"jointcred issuer key encryption (development only)")


def _encrypt(private_key: Ed25519PrivateKey) -> str:
    der = private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    return _fernet().encrypt(der).decode("ascii")


def private_key(key: IssuerKey) -> OKPKey:
    """The decrypted signing key as a joserfc key (for ``certification.vc.jose`` only)."""
    try:
        der = _fernet().decrypt(key.private_key_encrypted.encode("ascii"))
    except InvalidToken as exc:
        raise IssuerKeyError(f"The private key {key.kid} cannot be decrypted with the configured key.") from exc
    return OKPKey.import_key(serialization.load_der_private_key(der, password=None))


def public_key(key: IssuerKey) -> OKPKey:
    return OKPKey.import_key(dict(key.public_jwk))


# --- Generation and rotation ------------------------------------------------------------------------------------


def _new_key(institution: Institution) -> IssuerKey:
    secret = Ed25519PrivateKey.generate()
    jwk = OKPKey.import_key(secret.public_key())
    public = {"kty": "OKP", "crv": CURVE, "x": jwk.as_dict(private=False)["x"]}
    return IssuerKey.objects.create(institution=institution, kid=jwk.thumbprint(), public_jwk=public,
                                    private_key_encrypted=_encrypt(secret))


def active_key(institution: Institution) -> IssuerKey | None:
    return IssuerKey.objects.filter(institution=institution, retired_at__isnull=True).first()


@transaction.atomic
def ensure_key(institution: Institution) -> IssuerKey:
    """The institution's active key, generated when it has none (used by the command, seed and demo data)."""
    Institution.objects.select_for_update().filter(pk=institution.pk).first()  # serialise concurrent callers
    return active_key(institution) or _new_key(institution)


@transaction.atomic
def rotate_key(institution: Institution) -> IssuerKey:
    """Retire the active key (it stays published for verification) and generate a new one."""
    Institution.objects.select_for_update().filter(pk=institution.pk).first()
    IssuerKey.objects.filter(institution=institution, retired_at__isnull=True).update(retired_at=timezone.now())
    return _new_key(institution)


# --- Publication (did:web, JWK set) -----------------------------------------------------------------------------


def did_for(institution_id) -> str:
    """``did:web:<host>[%3A<port>][:<path>]:issuers:<id>``, resolved by did:web to
    ``https://<host>[:<port>][/<path>]/issuers/<id>/did.json`` (our ``issuer-did`` view)."""
    parts = urlsplit(settings.PUBLIC_BASE_URL)
    host = quote(parts.netloc, safe="")  # did:web percent-encodes the port's colon
    path = [quote(p, safe="") for p in parts.path.split("/") if p]
    return ":".join(["did:web", host, *path, "issuers", str(institution_id)])


def verification_method_id(key: IssuerKey) -> str:
    """The key as a ``JsonWebKey`` verification method: what JWT headers name (``kid``)."""
    return f"{did_for(key.institution_id)}#{key.kid}"


#: Multicodec prefix of an Ed25519 public key (``ed25519-pub``, varint 0xed).
ED25519_MULTICODEC = b"\xed\x01"


def public_key_multibase(key: IssuerKey) -> str:
    """The public key as Multikey ``publicKeyMultibase``: base58btc of the multicodec prefix + the 32 raw bytes."""
    raw = base64.urlsafe_b64decode(key.public_jwk["x"] + "=" * (-len(key.public_jwk["x"]) % 4))
    return "z" + base58.b58encode(ED25519_MULTICODEC + raw).decode("ascii")


def multikey_method_id(key: IssuerKey) -> str:
    """The key as a ``Multikey`` verification method (``#z6Mk…``): what ``eddsa-rdfc-2022`` proofs name, as the
    cryptosuite asks of conforming verifiers."""
    return f"{did_for(key.institution_id)}#{public_key_multibase(key)}"


def key_for_fragment(fragment: str) -> IssuerKey | None:
    """The key a DID URL fragment names: a JWK thumbprint or a Multikey ``publicKeyMultibase``."""
    if fragment.startswith("z6Mk"):
        try:
            decoded = base58.b58decode(fragment[1:])
        except ValueError:
            return None
        if len(decoded) != 34 or not decoded.startswith(ED25519_MULTICODEC):
            return None
        x = base64.urlsafe_b64encode(decoded[2:]).decode("ascii").rstrip("=")
        return IssuerKey.objects.filter(public_jwk__x=x).first()
    return IssuerKey.objects.filter(kid=fragment).first()


def published_keys(institution_id) -> list[IssuerKey]:
    """Every key of the institution, retired ones included, oldest first."""
    return list(IssuerKey.objects.filter(institution_id=institution_id).order_by("created_at", "kid"))


def did_document(institution_id) -> dict:
    did = did_for(institution_id)
    keys = published_keys(institution_id)
    methods = []
    for k in keys:  # each key twice: as a JWK (for JWTs) and as a Multikey (for eddsa-rdfc-2022 proofs)
        methods.append({"id": verification_method_id(k), "type": "JsonWebKey2020", "controller": did,
                        "publicKeyJwk": dict(k.public_jwk)})
        methods.append({"id": multikey_method_id(k), "type": "Multikey", "controller": did,
                        "publicKeyMultibase": public_key_multibase(k)})
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1",
                     "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [m["id"] for m in methods],
    }


def jwks(institution_id) -> dict:
    """The JWK set; each ``kid`` is the DID URL the JWT header names, so a plain JOSE verifier matches directly."""
    return {"keys": [{**k.public_jwk, "kid": verification_method_id(k), "use": "sig", "alg": ALG}
                     for k in published_keys(institution_id)]}

"""Data Integrity proofs with the ``eddsa-rdfc-2022`` cryptosuite (W3C vc-di-eddsa), embedded in a credential.

Signing (vc-di-eddsa §3.3, "Create Proof"): the proof options (without ``proofValue``) get the document's
``@context`` and are canonicalized with RDF Dataset Canonicalization (RDFC-1.0, which pyld calls URDNA2015; the
output is identical); so is the document without its ``proof``. The signed message is
``SHA-256(canonical proof config) || SHA-256(canonical document)`` (64 bytes), signed with Ed25519; the
signature is ``proofValue``, multibase base58btc (``z`` prefix).

Every ``@context`` comes from :mod:`certification.vc.loader` (shipped files, never the network).

``verify_proof`` returns one :class:`Check` per step, each with a message saying what was checked and, when it
failed, why; :func:`is_valid` is true when every check passed.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import base58
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.utils.translation import gettext_lazy as _
from pyld import jsonld

from .loader import loader

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"


class ProofError(ValueError):
    """A document cannot be signed (or a proof cannot be processed) as given."""


#: What each check is called on pages (the API answers the stable ``name``).
CHECK_LABELS = {
    "seal": _("Seal of the PDF"),
    "embedded_credential": _("Credential embedded in the PDF"),
    "issued_document": _("Issued document (SHA-256)"),
    "issuer_key": _("Issuer's key"),
    "signature": _("Signature"),
    "dates": _("Validity dates"),
    "status": _("Revocation status"),
    "eu_elements": _("The 11 EU elements"),
}


@dataclass(frozen=True)
class Check:
    """One step of a verification: ``name`` is stable (e.g. ``"signature"``), ``message`` is for people."""

    name: str
    ok: bool
    message: str

    @property
    def label(self) -> str:
        return str(CHECK_LABELS.get(self.name, self.name))


def is_valid(results: list[Check]) -> bool:
    return bool(results) and all(r.ok for r in results)


def failures(results: list[Check]) -> list[Check]:
    return [r for r in results if not r.ok]


# --- encoding helpers ---------------------------------------------------------------------------------------


def multibase_base58btc(data: bytes) -> str:
    return "z" + base58.b58encode(data).decode("ascii")


def from_multibase_base58btc(value: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofError("proofValue is not multibase base58btc (it must start with 'z').")
    try:
        return base58.b58decode(value[1:])
    except ValueError as e:
        raise ProofError(f"proofValue is not valid base58btc: {e}") from e


def xsd_datetime(moment: datetime) -> str:
    """``2026-11-25T18:10:50Z``: UTC, whole seconds, the form the VC data model uses."""
    if moment.tzinfo is None:
        raise ProofError("Give an aware datetime (with a time zone).")
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return moment


# --- canonicalization and hashing -----------------------------------------------------------------------------


def canonicalize(document: dict) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document, contexts from the shipped files only."""
    return jsonld.normalize(
        copy.deepcopy(document),
        {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": loader},
    )


def _hash_data(unsecured: dict, proof_config: dict) -> bytes:
    proof_hash = hashlib.sha256(canonicalize(proof_config).encode("utf-8")).digest()
    document_hash = hashlib.sha256(canonicalize(unsecured).encode("utf-8")).digest()
    return proof_hash + document_hash


def _proof_config(proof: dict, context) -> dict:
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    config["@context"] = context
    return config


# --- create ---------------------------------------------------------------------------------------------------


def add_proof(
    document: dict,
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: datetime | None = None,
    *,
    proof_purpose: str = "assertionMethod",
) -> dict:
    """A copy of ``document`` with an embedded ``eddsa-rdfc-2022`` DataIntegrityProof."""
    if "@context" not in document:
        raise ProofError("The document has no @context; a Data Integrity proof needs one.")
    if "proof" in document:
        raise ProofError("The document already has a proof; sign the unsecured document.")
    if not verification_method:
        raise ProofError("Give the verification method (the URL of the issuer's public key).")
    proof = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": xsd_datetime(created or datetime.now(UTC)),
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    unsecured = copy.deepcopy(document)
    signature = private_key.sign(_hash_data(unsecured, _proof_config(proof, unsecured["@context"])))
    secured = copy.deepcopy(document)
    secured["proof"] = {**proof, "proofValue": multibase_base58btc(signature)}
    return secured


# --- verify ---------------------------------------------------------------------------------------------------


def _validity_checks(document: dict, proof: dict, now: datetime) -> list[Check]:
    checks = []
    for field, ok_if, wording in (
        ("validFrom", lambda t: t <= now, "is in the future: the credential is not valid yet"),
        ("validUntil", lambda t: now <= t, "has passed: the credential has expired"),
    ):
        value = document.get(field)
        if value is None:
            continue
        try:
            moment = parse_datetime(value)
        except (TypeError, ValueError):
            checks.append(Check(field, False, f"{field} {value!r} is not a date-time with a time zone."))
            continue
        if ok_if(moment):
            checks.append(Check(field, True, f"{field} {value} is satisfied."))
        else:
            checks.append(Check(field, False, f"{field} {value} {wording}."))
    if proof.get("expires"):
        try:
            ok = now <= parse_datetime(proof["expires"])
        except (TypeError, ValueError):
            ok = False
        checks.append(Check("proof.expires", ok, "The proof has not expired." if ok else
                            f"The proof expired on {proof['expires']}."))
    return checks


def verify_proof(
    document: dict,
    resolve_key: Callable[[str], Ed25519PublicKey | None],
    *,
    now: datetime | None = None,
    expected_purpose: str = "assertionMethod",
) -> list[Check]:
    """Verify the embedded ``eddsa-rdfc-2022`` proof of ``document``.

    ``resolve_key(verification_method)`` returns the Ed25519 public key for the proof's verification method,
    or ``None`` (or raises ``LookupError``/``ValueError``) when it is unknown. Checks, in order: ``proof``
    (present, one, the right type and cryptosuite), ``proofPurpose``, ``verificationMethod`` (resolved),
    ``signature``, then ``validFrom`` / ``validUntil`` / ``proof.expires`` against ``now``.
    """
    now = now or datetime.now(UTC)
    checks: list[Check] = []
    proof = document.get("proof")
    if isinstance(proof, list):
        if len(proof) != 1:
            return [Check("proof", False, f"Expected one proof, found {len(proof)}.")]
        proof = proof[0]
    if not isinstance(proof, dict):
        return [Check("proof", False, "The document has no embedded proof.")]
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        return [Check("proof", False, f"The proof is {proof.get('type')!r}/{proof.get('cryptosuite')!r}, not "
                                      f"{PROOF_TYPE}/{CRYPTOSUITE}.")]
    checks.append(Check("proof", True, f"One {PROOF_TYPE} proof ({CRYPTOSUITE})."))

    purpose = proof.get("proofPurpose")
    checks.append(Check("proofPurpose", purpose == expected_purpose,
                        f"proofPurpose is {purpose!r}." if purpose == expected_purpose else
                        f"proofPurpose is {purpose!r}, expected {expected_purpose!r}."))

    method = proof.get("verificationMethod")
    key = None
    reason = "no verificationMethod in the proof"
    if method:
        try:
            key = resolve_key(method)
            reason = "unknown key"
        except (LookupError, ValueError) as e:
            reason = str(e) or "unknown key"
    if key is None:
        checks.append(Check("verificationMethod", False, f"Cannot resolve the verification method {method!r}: "
                                                         f"{reason}."))
    else:
        checks.append(Check("verificationMethod", True, f"Key {method} resolved."))

    if key is not None:
        checks.append(_signature_check(document, proof, key))
    else:
        checks.append(Check("signature", False, "The signature was not checked: no public key."))

    checks.extend(_validity_checks(document, proof, now))
    return checks


def _signature_check(document: dict, proof: dict, key: Ed25519PublicKey) -> Check:
    try:
        signature = from_multibase_base58btc(proof.get("proofValue"))
    except ProofError as e:
        return Check("signature", False, str(e))
    if len(signature) != 64:
        return Check("signature", False, f"proofValue is {len(signature)} bytes, not a 64-byte Ed25519 signature.")
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    if "@context" not in unsecured:
        return Check("signature", False, "The document has no @context.")
    try:
        data = _hash_data(unsecured, _proof_config(proof, unsecured["@context"]))
    except jsonld.JsonLdError as e:
        return Check("signature", False, f"The document cannot be canonicalized: {_jsonld_reason(e)}")
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return Check("signature", False, "The signature does not match: the credential was changed after signing, "
                                         "or it was signed with another key.")
    return Check("signature", True, "The signature matches the canonicalized credential and proof options.")


def _jsonld_reason(error: jsonld.JsonLdError) -> str:
    cause = getattr(error, "cause", None)
    return str(getattr(cause, "message", None) or getattr(error, "message", None) or error).strip()

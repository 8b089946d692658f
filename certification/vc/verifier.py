"""Verify an Open Badges 3.0 credential we issued, secured either with an embedded Data Integrity proof
(``eddsa-rdfc-2022``, the JSON credential) or as a VC-JOSE-COSE JWT (compact JWS, ``typ: vc+jwt``).

:func:`verify` always answers the same five checks, in this order, each a :class:`~certification.vc.integrity.Check`
(``name``, ``ok``, ``message``):

* ``issuer_key``: the proof's key (the JWT header's ``kid`` or the proof's ``verificationMethod``, a DID URL
  ``did:web:…:issuers:<id>#<thumbprint>`` or, for Data Integrity proofs, ``…#<publicKeyMultibase>``) is one of
  our ``IssuerKey`` rows, its DID is the credential's issuer,
  and it was not retired before the credential's ``validFrom``. Resolved from our database only, never the network.
* ``signature``: the signature matches (any changed character fails it).
* ``dates``: ``validFrom`` is not in the future and ``validUntil`` (if any) has not passed.
* ``status``: the ``BitstringStatusListEntry`` index is not set in the issuer's revocation list (our ``StatusList``).
* ``eu_elements``: each of the 11 EU elements has a value at one of its fields (``ob3.ELEMENT_FIELDS``).

The credential is valid when every check passes (``integrity.is_valid``). The dates, status and elements of a
credential whose signature fails are still reported (read from the unverified content) so a person sees what is
wrong, but such a credential is never valid.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from joserfc import jws
from joserfc.errors import BadSignatureError, JoseError

from .. import snapshot as snap
from ..models import Document, DocumentStatus, IssuerKey, StatusList
from . import integrity, jose, keys, ob3, seal, status
from .integrity import Check, failures, is_valid

__all__ = ["Check", "MalformedCredential", "failures", "is_valid", "verify", "verify_pdf"]

CHECKS = ("issuer_key", "signature", "dates", "status", "eu_elements")
#: A PDF answers these first, then the five ``CHECKS`` of the credential embedded in it.
PDF_CHECKS = ("seal", "embedded_credential", "issued_document")


class MalformedCredential(ValueError):
    """The input is neither a JSON credential (object) nor a compact JWS: nothing to verify."""


# --- Input ------------------------------------------------------------------------------------------------------


def _b64decode(segment: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", segment):
        raise ValueError("not base64url")
    raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    if base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=") != segment:
        raise ValueError("not canonical base64url")  # a changed unused trailing bit would otherwise pass
    return raw


def _json_object(raw: bytes | str) -> dict[str, Any]:
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _parse(credential: dict | str) -> tuple[str, Any]:
    """``("jwt", token)`` or ``("data-integrity", document)``."""
    if isinstance(credential, dict):
        return "data-integrity", credential
    if not isinstance(credential, str) or not credential.strip():
        raise MalformedCredential("Give the credential as a JSON object or a JWT string.")
    text = credential.strip()
    if text.startswith("{"):
        try:
            return "data-integrity", _json_object(text)
        except ValueError as exc:
            raise MalformedCredential(f"The credential is not valid JSON: {exc}.") from exc
    if text.count(".") != 2:
        raise MalformedCredential("The credential is neither a JSON object nor a compact JWS (three dot-separated "
                                  "parts).")
    return "jwt", text


# --- Key resolution ---------------------------------------------------------------------------------------------


def _issuer_id(document: dict) -> Any:
    issuer = document.get("issuer")
    return issuer.get("id") if isinstance(issuer, dict) else issuer


def _resolve(method: Any, document: dict) -> tuple[IssuerKey | None, Check]:
    """The key named by a DID URL, and the ``issuer_key`` check."""
    if not isinstance(method, str) or "#" not in method:
        return None, Check("issuer_key", False, f"The proof names no key as a DID URL (did:web:…#<key id>): "
                                                f"{method!r}.")
    did, _, fragment = method.partition("#")
    key = keys.key_for_fragment(fragment)
    if key is None or keys.did_for(key.institution_id) != did:
        return None, Check("issuer_key", False, f"Unknown signing key {method}: not a key published by this service.")
    issuer = _issuer_id(document)
    if issuer != did:
        return key, Check("issuer_key", False, f"Wrong key: {method} belongs to {did}, but the credential's issuer "
                                               f"is {issuer}.")
    if key.retired_at is not None and isinstance(document.get("validFrom"), str):
        try:
            valid_from = integrity.parse_datetime(document["validFrom"])
        except ValueError:
            valid_from = None
        if valid_from is not None and valid_from > key.retired_at:
            return key, Check("issuer_key", False, f"Key {method} was retired on {key.retired_at.isoformat()}, "
                                                   f"before the credential's validFrom {document['validFrom']}.")
    return key, Check("issuer_key", True, f"Key {method} of the issuer {did} resolved.")


# --- The two proof formats --------------------------------------------------------------------------------------


def _jwt(token: str) -> tuple[dict, Check, Check]:
    """The (possibly unverified) payload, the ``issuer_key`` and the ``signature`` checks of a JWT."""
    segments = token.split(".")
    try:
        header = _json_object(_b64decode(segments[0]))
    except ValueError:
        return {}, Check("issuer_key", False, "Not checked: the token's header is unreadable."), Check(
            "signature", False, "Malformed token: the protected header is not base64url-encoded JSON.")
    try:
        payload = _json_object(_b64decode(segments[1]))
    except ValueError:
        payload = None
    document = payload or {}
    key, key_check = _resolve(header.get("kid"), document)
    if header.get("typ") != jose.TYP:
        return document, key_check, Check("signature", False,
                                          f"Unsupported token type {header.get('typ')!r}: expected {jose.TYP!r}.")
    if header.get("alg") != keys.ALG:
        return document, key_check, Check("signature", False,
                                          f"Unsupported algorithm {header.get('alg')!r}: expected {keys.ALG!r}.")
    if payload is None:
        return document, key_check, Check("signature", False,
                                          "Malformed token: the payload is not a base64url-encoded JSON object.")
    if key is None:
        return document, key_check, Check("signature", False, "The signature was not checked: no public key.")
    try:
        _b64decode(segments[2])
        with jose._quiet():
            jws.deserialize_compact(token, keys.public_key(key), algorithms=[keys.ALG])
    except BadSignatureError:
        return document, key_check, Check("signature", False, f"Invalid signature: the token was altered or was "
                                                              f"not signed with key {header.get('kid')}.")
    except (JoseError, ValueError) as exc:
        return document, key_check, Check("signature", False, f"Malformed token: {exc or 'bad signature part'}.")
    return document, key_check, Check("signature", True, "The JWT signature (EdDSA, Ed25519) matches the header and "
                                                         "the credential.")


def _data_integrity(document: dict) -> tuple[Check, Check]:
    """The ``issuer_key`` and ``signature`` checks of a credential with an embedded Data Integrity proof."""
    proof = document.get("proof")
    if isinstance(proof, list) and len(proof) == 1:
        proof = proof[0]
    method = proof.get("verificationMethod") if isinstance(proof, dict) else None
    if isinstance(proof, dict):
        key, key_check = _resolve(method, document)
    else:
        key, key_check = None, Check("issuer_key", False, "Not checked: the credential has no embedded proof.")

    def resolve(_method: str):
        return keys.public_key(key).public_key if key is not None else None

    results = {c.name: c for c in integrity.verify_proof(document, resolve)}
    for name in ("proof", "proofPurpose", "signature"):
        check = results.get(name)
        if check is not None and not check.ok:
            return key_check, Check("signature", False, check.message)
    return key_check, Check("signature", True, results["signature"].message)


# --- The checks common to both formats --------------------------------------------------------------------------


def _dates(document: dict, now: datetime) -> Check:
    problems, seen = [], []
    for field in ("validFrom", "validUntil"):
        value = document.get(field)
        if value is None:
            continue
        try:
            moment = integrity.parse_datetime(value)
        except (AttributeError, TypeError, ValueError):
            problems.append(f"{field} {value!r} is not a date-time with a time zone.")
            continue
        if field == "validFrom" and moment > now:
            problems.append(f"The credential is not valid before {value}.")
        elif field == "validUntil" and moment < now:
            problems.append(f"The credential expired on {value}.")
        else:
            seen.append(f"{field} {value}")
    if "validFrom" not in document:
        problems.append("The credential has no validFrom.")
    if problems:
        return Check("dates", False, " ".join(problems))
    return Check("dates", True, "Within its validity period (" + ", ".join(seen) + ").")


_LIST_URL = re.compile(r"^(?P<base>.*)/issuers/(?P<institution>[0-9a-fA-F-]{36})/status/(?P<purpose>[a-z]+)$")


def _status(document: dict) -> Check:
    entry = document.get("credentialStatus")
    if entry is None:
        return Check("status", True, "The credential has no credentialStatus: it carries no revocation status.")
    if isinstance(entry, list):
        entry = entry[0] if len(entry) == 1 else None
    if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry":
        return Check("status", False, "credentialStatus is not one BitstringStatusListEntry.")
    if entry.get("statusPurpose") != status.REVOCATION:
        return Check("status", False, f"Unsupported statusPurpose {entry.get('statusPurpose')!r}: expected "
                                      f"{status.REVOCATION!r}.")
    url = entry.get("statusListCredential")
    match = _LIST_URL.match(url) if isinstance(url, str) else None
    if match is None or match["base"] != settings.PUBLIC_BASE_URL or match["purpose"] != status.REVOCATION:
        return Check("status", False, f"The status list {url!r} is not one published by this service.")
    status_list = StatusList.objects.filter(institution_id=match["institution"], purpose=status.REVOCATION).first()
    if status_list is None or status.list_url(status_list.institution_id) != url:
        return Check("status", False, f"Unknown status list {url}.")
    if keys.did_for(status_list.institution_id) != _issuer_id(document):
        return Check("status", False, f"The status list {url} is not the credential issuer's.")
    try:
        index = int(entry.get("statusListIndex"))
    except (TypeError, ValueError):
        return Check("status", False, f"statusListIndex {entry.get('statusListIndex')!r} is not a number.")
    bits = status.decode_list(status.encoded_list(status_list))  # what a remote verifier reads from encodedList
    if not 0 <= index < min(status_list.next_index, len(bits) * 8):
        return Check("status", False, f"statusListIndex {index} was never allocated in {url}.")
    if status.bit(bits, index):
        return Check("status", False, f"The credential has been revoked (bit {index} of {url} is set).")
    return Check("status", True, f"Not revoked (bit {index} of {url} is not set).")


def _values(node: Any, path: list[str]) -> list[Any]:
    if not path:
        return [node]
    head, rest = path[0], path[1:]
    many = head.endswith("[]")
    head = head.removesuffix("[]")
    items = [node] if isinstance(node, dict) else (node if isinstance(node, list) else [])
    found = []
    for item in items:
        if not isinstance(item, dict) or head not in item:
            continue
        value = item[head]
        if many and isinstance(value, list):
            for element in value:
                found.extend(_values(element, rest))
        else:
            found.extend(_values(value, rest))
    return found


def _present(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | dict):
        return bool(value)
    return value is not None


def _elements(document: dict) -> Check:
    labels = dict(snap.ELEMENTS)
    numbers = {key: i for i, (key, _label) in enumerate(snap.ELEMENTS, start=1)}
    missing = [key for key, paths in ob3.ELEMENT_FIELDS.items()
               if not any(_present(v) for p in paths for v in _values(document, p.split(".")))]
    if missing:
        return Check("eu_elements", False, "Missing EU elements: " + ", ".join(
            f"({numbers[k]}) {labels[k]}" for k in missing) + ".")
    return Check("eu_elements", True, f"All {len(ob3.ELEMENT_FIELDS)} EU micro-credential elements are present.")


# --- Entry point ------------------------------------------------------------------------------------------------


def verify(credential: dict | str, *, now: datetime | None = None) -> list[Check]:
    """The five checks (``CHECKS``) of an OB 3.0 credential: a JSON object (or JSON text) with an embedded Data
    Integrity proof, or a VC-JOSE-COSE JWT. ``MalformedCredential`` when the input is neither."""
    now = now or datetime.now(UTC)
    kind, value = _parse(credential)
    if kind == "jwt":
        document, key_check, signature_check = _jwt(value)
    else:
        document = value
        key_check, signature_check = _data_integrity(document)
    return [key_check, signature_check, _dates(document, now), _status(document), _elements(document)]


def as_json(results: list[Check]) -> dict[str, Any]:
    """The API answer: ``valid``, every check, and the names of the failed ones."""
    return {
        "valid": is_valid(results),
        "checks": [{"name": c.name, "ok": c.ok, "message": c.message} for c in results],
        "failed": [c.name for c in failures(results)],
    }


def _issued_document(content: bytes, expected_url: str | None) -> Check:
    digest = hashlib.sha256(content).hexdigest()
    document = (Document.objects.select_related("credential").filter(sha256=digest, status=DocumentStatus.READY)
                .first())
    if document is None:
        return Check("issued_document", False, "The file is not byte for byte a document issued here (SHA-256 "
                                               "unknown): it was changed, or it is not ours.")
    credential = document.credential
    if expected_url is not None and ob3.credential_url(credential) != expected_url:
        return Check("issued_document", False, "The file is a document issued for another credential.")
    issued = (document.rendered_at or credential.issued_at).date().isoformat()
    return Check("issued_document", True, f"The file is the {document.get_kind_display().lower()} "
                                          f"({document.language}) issued on {issued} for credential "
                                          f"{credential.credential_id}, version {credential.version}.")


def verify_pdf(content: bytes, *, expected_url: str | None = None, now: datetime | None = None) -> list[Check]:
    """The checks of an uploaded PDF (``PDF_CHECKS``, then ``CHECKS`` of its embedded credential): its PAdES seal
    (intact, covering the whole file, by one of our seal certificates), the signed credential embedded in it (for
    ``expected_url``: that credential), whether its SHA-256 is a document we issued, and the credential's own
    checks. Never raises on bad input: an unreadable file fails the checks with a message."""
    sealed = seal.check_pdf(content)
    seal_ok = bool(sealed["sealed"] and sealed["intact"] and sealed["trusted"])
    results = [Check("seal", seal_ok, sealed["message"] or "The seal could not be checked.")]
    embedded = sealed["credential"]
    if embedded is None:
        results.append(Check("embedded_credential", False, "The PDF carries no signed credential "
                                                           f"({seal.CREDENTIAL_FILE})."))
    elif expected_url is not None and embedded.get("id") != expected_url:
        results.append(Check("embedded_credential", False, f"The embedded credential is {embedded.get('id')!r}, "
                                                           f"not this one ({expected_url})."))
    else:
        results.append(Check("embedded_credential", True, f"The PDF carries the signed credential "
                                                          f"{embedded.get('id')}."))
    results.append(_issued_document(content, expected_url))
    if embedded is None:
        return results + [Check(name, False, "Not checked: no embedded credential.") for name in CHECKS]
    return results + verify(embedded, now=now)


#: How long the public verification page reuses the checks of a stored credential (a revocation changes the key).
STORED_CHECKS_SECONDS = 300


def verify_stored(credential) -> list[Check] | None:
    """The five checks of a credential we issued, run on its kept signed copy (what its PDFs embed); cached per
    credential version and status. ``None`` when it cannot be signed here (no usable issuer key)."""
    from django.core.cache import cache

    from . import issue

    key = f"vc-checks:{credential.pk}:{credential.status}:{credential.updated_at.timestamp()}"
    cached = cache.get(key)
    if cached is not None:
        return [Check(*c) for c in cached]
    try:
        signed = issue.signed_copy(credential, issue.DATA_INTEGRITY)
    except keys.IssuerKeyError:
        return None
    results = verify(signed)
    cache.set(key, [(c.name, c.ok, c.message) for c in results], STORED_CHECKS_SECONDS)
    return results

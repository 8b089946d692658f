"""Verifiable credentials: issuer keys (encrypted at rest, rotation, did:web and JWKS publication), the Open
Badges 3.0 credential from the frozen snapshot (the 11 EU elements), and VC-JOSE-COSE JWT signing verified by
our own verifier and by an independent JOSE library (PyJWT)."""

import base64
import datetime as dt
import io
import json

import jwt as pyjwt
import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.urls import reverse

from certification import services
from certification import snapshot as snap
from certification.models import IssuerKey
from certification.vc import jose, keys, ob3, status

ESCO = "http://data.europa.eu/esco/skill/5ab9b5c6-3c1a-4b8e-8c0d-6d5b4f3c2a10"


# --- Helpers -----------------------------------------------------------------------------------------------------


def issue(c, classification=""):
    c.outcomes[0].esco_uri = ESCO
    c.outcomes[0].save()
    award = services.award_decide(actor=c.board, enrolment=c.enrolments[0], classification=classification)
    return award.credentials.get()


def signed(c, credential=None, **changes):
    credential = credential or issue(c)
    keys.ensure_key(c.programme.issuing_institution)
    data = {**ob3.build_credential(credential), **changes}
    return jose.sign_jwt(data, c.programme.issuing_institution), data


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def resolve(client, url: str):
    """Fetch one of our public documents by its absolute URL (PUBLIC_BASE_URL) through the test client."""
    response = client.get(url.removeprefix("http://127.0.0.1:8000"))
    assert response.status_code == 200, response.content
    return response.json()


# --- Keys --------------------------------------------------------------------------------------------------------


def test_private_key_is_encrypted_at_rest(world):
    key = keys.ensure_key(world.ua)
    secret = keys.private_key(key).as_dict(private=True)
    stored = IssuerKey.objects.get(pk=key.pk).private_key_encrypted
    raw = base64.urlsafe_b64decode(secret["d"] + "==")
    assert secret["d"] not in stored and base64.b64encode(raw).decode() not in stored and raw.hex() not in stored
    assert stored.startswith("gAAAA")  # a Fernet token
    assert secret["x"] == key.public_jwk["x"]
    with override_settings(CREDENTIAL_KEY_ENCRYPTION_KEY=["A" * 43 + "="]), pytest.raises(keys.IssuerKeyError):
        keys.private_key(key)  # another encryption key cannot read it


def test_one_active_key_per_institution(world):
    key = keys.ensure_key(world.ua)
    assert keys.ensure_key(world.ua) == key
    with transaction.atomic(), pytest.raises(IntegrityError):
        IssuerKey.objects.create(institution=world.ua, kid="other", public_jwk={}, private_key_encrypted="x")


def test_command_generates_and_rotates_printing_public_material_only(world):
    out = io.StringIO()
    call_command("issuer_keys", "--institution", "UA", stdout=out)
    first = keys.active_key(world.ua)
    private = keys.private_key(first).as_dict(private=True)["d"]
    assert f"kid: {first.kid}" in out.getvalue() and first.public_jwk["x"] in out.getvalue()
    out = io.StringIO()
    call_command("issuer_keys", "--institution", "UA", "--rotate", stdout=out)
    second = keys.active_key(world.ua)
    assert second.kid != first.kid and f"kid: {second.kid}" in out.getvalue()
    first.refresh_from_db()
    assert first.retired_at is not None
    assert private not in out.getvalue() and "private" not in out.getvalue().lower()


def test_did_and_jwks_publish_every_key_and_no_private_key(client, world):
    first = keys.ensure_key(world.ua)
    private = {keys.private_key(first).as_dict(private=True)["d"]}
    second = keys.rotate_key(world.ua)
    private.add(keys.private_key(second).as_dict(private=True)["d"])
    did = f"did:web:127.0.0.1%3A8000:issuers:{world.ua.pk}"
    response = client.get(f"/issuers/{world.ua.pk}/did.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["id"] == did == keys.did_for(world.ua.pk)
    methods = {m["id"]: m for m in doc["verificationMethod"]}
    jwk_methods = {f"{did}#{first.kid}", f"{did}#{second.kid}"}
    multikeys = {keys.multikey_method_id(first), keys.multikey_method_id(second)}
    assert set(methods) == jwk_methods | multikeys
    assert all(methods[m]["type"] == "JsonWebKey2020" for m in jwk_methods)
    assert all(methods[m]["type"] == "Multikey" for m in multikeys)
    assert all(m["controller"] == did for m in methods.values())
    assert set(doc["assertionMethod"]) == set(methods)
    jwks = client.get(reverse("issuer-jwks", args=[world.ua.pk]))
    assert {k["kid"] for k in jwks.json()["keys"]} == jwk_methods
    for body in (response.content.decode(), jwks.content.decode()):
        assert not any(p in body for p in private) and '"d"' not in body
    assert client.get(f"/issuers/{world.ub.pk}/did.json").status_code == 404  # no key: not an issuer


@override_settings(PUBLIC_BASE_URL="https://creds.example.eu:8443/jc")
def test_did_web_encodes_port_and_path(world):
    assert keys.did_for(world.ua.pk) == f"did:web:creds.example.eu%3A8443:jc:issuers:{world.ua.pk}"


# --- Open Badges 3.0 ---------------------------------------------------------------------------------------------


def test_ob3_credential_carries_the_11_eu_elements(client, awardable):
    c = awardable
    c.programme.qf_ehea_cycle = "second"
    c.programme.save()
    credential = issue(c, classification="8.1 (Joint scale)")
    s = credential.snapshot
    vc = ob3.build_credential(credential)
    subject, achievement = vc["credentialSubject"], vc["credentialSubject"]["achievement"]
    base = "http://127.0.0.1:8000"
    assert vc["@context"] == ["https://www.w3.org/ns/credentials/v2",
                              "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
                              f"{base}/contexts/jointcred-v1.jsonld"]
    assert vc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert vc["id"] == f"{base}/verify/{credential.credential_id}/"
    entry = status.status_entry_for(credential)  # the status-list hook (None until a status list exists)
    assert vc.get("credentialStatus") == entry
    eu = {e["key"]: e["value"] for e in snap.elements(s)}
    assert len(ob3.ELEMENT_FIELDS) == 11 and set(ob3.ELEMENT_FIELDS) == {k for k, _ in snap.ELEMENTS}
    # (1) learner: salted hash of the e-mail, never the e-mail itself
    [identity] = subject["identifier"]
    assert identity["identityType"] == "emailAddress" and identity["hashed"] is True and identity["salt"]
    assert identity["identityHash"] == ob3.identity_hash(s["learner"]["email"], identity["salt"])
    assert s["learner"]["email"] not in json.dumps(vc)
    assert subject["type"] == ["AchievementSubject"]
    # (2) title
    assert vc["name"] == achievement["name"] == eu["title"]
    assert achievement["achievementType"] == "MicroCredential" and achievement["type"] == ["Achievement"]
    assert achievement["criteria"]["narrative"] and achievement["description"]
    # (3) country / (4) awarding bodies: issuer Profile and every awarding body
    assert vc["issuer"]["id"] == keys.did_for(c.programme.issuing_institution_id)
    assert vc["issuer"]["type"] == ["Profile"] and vc["issuer"]["name"] == s["issuer"]["legal_name"]
    assert vc["issuer"]["address"]["addressCountryCode"] == "BE"
    assert achievement["issuerCountry"] == ["BE", "ES"]
    assert [b["name"] for b in vc["awardingBody"]] == [b["legal_name"] for b in s["awarding_bodies"]]
    assert all(b["id"].startswith("did:web:") for b in vc["awardingBody"])
    # (5) date of issuing
    assert vc["validFrom"].startswith(eu["date_of_issuing"]) and vc["validFrom"].endswith("Z")
    # (6) learning outcomes as alignments, with the ESCO URI
    assert [a["targetName"] for a in achievement["alignment"]] == [o["text"] for o in s["programme"]["outcomes"]]
    assert achievement["alignment"][0]["targetUrl"] == ESCO
    assert achievement["alignment"][0]["targetFramework"] == "ESCO"
    # (7) workload
    assert achievement["creditsAvailable"] == float(s["programme"]["ects"])
    assert achievement["workloadHours"] == list(s["programme"]["workload_hours"])
    # (8) level
    assert achievement["eqfLevel"] == s["programme"]["eqf_level"]
    assert achievement["qfEheaCycle"] == s["programme"]["qf_ehea_cycle"] == "Second cycle (master)"
    assert eu["level"] == f"EQF {achievement['eqfLevel']}, QF-EHEA {achievement['qfEheaCycle']}"
    # (9) assessment, (10) participation, (11) quality assurance
    assert achievement["typeOfAssessment"] == s["assessment_types"] and achievement["typeOfAssessment"]
    assert achievement["formOfParticipation"] == eu["participation"] == s["programme"]["participation_form"]
    assert achievement["typeOfQualityAssurance"] == eu["quality_assurance"] == s["programme"]["qa_scheme"]
    # grade
    assert subject["result"][0]["value"] == "8.1 (Joint scale)"
    assert subject["result"][0]["resultDescription"] == achievement["resultDescription"][0]["id"]
    # Every extension term is defined in our served context
    context = resolve(client, vc["@context"][2])["@context"]
    assert set(ob3.EXTENSION_TERMS) <= set(context)
    assert {k for k in achievement if k in ob3.EXTENSION_TERMS} | {"awardingBody"} == set(ob3.EXTENSION_TERMS)


def test_ob3_is_built_from_the_frozen_snapshot(awardable):
    credential = issue(awardable)
    before = ob3.build_credential(credential)
    awardable.programme.qa_scheme = "Changed later"
    awardable.programme.save()
    credential.refresh_from_db()
    assert ob3.build_credential(credential) == before


# --- JWT ---------------------------------------------------------------------------------------------------------


def test_sign_and_verify_round_trip(awardable):
    token, data = signed(awardable)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    key = keys.active_key(awardable.programme.issuing_institution)
    assert header == {"alg": "EdDSA", "typ": "vc+jwt", "kid": f"{data['issuer']['id']}#{key.kid}"}
    assert jose.verify_jwt(token) == data


def test_independent_library_verifies_with_published_jwks(client, awardable):
    token, data = signed(awardable)
    header = pyjwt.get_unverified_header(token)
    did = header["kid"].split("#")[0]
    jwks_url = "/" + "/".join(did.split(":")[3:]) + "/jwks.json"  # did:web:<host>:issuers:<id> → /issuers/<id>/
    jwk_set = pyjwt.PyJWKSet.from_dict(client.get(jwks_url).json())
    key = next(k for k in jwk_set.keys if k.key_id == header["kid"])
    assert pyjwt.decode(token, key.key, algorithms=["EdDSA"]) == data
    # ... and refuses the same token with a changed payload
    head, _payload, signature = token.split(".")
    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt.decode(f"{head}.{b64({**data, 'name': 'Forged'})}.{signature}", key.key, algorithms=["EdDSA"])


def test_changed_payload_fails(awardable):
    token, data = signed(awardable)
    head, payload, signature = token.split(".")
    middle = len(payload) // 2
    changed = payload[:middle] + ("A" if payload[middle] != "A" else "B") + payload[middle + 1:]
    with pytest.raises(jose.VerificationError, match=r"Invalid signature|Malformed"):
        jose.verify_jwt(f"{head}.{changed}.{signature}")
    with pytest.raises(jose.VerificationError, match="Invalid signature"):
        jose.verify_jwt(f"{head}.{b64({**data, 'name': 'Forged'})}.{signature}")


def test_wrong_key_fails(awardable):
    c = awardable
    credential = issue(c)
    ua, ub = c.programme.issuing_institution, c.programme.partners.exclude(
        institution=c.programme.issuing_institution).first().institution
    keys.ensure_key(ua)
    keys.ensure_key(ub)
    data = ob3.build_credential(credential)
    # Signed by another institution's key, though the header names the issuer's key
    forged = jose.sign_jwt({**data, "issuer": {**data["issuer"], "id": keys.did_for(ub.pk)}}, ub)
    real = jose.sign_jwt(data, ua)
    head = real.split(".")[0]
    _h, _p, forged_signature = forged.split(".")
    with pytest.raises(jose.VerificationError, match="Invalid signature"):
        jose.verify_jwt(f"{head}.{b64(data)}.{forged_signature}")
    # Signed by another institution with its own key in the header: not the credential's issuer
    other_header = b64({"alg": "EdDSA", "typ": "vc+jwt", "kid": keys.verification_method_id(keys.active_key(ub))})
    with pytest.raises(jose.VerificationError, match=r"Invalid signature|Wrong key"):
        jose.verify_jwt(f"{other_header}.{real.split('.')[1]}.{forged_signature}")
    # A key we never published
    unknown = b64({"alg": "EdDSA", "typ": "vc+jwt", "kid": f"{data['issuer']['id']}#nope"})
    with pytest.raises(jose.VerificationError, match="Unknown signing key"):
        jose.verify_jwt(f"{unknown}.{real.split('.')[1]}.{real.split('.')[2]}")
    with pytest.raises(keys.IssuerKeyError):
        jose.sign_jwt(data, ub)  # an institution cannot sign another's credential


def test_expired_credential_fails(awardable):
    token, _data = signed(awardable, validUntil="2020-01-01T00:00:00Z")
    with pytest.raises(jose.VerificationError, match="expired on 2020-01-01"):
        jose.verify_jwt(token)
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
    token, _data = signed(awardable, credential=awardable.enrolments[0].award.credentials.get(), validUntil=later)
    assert jose.verify_jwt(token)["validUntil"] == later


def test_rotation_keeps_old_key_published_and_old_jwts_valid(client, awardable):
    token, data = signed(awardable)
    institution = awardable.programme.issuing_institution
    old = keys.active_key(institution)
    new = keys.rotate_key(institution)
    doc = client.get(f"/issuers/{institution.pk}/did.json").json()
    assert {keys.verification_method_id(old), keys.verification_method_id(new), keys.multikey_method_id(old),
            keys.multikey_method_id(new)} == set(doc["assertionMethod"])
    assert jose.verify_jwt(token) == data
    token2 = jose.sign_jwt(data, institution)
    assert pyjwt.get_unverified_header(token2)["kid"].endswith(new.kid)
    assert jose.verify_jwt(token2) == data


def test_extension_context_is_public_json_ld(client, db):
    response = client.get("/contexts/jointcred-v1.jsonld")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/ld+json")
    terms = response.json()["@context"]
    assert terms["jc"] == "http://127.0.0.1:8000/ns#" and terms["eqfLevel"] == {"@id": "jc:eqfLevel"}


def test_attendance_credential_has_no_ects_but_keeps_the_workload(awardable):
    from ..assessment.conftest import enrol

    attendee = enrol(awardable.edition, 7, track="attendance")
    credential = services.award_decide(actor=awardable.board, enrolment=attendee).credentials.get()
    vc = ob3.build_credential(credential)
    achievement = vc["credentialSubject"]["achievement"]
    assert "creditsAvailable" not in achievement and "creditsEarned" not in vc["credentialSubject"]
    assert achievement["workloadHours"] == list(credential.snapshot["programme"]["workload_hours"])
    assert achievement["typeOfAssessment"] == ["Attendance only, not assessed"]
    assert "result" not in vc["credentialSubject"]
    keys.ensure_key(awardable.programme.issuing_institution)
    assert jose.verify_jwt(jose.sign_jwt(vc, awardable.programme.issuing_institution)) == vc


def test_did_document_publishes_each_key_as_multikey_for_data_integrity_verifiers(client, awardable):
    """An external eddsa-rdfc-2022 verifier reads the Multikey named by the proof from did.json alone."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from certification.vc import integrity
    from certification.vc.issue import DATA_INTEGRITY, issue_signed

    credential = issue(awardable)
    document = issue_signed(credential, DATA_INTEGRITY)
    method_id = document["proof"]["verificationMethod"]
    did = client.get(f"/issuers/{credential.award.issuing_institution_id}/did.json").json()
    assert "https://w3id.org/security/multikey/v1" in did["@context"]
    method = next(m for m in did["verificationMethod"] if m["id"] == method_id)
    assert method["type"] == "Multikey" and method_id in did["assertionMethod"]
    raw = integrity.from_multibase_base58btc(method["publicKeyMultibase"])
    assert raw[:2] == b"\xed\x01" and len(raw) == 34
    public = Ed25519PublicKey.from_public_bytes(raw[2:])
    assert integrity.is_valid(integrity.verify_proof(document, lambda vm: public if vm == method_id else None))
    assert keys.key_for_fragment(method_id.partition("#")[2]) == keys.active_key(credential.award.issuing_institution)
    assert keys.key_for_fragment("z6MkNotAKey") is None

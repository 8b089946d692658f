"""The credential verifier (Data Integrity JSON and VC-JOSE-COSE JWT), the signed-credential service, the public
``POST /api/v1/verify/``, the learner's Open Badge downloads and LinkedIn link, and the public JSON download."""

import base64
import datetime as dt
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.cache import cache
from django.urls import reverse
from joserfc import jws

from certification import services
from certification.vc import integrity, jose, keys, ob3, verifier
from certification.vc.issue import DATA_INTEGRITY, JWT, issue_signed

from ..factories import UserFactory


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()  # the verify throttle counts per IP across tests
    yield
    cache.clear()


def issue(c, i=0):
    return services.award_decide(actor=c.board, enrolment=c.enrolments[i]).credentials.get()


def by_name(results):
    return {r.name: r for r in results}


def failed(results):
    return {r.name: r.message for r in results if not r.ok}


def jwt_payload(token):
    segment = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def sign_as(document, key, kid, secret=None):
    """A compact JWS signed with ``secret`` (default: the key's own private key), header naming ``kid``."""
    header = {"alg": keys.ALG, "typ": jose.TYP, "kid": kid}
    payload = json.dumps(document, separators=(",", ":")).encode()
    with jose._quiet():
        return jws.serialize_compact(header, payload, secret or keys.private_key(key), algorithms=[keys.ALG])


# --- Both proof formats --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("proof", [JWT, DATA_INTEGRITY])
def test_both_formats_verify(awardable, proof):
    signed = issue_signed(issue(awardable), proof)
    assert isinstance(signed, str if proof == JWT else dict)
    results = verifier.verify(signed)
    assert [r.name for r in results] == list(verifier.CHECKS)
    assert verifier.is_valid(results), failed(results)
    assert "Not revoked" in by_name(results)["status"].message
    assert "All 11 EU" in by_name(results)["eu_elements"].message
    if proof == DATA_INTEGRITY:  # JSON text works too, after a round trip with other key order
        assert verifier.is_valid(verifier.verify(json.dumps(signed, sort_keys=True, indent=1)))


def test_issue_signed_creates_the_issuers_key(awardable):
    credential = issue(awardable)
    institution = credential.award.issuing_institution
    assert keys.active_key(institution) is None
    document = issue_signed(credential, DATA_INTEGRITY)
    key = keys.active_key(institution)
    assert document["proof"]["verificationMethod"] == keys.multikey_method_id(key)
    assert jose.verify_jwt(issue_signed(credential, JWT))["id"] == ob3.credential_url(credential)
    with pytest.raises(ValueError):
        issue_signed(credential, "pdf")


# --- Tampering --------------------------------------------------------------------------------------------------


def test_changed_field_fails_the_signature_data_integrity(awardable):
    document = issue_signed(issue(awardable), DATA_INTEGRITY)
    changed = json.loads(json.dumps(document))
    changed["credentialSubject"]["achievement"]["eqfLevel"] = 7
    assert failed(verifier.verify(changed)) == {
        "signature": "The signature does not match: the credential was changed after signing, or it was signed with "
                     "another key."}
    text = json.dumps(document)
    for position in (text.index('"name"') + 9, text.index("proofValue") + 20, text.index('"created"') + 16):
        tampered = text[:position] + ("X" if text[position] != "X" else "Y") + text[position + 1:]
        assert not verifier.is_valid(verifier.verify(tampered)), position


def test_changed_character_anywhere_in_a_jwt_fails(awardable):
    token = issue_signed(issue(awardable), JWT)
    payload = jwt_payload(token)
    payload["name"] = payload["name"] + "!"
    forged = ".".join([token.split(".")[0], base64.urlsafe_b64encode(
        json.dumps(payload).encode()).decode().rstrip("="), token.split(".")[2]])
    assert "Invalid signature" in failed(verifier.verify(forged))["signature"]
    for position in range(0, len(token), 7):
        if token[position] == ".":
            continue
        tampered = token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1:]
        assert not verifier.is_valid(verifier.verify(tampered)), position
    last = token[:-1] + ("A" if token[-1] != "A" else "Q")  # even a change in the unused bits of the last character
    assert "signature" in failed(verifier.verify(last))


# --- Keys -------------------------------------------------------------------------------------------------------


def test_wrong_key_fails(awardable, world):
    c = awardable
    credential = issue(c)
    issuer = credential.award.issuing_institution
    other = world.ub if issuer.pk != world.ub.pk else world.ua
    own, foreign = keys.ensure_key(issuer), keys.ensure_key(other)
    document = ob3.build_credential(credential)

    # Signed with another institution's key, which says so: the key is not the issuer's.
    token = sign_as(document, foreign, keys.verification_method_id(foreign))
    assert "Wrong key" in failed(verifier.verify(token))["issuer_key"]
    # Naming the issuer's key but signed with another: the signature fails.
    token = sign_as(document, own, keys.verification_method_id(own), secret=keys.private_key(foreign))
    assert set(failed(verifier.verify(token))) == {"signature"}
    # Data Integrity: a stranger's key under the issuer's verification method.
    signed = integrity.add_proof(document, Ed25519PrivateKey.generate(), keys.verification_method_id(own))
    assert "signed with another key" in failed(verifier.verify(signed))["signature"]
    # A key this service never published.
    signed = integrity.add_proof(document, Ed25519PrivateKey.generate(), keys.did_for(issuer.pk) + "#unknown")
    assert "Unknown signing key" in failed(verifier.verify(signed))["issuer_key"]


# --- Dates ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("proof", [JWT, DATA_INTEGRITY])
def test_expired_valid_until_fails(awardable, proof):
    credential = issue(awardable)
    institution = credential.award.issuing_institution
    key = keys.ensure_key(institution)
    document = {**ob3.build_credential(credential), "validUntil": "2025-01-31T00:00:00Z"}
    if proof == JWT:
        signed = jose.sign_jwt(document, institution)
    else:
        signed = integrity.add_proof(document, keys.private_key(key).private_key, keys.verification_method_id(key))
    assert failed(verifier.verify(signed)) == {"dates": "The credential expired on 2025-01-31T00:00:00Z."}
    later = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert "not valid before" in failed(verifier.verify(signed, now=later))["dates"]


# --- Revocation -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("proof", [JWT, DATA_INTEGRITY])
def test_revoked_credential_fails_the_status_check(awardable, proof):
    c = awardable
    issue(c, 1)  # another credential of the same list stays valid
    credential = issue(c, 0)
    signed = issue_signed(credential, proof)
    other = issue_signed(c.enrolments[1].award.credentials.get(), proof)
    assert verifier.is_valid(verifier.verify(signed))
    services.credential_revoke(actor=c.board, credential=credential, reason="Awarded in error")
    message = failed(verifier.verify(signed))
    assert list(message) == ["status"] and message["status"].startswith("The credential has been revoked")
    assert verifier.is_valid(verifier.verify(other))


# --- EU elements ------------------------------------------------------------------------------------------------


def test_missing_eu_element_fails_with_its_name(awardable):
    credential = issue(awardable)
    institution = credential.award.issuing_institution
    keys.ensure_key(institution)
    document = ob3.build_credential(credential)
    del document["credentialSubject"]["achievement"]["typeOfQualityAssurance"]
    document["credentialSubject"]["achievement"]["alignment"] = []
    message = failed(verifier.verify(jose.sign_jwt(document, institution)))
    assert message == {"eu_elements": "Missing EU elements: (6) Learning outcomes, (11) Type of quality assurance."}


# --- Public API -------------------------------------------------------------------------------------------------


def test_post_verify_answers_the_checks(awardable, client):
    credential = issue(awardable)
    url = reverse("api-verify-credential")
    assert url == "/api/v1/verify/"
    token = issue_signed(credential, JWT)
    response = client.post(url, {"credential": token}, content_type="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["valid"] is True and body["failed"] == []
    assert [c["name"] for c in body["checks"]] == list(verifier.CHECKS) and all(c["ok"] for c in body["checks"])

    document = issue_signed(credential, DATA_INTEGRITY)
    assert client.post(url, {"credential": document}, content_type="application/json").json()["valid"] is True
    document["name"] = "Something else"
    body = client.post(url, {"credential": document}, content_type="application/json").json()
    assert body["valid"] is False and body["failed"] == ["signature"]
    assert "changed after signing" in next(c["message"] for c in body["checks"] if c["name"] == "signature")

    for bad in ({}, {"credential": 42}, {"credential": ""}, {"credential": "not a credential"}, ["x"]):
        assert client.post(url, bad, content_type="application/json").status_code == 400, bad
    assert client.post(url, "{broken", content_type="application/json").status_code == 400
    # The GET route of the other verify endpoint is untouched.
    assert client.get(reverse("api-verify-detail", args=[credential.credential_id])).status_code == 200


# --- Learner downloads, LinkedIn, public download ---------------------------------------------------------------


def test_learner_downloads_both_formats_and_others_get_404(awardable, client, world):
    c = awardable
    credential = issue(c)
    client.force_login(c.enrolments[0].learner)
    html = client.get(reverse("my-credentials")).content.decode()
    json_url = reverse("credential-open-badge-json", args=[credential.pk])
    jwt_url = reverse("credential-open-badge-jwt", args=[credential.pk])
    assert json_url in html and jwt_url in html and "Open Badge (JSON)" in html and "Open Badge (JWT)" in html
    assert 'rel="noopener"' in html and reverse("credential-linkedin", args=[credential.pk]) in html

    response = client.get(json_url)
    assert response.status_code == 200 and response["Content-Disposition"].endswith('.json"')
    assert verifier.is_valid(verifier.verify(json.loads(response.content)))
    response = client.get(jwt_url)
    assert response.status_code == 200 and response["Content-Type"] == "application/vc+jwt"
    assert verifier.is_valid(verifier.verify(response.content.decode()))

    for user in (c.enrolments[1].learner, UserFactory()):
        client.force_login(user)
        for name in ("credential-open-badge-json", "credential-open-badge-jwt", "credential-linkedin"):
            assert client.get(reverse(name, args=[credential.pk])).status_code == 404, (user, name)

    client.force_login(c.board)
    services.credential_revoke(actor=c.board, credential=credential, reason="Awarded in error")
    client.force_login(c.enrolments[0].learner)
    assert client.get(json_url).status_code == 404  # only valid credentials


def test_linkedin_link_contains_the_credential_url(awardable, client):
    c = awardable
    credential = issue(c)
    client.force_login(c.enrolments[0].learner)
    response = client.get(reverse("credential-linkedin", args=[credential.pk]))
    assert response.status_code == 302
    parts = urlsplit(response["Location"])
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.linkedin.com", "/profile/add")
    query = parse_qs(parts.query)
    assert query["startTask"] == ["CERTIFICATION_NAME"]
    assert query["certUrl"] == [ob3.credential_url(credential)]
    assert query["certId"] == [credential.credential_id]
    assert query["organizationName"] == [credential.snapshot["issuer"]["legal_name"]]
    issued = dt.datetime.fromisoformat(credential.snapshot["issued_at"])
    assert query["issueYear"] == [str(issued.year)] and query["issueMonth"] == [str(issued.month)]
    assert query["name"] == [ob3.build_credential(credential)["name"]]


def test_public_verify_page_offers_the_json_badge_of_valid_credentials(awardable, client):
    c = awardable
    credential = issue(c)
    url = reverse("verify-open-badge", args=[credential.credential_id])
    assert url in client.get(reverse("verify", args=[credential.credential_id])).content.decode()
    response = client.get(url)
    assert response.status_code == 200
    assert verifier.is_valid(verifier.verify(json.loads(response.content)))
    services.credential_revoke(actor=c.board, credential=credential, reason="Awarded in error")
    assert url not in client.get(reverse("verify", args=[credential.credential_id])).content.decode()
    assert client.get(url).status_code == 404
    assert client.get(reverse("verify-open-badge", args=["nonexistent-credential-id"])).status_code == 404

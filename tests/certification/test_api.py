"""Certification API: scoped awards (isolation, constant queries), awarding by the board only (tokens refused,
idempotent), credentials with their documents and hashes, public verification (revoked, superseded, throttled)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from certification import services
from certification import snapshot as snap
from certification.models import Award, Credential, Document, DocumentStatus
from certification.rest.serializers import document_download_url
from certification.rest.views import VerifyRateThrottle

from ..assessment.conftest import enrol
from ..factories import InstitutionFactory

AWARDS = "/api/v1/awards/"


def credential_url(credential) -> str:
    return f"/api/v1/credentials/{credential.credential_id}/"


def verify_url(credential) -> str:
    return f"/api/v1/verify/{credential.credential_id}/"


def session(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def issue(c, enrolment=None) -> Credential:
    return services.award_decide(actor=c.board, enrolment=enrolment or c.enrolments[0]).credentials.get()


# --- Listing and isolation -----------------------------------------------------------------------------------


def test_partners_see_the_awards_of_their_programmes_and_nobody_else_does(awardable, world, token_client):
    c = awardable
    credential = issue(c)
    award = credential.award
    clients = {i.short_name: token_client(i) for i in (world.ua, world.ub, world.uc, world.ea)}
    for name in ("UA", "UB"):
        body = clients[name].get(AWARDS).json()
        assert [a["id"] for a in body["results"]] == [str(award.pk)]
        row = body["results"][0]
        assert row["holder"] == "Learner0 Test" and row["programme_code"] == "grading"
        assert row["credentials"][0]["credential_id"] == credential.credential_id
        assert row["credentials"][0]["status"] == "valid"
        assert clients[name].get(f"{AWARDS}{award.pk}/").status_code == 200
        assert clients[name].get(credential_url(credential)).status_code == 200
    # UC (consortium B) and the associated employer EA (not a partner of this programme) see nothing.
    for name in ("UC", "EA"):
        assert clients[name].get(AWARDS).json()["results"] == []
        assert clients[name].get(f"{AWARDS}{award.pk}/").status_code == 404
        assert clients[name].get(credential_url(credential)).status_code == 404
    # A token without the awards:read scope is refused.
    no_scope = token_client(InstitutionFactory(), scopes=["results:read"])
    assert no_scope.get(AWARDS).status_code == 403


def test_people_see_what_the_policy_allows(awardable, world):
    c = awardable
    credential = issue(c)
    award = credential.award
    holder = award.enrolment.learner
    other_learner = c.enrolments[1].learner
    expectations = {
        c.board: [str(award.pk)],
        c.leader: [str(award.pk)],
        world.people["UB_students"]: [str(award.pk)],  # student administration of a partner
        world.people["UC_students"]: [],
    }
    for user, expected in expectations.items():
        assert [a["id"] for a in session(user).get(AWARDS).json()["results"]] == expected, user
    # Learners do not list awards (the API serves partner systems and staff) but may read their own credential.
    assert session(holder).get(AWARDS).status_code == 403
    assert session(holder).get(credential_url(credential)).status_code == 200
    assert session(holder).get(f"{AWARDS}{award.pk}/").status_code == 200
    assert session(other_learner).get(credential_url(credential)).status_code == 404
    assert session(world.people["UC_students"]).get(credential_url(credential)).status_code == 404


def test_filters(awardable, token_client, world):
    c = awardable
    issue(c, c.enrolments[0])
    issue(c, enrol(c.edition, 9, track="attendance"))
    client = token_client(world.ua)
    assert len(client.get(AWARDS, {"edition": str(c.edition.pk)}).json()["results"]) == 2
    assert [a["kind"] for a in client.get(AWARDS, {"kind": "attendance"}).json()["results"]] == ["attendance"]
    assert client.get(AWARDS, {"enrolment": str(c.enrolments[0].pk)}).json()["count"] == 1


def test_listing_keeps_constant_queries(awardable, world, token_client):
    c = awardable
    client = token_client(world.ua)
    extra = [enrol(c.edition, 100 + i, track="attendance") for i in range(30)]

    client.get(AWARDS)  # the token's first use is recorded once

    def count(n):
        for enrolment in extra[:n]:
            if not Award.objects.filter(enrolment=enrolment).exists():
                issue(c, enrolment)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(AWARDS)
        assert response.status_code == 200 and response.json()["count"] == n
        return len(queries)

    assert count(5) == count(30)


# --- Awarding ------------------------------------------------------------------------------------------------


def test_tokens_never_award(awardable, world, token_client):
    c = awardable
    for institution in (world.ua, world.ub):  # even the institutions running the programme, with every scope
        response = token_client(institution).post(AWARDS, {"enrolment": str(c.enrolments[0].pk)})
        assert response.status_code == 403
    assert not Award.objects.exists()


def test_only_the_board_awards(awardable, world):
    c = awardable
    for user in (c.leader, c.examiner_ua, world.people["UA_students"], world.people["UA_admin"],
                 c.enrolments[0].learner):
        response = session(user).post(AWARDS, {"enrolment": str(c.enrolments[0].pk)})
        assert response.status_code == 403, user
    assert APIClient().post(AWARDS, {"enrolment": str(c.enrolments[0].pk)}).status_code in (401, 403)
    assert not Award.objects.exists()


def test_the_board_awards_once(awardable):
    c = awardable
    board = session(c.board)
    first = board.post(AWARDS, {"enrolment": str(c.enrolments[0].pk), "classification": "Very good"})
    assert first.status_code == 201, first.json()
    body = first.json()
    assert body["kind"] == "qualification" and body["classification"] == "Very good"
    assert [v["version"] for v in body["credentials"]] == [1]
    again = board.post(AWARDS, {"enrolment": str(c.enrolments[0].pk)})
    assert again.status_code == 200 and again.json() == body
    assert Award.objects.count() == 1 and Credential.objects.count() == 1
    assert Document.objects.filter(credential__award_id=body["id"]).count() == 2  # certificate and supplement


def test_awarding_refusals_name_the_reasons(awardable):
    c = awardable
    board = session(c.board)
    ungraded = enrol(c.edition, 50)
    refused = board.post(AWARDS, {"enrolment": str(ungraded.pk)})
    assert refused.status_code == 400 and refused.json()["reasons"]
    c.programme.qa_scheme = ""
    c.programme.save()
    refused = board.post(AWARDS, {"enrolment": str(c.enrolments[0].pk)})
    assert refused.status_code == 400
    assert refused.json()["reasons"] == ["(11) Type of quality assurance"]
    assert board.post(AWARDS, {"enrolment": "00000000-0000-0000-0000-000000000000"}).status_code == 400
    assert board.post(AWARDS, {}).status_code == 400
    assert not Award.objects.exists()


# --- Credentials and their documents ---------------------------------------------------------------------------


def test_credential_shows_documents_with_hashes_and_links(awardable, world, token_client, render_all):
    c = awardable
    credential = issue(c)
    client = token_client(world.ub)
    queued = client.get(credential_url(credential)).json()
    assert {d["status"] for d in queued["documents"]} == {"queued"}
    assert {d["sha256"] for d in queued["documents"]} == {""}
    assert {d["download_url"] for d in queued["documents"]} == {None}

    documents = render_all(credential)
    body = client.get(credential_url(credential)).json()
    assert body["credential_id"] == credential.credential_id
    assert (body["status"], body["version"], body["kind"]) == ("valid", 1, "qualification")
    assert body["verification_url"].endswith(f"/verify/{credential.credential_id}/")
    assert body["verification_api"] == f"http://testserver{verify_url(credential)}"
    by_id = {d["id"]: d for d in body["documents"]}
    assert set(by_id) == {str(d.pk) for d in documents}
    for document in documents:
        row = by_id[str(document.pk)]
        assert row["status"] == "ready" and row["sha256"] == document.sha256 and len(row["sha256"]) == 64
        path = document_download_url(None, document)  # the browser download, when the pages define it
        assert row["download_url"] == (f"http://testserver{path}" if path else None)


def test_credential_versions_after_revocation_and_reissue(awardable, token_client, world):
    c = awardable
    credential = issue(c)
    new = services.credential_reissue(actor=c.board, credential=credential, reason="Name corrected")
    client = token_client(world.ua)
    old = client.get(credential_url(credential)).json()
    assert (old["status"], old["superseded_by"]) == ("superseded", new.credential_id)
    award = client.get(f"{AWARDS}{credential.award_id}/").json()
    assert [(v["version"], v["status"]) for v in award["credentials"]] == [(2, "valid"), (1, "superseded")]


# --- Public verification -------------------------------------------------------------------------------------


def test_verification_is_public_and_shows_the_elements(awardable, world):
    c = awardable
    credential = issue(c)
    anonymous = APIClient()
    response = anonymous.get(verify_url(credential))
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["valid"], body["version"]) == ("valid", True, 1)
    assert body["revoked_at"] is None and body["revocation_reason"] == ""
    assert body["holder"] == "Learner0 Test" and body["title"] == "Grading"
    assert [b["legal_name"] for b in body["awarding_bodies"]] == [world.ua.legal_name, world.ub.legal_name]
    assert body["issued_on"] == credential.issued_at.date().isoformat()
    assert [(e["number"], e["label"]) for e in body["elements"]] == [
        (i, label) for i, (_key, label) in enumerate(snap.ELEMENTS, start=1)
    ]
    assert all(e["value"] for e in body["elements"])
    assert body["elements"][10]["value"] == c.programme.qa_scheme
    # Nothing private: no e-mail address, no signature image.
    text = response.content.decode()
    assert c.enrolments[0].application.email not in text and "signature" not in text
    # A bad token or a session changes nothing (no authentication on this endpoint).
    anonymous.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert anonymous.get(verify_url(credential)).json() == body
    assert APIClient().get("/api/v1/verify/AAAAAAAAAAAAAAAAAAAAAA/").status_code == 404


def test_verification_lists_the_published_hashes(awardable, render_all):
    c = awardable
    credential = issue(c)
    documents = render_all(credential)
    body = APIClient().get(verify_url(credential)).json()
    assert sorted(d["sha256"] for d in body["documents"]) == sorted(d.sha256 for d in documents)
    assert all(d.status == DocumentStatus.READY for d in documents)


def test_verification_shows_revocation_and_supersession(awardable):
    c = awardable
    credential = issue(c)
    services.credential_revoke(actor=c.board, credential=credential, reason="Awarded in error")
    body = APIClient().get(verify_url(credential)).json()
    assert (body["status"], body["valid"], body["revocation_reason"]) == ("revoked", False, "Awarded in error")
    assert body["revoked_at"]

    other = issue(c, c.enrolments[1])
    newer = services.credential_reissue(actor=c.board, credential=other, reason="Name corrected")
    body = APIClient().get(verify_url(other)).json()
    assert (body["status"], body["valid"], body["superseded_by"]) == ("superseded", False, newer.credential_id)
    assert APIClient().get(verify_url(newer)).json()["valid"] is True


@pytest.fixture
def strict_verify_rate(monkeypatch):
    monkeypatch.setattr(VerifyRateThrottle, "THROTTLE_RATES", {"verify": "3/minute"})


def test_verification_is_throttled(awardable, strict_verify_rate):
    credential = issue(awardable)
    client = APIClient()
    assert [client.get(verify_url(credential)).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_schema_lists_the_certification_api(db):
    paths = APIClient().get("/api/schema/?format=json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/awards/"])
    assert "get" in paths["/api/v1/credentials/{credential_id}/"]
    verify = paths["/api/v1/verify/{credential_id}/"]["get"]
    assert verify.get("security") in (None, [], [{}])  # no authentication

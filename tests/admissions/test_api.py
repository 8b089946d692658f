"""The admissions partner API: applications (read, filter, decide), enrolments and registrations."""

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from admissions import services
from admissions.models import Application, ApplicationStatus, InstitutionRegistration
from consortium.models import AuditEvent

from ..factories import ApplicationDocumentFactory, ApplicationFactory
from .test_services import draft, fresh, make_admissions, submit, who

API = "/api/v1"
S = ApplicationStatus
ALL_ADMISSIONS = ["applications:read", "applications:write", "enrolments:read", "enrolments:write"]


@pytest.fixture
def adm(world):
    """Programme of CA led by UA (issuing); UB reviews and registers learners on its platform; EA associated."""
    return make_admissions(world)


def session(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def ids(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def enrol(a, **fields) -> Application:
    application = submit(a, **fields)
    services.application_admit(actor=who(a.w, "UB_students"), application=application)
    services.application_accept_offer(actor=fresh(application.applicant), application=application)
    return application


# --- 1. Isolation and who sees what ------------------------------------------------------------------------


class TestIsolation:
    def test_other_consortium_sees_nothing(self, world, adm, token_client):
        application = submit(adm)
        enrolled = enrol(adm)
        uc = token_client(world.uc, ALL_ADMISSIONS)
        assert ids(uc.get(f"{API}/applications/")) == set()
        assert uc.get(f"{API}/applications/{application.pk}/").status_code == 404
        assert ids(uc.get(f"{API}/enrolments/")) == set()
        assert uc.get(f"{API}/enrolments/{enrolled.enrolment.pk}/").status_code == 404
        for transition in ("review", "admit", "waitlist", "withdraw"):
            assert uc.post(f"{API}/applications/{application.pk}/{transition}/").status_code == 404
        assert uc.post(f"{API}/applications/{application.pk}/reject/", {"reason": "x"}).status_code == 404
        assert session(who(world, "UC_students")).get(f"{API}/applications/").json()["count"] == 0
        assert status_of(application) == S.SUBMITTED

    def test_participating_partner_reads_but_cannot_decide(self, world, adm, token_client):
        application = submit(adm)
        ua = token_client(world.ua, ALL_ADMISSIONS)
        assert ids(ua.get(f"{API}/applications/")) == {str(application.pk)}
        assert ua.get(f"{API}/applications/{application.pk}/").status_code == 200
        response = ua.post(f"{API}/applications/{application.pk}/admit/")
        assert response.status_code == 403
        assert response.json()["detail"]
        assert ua.post(f"{API}/applications/{application.pk}/reject/", {"reason": "No."}).status_code == 403
        assert status_of(application) == S.SUBMITTED

    def test_reviewing_institution_and_followers(self, world, adm, token_client):
        application = submit(adm)
        expected = {str(application.pk)}
        assert ids(token_client(world.ub, ["applications:read"]).get(f"{API}/applications/")) == expected
        for person in ("UB_students", "UA_students", "CA_admin"):
            assert ids(session(who(world, person)).get(f"{API}/applications/")) == expected
        for person in ("UB_staff", "learner"):
            assert session(who(world, person)).get(f"{API}/applications/").status_code == 403

    def test_drafts_stay_the_learners_own(self, world, adm, token_client):
        draft(adm)
        submitted = submit(adm)
        assert ids(token_client(world.ub, ["applications:read"]).get(f"{API}/applications/")) == {str(submitted.pk)}

    def test_programme_without_the_partner_is_invisible(self, world, adm, token_client):
        other = make_admissions(world)
        other.programme.partners.filter(institution=world.ub).delete()
        hidden = submit(other)
        ub = token_client(world.ub, ["applications:read"])
        assert str(hidden.pk) not in ids(ub.get(f"{API}/applications/"))
        assert ub.get(f"{API}/applications/{hidden.pk}/").status_code == 404


def status_of(application) -> str:
    return Application.objects.values_list("status", flat=True).get(pk=application.pk)


# --- 2. Documents: labels and kinds, never files -----------------------------------------------------------


class TestDocuments:
    def test_reviewer_sees_labels_and_kinds_but_no_file(self, world, adm, token_client):
        application = submit(adm)
        body = token_client(world.ub, ["applications:read"]).get(f"{API}/applications/{application.pk}/").json()
        assert [(d["label"], d["kind"]) for d in body["documents"]] == [("Proof of English (B2)", "pdf")]
        assert set(body["documents"][0]) == {"id", "label", "kind", "size", "criterion", "created_at"}
        text = json.dumps(body)
        stored = application.documents.get().file.name
        assert stored not in text
        assert "/media/" not in text and "diploma" not in text

    def test_other_partners_see_documents_only_after_the_decision(self, world, adm, token_client):
        application = submit(adm)
        ua = token_client(world.ua, ["applications:read"])
        assert ua.get(f"{API}/applications/{application.pk}/").json()["documents"] is None
        services.application_admit(actor=who(world, "UB_students"), application=application)
        documents = ua.get(f"{API}/applications/{application.pk}/").json()["documents"]
        assert [d["label"] for d in documents] == ["Proof of English (B2)"]


# --- 3. Scopes -------------------------------------------------------------------------------------------


class TestScopes:
    def test_read_scope_reads_but_cannot_decide(self, world, adm, token_client):
        application = submit(adm)
        ub = token_client(world.ub, ["applications:read"])
        assert ub.get(f"{API}/applications/").status_code == 200
        assert ub.post(f"{API}/applications/{application.pk}/review/").status_code == 403
        assert status_of(application) == S.SUBMITTED

    def test_enrolment_scope_does_not_open_applications(self, world, adm, token_client):
        submit(adm)
        client = token_client(world.ub, ["enrolments:read", "enrolments:write"])
        assert client.get(f"{API}/applications/").status_code == 403
        assert client.get(f"{API}/enrolments/").status_code == 200

    def test_applications_scope_does_not_open_enrolments(self, world, adm, token_client):
        application = enrol(adm)
        client = token_client(world.ub, ["applications:read", "applications:write"])
        assert client.get(f"{API}/enrolments/").status_code == 403
        assert client.get(f"{API}/enrolments/{application.enrolment.pk}/").status_code == 403

    def test_registration_needs_the_write_scope(self, world, adm, token_client):
        application = enrol(adm)
        client = token_client(world.ub, ["enrolments:read"])
        url = f"{API}/enrolments/{application.enrolment.pk}/registrations/{world.ub.pk}/"
        assert client.patch(url, {"status": "registered", "external_student_number": "S1"}).status_code == 403
        assert InstitutionRegistration.objects.get(enrolment=application.enrolment, institution=world.ub).status == (
            "pending")

    def test_without_credentials(self, adm):
        assert APIClient().get(f"{API}/applications/").status_code in (401, 403)


# --- 4. Transitions ------------------------------------------------------------------------------------------


@pytest.fixture
def ub(world, token_client):
    return token_client(world.ub, ALL_ADMISSIONS)


class TestTransitions:
    def test_review_then_admit(self, world, adm, ub):
        application = submit(adm)
        response = ub.post(f"{API}/applications/{application.pk}/review/")
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "under_review"
        response = ub.post(f"{API}/applications/{application.pk}/admit/", {"reason": "Meets every criterion."})
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "admitted"
        assert body["decision_reason"] == "Meets every criterion."
        assert body["offer_deadline"]
        event = AuditEvent.objects.get(action="application.admitted", object_id=str(application.pk))
        assert event.via == "api"
        assert event.actor is None
        assert event.actor_label.startswith("token:") and event.actor_label.endswith("@UB")
        assert event.consortium_id == world.ca.id

    def test_illegal_transition_is_409_with_detail(self, adm, ub):
        application = submit(adm)
        assert ub.post(f"{API}/applications/{application.pk}/reject/", {"reason": "No degree."}).status_code == 200
        for transition, body in (("admit", {}), ("review", {}), ("waitlist", {}), ("reject", {"reason": "x"}),
                                 ("request-info", {"message": "More?"})):
            response = ub.post(f"{API}/applications/{application.pk}/{transition}/", body)
            assert response.status_code == 409, (transition, response.content)
            assert "rejected" in response.json()["detail"]
        assert status_of(application) == S.REJECTED

    def test_reject_without_reason_is_400_with_field_message(self, adm, ub):
        application = submit(adm)
        for body in ({}, {"reason": ""}, {"reason": "   "}):
            response = ub.post(f"{API}/applications/{application.pk}/reject/", body)
            assert response.status_code == 400
            assert response.json()["reason"]
        assert status_of(application) == S.SUBMITTED

    def test_request_info_needs_a_message(self, adm, ub, django_capture_on_commit_callbacks):
        from django.core import mail

        application = submit(adm)
        response = ub.post(f"{API}/applications/{application.pk}/request-info/", {})
        assert response.status_code == 400
        assert response.json()["message"]
        with django_capture_on_commit_callbacks(execute=True):
            response = ub.post(f"{API}/applications/{application.pk}/request-info/",
                               {"message": "Please send your transcript."})
        assert response.status_code == 200
        assert response.json()["status"] == "info_requested"
        assert mail.outbox[-1].body.startswith("Please send your transcript.")

    def test_reason_too_long_is_400(self, adm, ub):
        application = submit(adm)
        response = ub.post(f"{API}/applications/{application.pk}/waitlist/", {"reason": "x" * 5000})
        assert response.status_code == 400
        assert "reason" in response.json()

    def test_admit_when_full_is_400_with_detail(self, world, ub):
        a = make_admissions(world, capacity=1)
        first, second = submit(a), submit(a)
        assert ub.post(f"{API}/applications/{first.pk}/admit/").status_code == 200
        response = ub.post(f"{API}/applications/{second.pk}/admit/")
        assert response.status_code == 400
        assert "full" in response.json()["detail"]
        response = ub.post(f"{API}/applications/{second.pk}/waitlist/", {"reason": "Full."})
        assert response.json()["status"] == "waitlisted"
        response = ub.post(f"{API}/applications/{first.pk}/withdraw/", {"reason": "Learner emailed us."})
        assert response.status_code == 200
        assert response.json()["status"] == "withdrawn"
        assert status_of(second) == S.ADMITTED  # moved up from the waiting list

    def test_reviewer_person_decides_through_the_session(self, world, adm):
        application = submit(adm)
        client = session(who(world, "UB_students"))
        response = client.post(f"{API}/applications/{application.pk}/waitlist/", {"reason": "Eligible."})
        assert response.status_code == 200
        event = AuditEvent.objects.get(action="application.waitlisted")
        assert event.actor == world.people["UB_students"]
        assert event.via == "api"

    def test_unknown_application_is_404(self, ub, adm):
        assert ub.post(f"{API}/applications/00000000-0000-0000-0000-000000000000/admit/").status_code == 404


# --- 5. Filters, search and ordering -------------------------------------------------------------------------


class TestFilters:
    def test_filters(self, world, adm, ub):
        be = submit(adm, nationality="BE", family_names="Peeters")
        pl = submit(adm, nationality="PL", route="alternative", family_names="Nowak")
        waitlisted = submit(adm, nationality="NL", family_names="Bakker")
        services.application_waitlist(actor=who(world, "UB_students"), application=waitlisted)
        other = make_admissions(world)
        elsewhere = submit(other, email=be.email)

        def q(query):
            return ids(ub.get(f"{API}/applications/?{query}"))

        assert q(f"edition={adm.edition.pk}") == {str(be.pk), str(pl.pk), str(waitlisted.pk)}
        assert q(f"edition={other.edition.pk}") == {str(elsewhere.pk)}
        assert q("status=waitlisted") == {str(waitlisted.pk)}
        assert q("nationality=PL") == {str(pl.pk)}
        assert q("route=alternative") == {str(pl.pk)}
        assert q("possible_duplicate=false") == {str(be.pk), str(pl.pk), str(waitlisted.pk), str(elsewhere.pk)}
        assert q("search=nowak") == {str(pl.pk)}
        assert q(f"search={be.email}") == {str(be.pk), str(elsewhere.pk)}
        ordered = ub.get(f"{API}/applications/?edition={adm.edition.pk}&ordering=family_names").json()["results"]
        assert [r["family_names"] for r in ordered] == ["Bakker", "Nowak", "Peeters"]

    def test_possible_duplicate_filter(self, adm, ub):
        first = submit(adm, email="same@example.org")
        second = submit(adm, email="same@example.org")
        single = submit(adm)
        assert ids(ub.get(f"{API}/applications/?possible_duplicate=true")) == {str(first.pk), str(second.pk)}
        assert ids(ub.get(f"{API}/applications/?possible_duplicate=false")) == {str(single.pk)}

    def test_updated_since(self, adm, ub):
        old = submit(adm)
        recent = submit(adm)
        Application.objects.filter(pk=old.pk).update(updated_at=timezone.now() - dt.timedelta(days=3))
        since = (timezone.now() - dt.timedelta(days=1)).isoformat()
        response = ub.get(f"{API}/applications/", {"updated_at__gte": since})
        assert ids(response) == {str(recent.pk)}

    def test_invalid_filter_value_is_400(self, adm, ub):
        assert ub.get(f"{API}/applications/?status=nonsense").status_code == 400


# --- 6. Enrolments and registrations ----------------------------------------------------------------------


class TestEnrolments:
    def test_list_with_nested_registrations(self, world, adm, token_client):
        application = enrol(adm, given_names="Maria", family_names="Kowalska")
        submit(adm)  # not enrolled
        for client in (token_client(world.ua, ["enrolments:read"]), token_client(world.ub, ["enrolments:read"])):
            response = client.get(f"{API}/enrolments/")
            assert response.status_code == 200
            rows = response.json()["results"]
            assert len(rows) == 1
            row = rows[0]
            assert row["application"] == str(application.pk)
            assert row["status"] == "enrolled"
            assert row["family_names"] == "Kowalska"
            assert {r["institution_short_name"]: r["status"] for r in row["registrations"]} == {
                "UA": "pending", "UB": "pending"}

    def test_partner_reports_its_own_registration(self, world, adm, ub):
        application = enrol(adm)
        url = f"{API}/enrolments/{application.enrolment.pk}/registrations/{world.ub.pk}/"
        response = ub.patch(url, {"status": "registered", "external_student_number": "UB-2026-0042"})
        assert response.status_code == 200, response.content
        registrations = {r["institution_short_name"]: r for r in response.json()["registrations"]}
        assert registrations["UB"]["status"] == "registered"
        assert registrations["UB"]["external_student_number"] == "UB-2026-0042"
        assert registrations["UA"]["status"] == "pending"
        stored = InstitutionRegistration.objects.get(enrolment=application.enrolment, institution=world.ub)
        assert (stored.status, stored.external_student_number) == ("registered", "UB-2026-0042")
        event = AuditEvent.objects.get(action="enrolment.registration_updated")
        assert event.via == "api"
        assert event.institution_id == world.ub.id
        # A partial update keeps what it does not mention.
        response = ub.patch(url, {"message": "Welcome mail sent."})
        assert response.status_code == 200
        stored.refresh_from_db()
        assert (stored.status, stored.external_student_number, stored.message) == (
            "registered", "UB-2026-0042", "Welcome mail sent.")

    def test_registered_needs_a_student_number(self, world, adm, ub):
        application = enrol(adm)
        url = f"{API}/enrolments/{application.enrolment.pk}/registrations/{world.ub.pk}/"
        response = ub.patch(url, {"status": "registered"})
        assert response.status_code == 400
        assert response.json()["external_student_number"]
        response = ub.patch(url, {"status": "enrolled-ish"})
        assert response.status_code == 400
        assert "status" in response.json()

    def test_another_institutions_registration_is_refused(self, world, adm, ub, token_client):
        application = enrol(adm)
        enrolment = application.enrolment
        response = ub.patch(f"{API}/enrolments/{enrolment.pk}/registrations/{world.ua.pk}/",
                            {"status": "failed", "message": "not ours"})
        assert response.status_code == 403
        ua = token_client(world.ua, ALL_ADMISSIONS)
        response = ua.patch(f"{API}/enrolments/{enrolment.pk}/registrations/{world.ub.pk}/", {"status": "failed"})
        assert response.status_code == 403
        uc = token_client(world.uc, ALL_ADMISSIONS)
        response = uc.patch(f"{API}/enrolments/{enrolment.pk}/registrations/{world.uc.pk}/", {"status": "failed"})
        assert response.status_code == 404
        # EA takes part but its platform registers nobody: there is no registration to report.
        ea = token_client(world.ea, ALL_ADMISSIONS)
        response = ea.patch(f"{API}/enrolments/{enrolment.pk}/registrations/{world.ea.pk}/", {"status": "failed"})
        assert response.status_code == 404
        assert set(InstitutionRegistration.objects.filter(enrolment=enrolment).values_list("status", flat=True)) == {
            "pending"}

    def test_issuing_institution_reports_too(self, world, adm, token_client):
        application = enrol(adm)
        ua = token_client(world.ua, ALL_ADMISSIONS)
        response = ua.patch(f"{API}/enrolments/{application.enrolment.pk}/registrations/{world.ua.pk}/",
                            {"status": "registered", "external_student_number": "r0123456"})
        assert response.status_code == 200

    def test_filters(self, world, adm, ub):
        first, second = enrol(adm), enrol(adm)
        InstitutionRegistration.objects.filter(enrolment=first.enrolment, institution=world.ub).update(
            status="registered", external_student_number="x")
        response = ub.get(f"{API}/enrolments/", {"registration_institution": str(world.ub.pk),
                                                 "registration_status": "pending"})
        assert ids(response) == {str(second.enrolment.pk)}  # first is pending at UA only
        assert ids(ub.get(f"{API}/enrolments/", {"registration_status": "registered"})) == {str(first.enrolment.pk)}
        assert ids(ub.get(f"{API}/enrolments/", {"registration_institution": str(world.ea.pk)})) == set()
        assert ids(ub.get(f"{API}/enrolments/", {"status": "enrolled"})) == {
            str(first.enrolment.pk), str(second.enrolment.pk)}
        assert ub.get(f"{API}/enrolments/", {"registration_status": "nonsense"}).status_code == 400
        assert ids(ub.get(f"{API}/enrolments/", {"edition": str(adm.edition.pk)})) == {
            str(first.enrolment.pk), str(second.enrolment.pk)}


# --- 7. Query counts -----------------------------------------------------------------------------------------


def _applications(a, count: int, decided: bool) -> None:
    for index in range(count):
        application = ApplicationFactory(edition=a.edition, status="admitted" if decided and index % 2 else
                                         "submitted", submitted_at=timezone.now())
        ApplicationDocumentFactory(application=application, criterion=a.language)


def _enrolments(a, count: int) -> None:
    for _ in range(count):
        enrol(a)


def _queries(client, url: str, expected_rows: int) -> int:
    client.get(url)  # warm up: the first request of a token also records when it was last used
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.json()["results"]) == expected_rows
    return len(captured)


class TestQueryCounts:
    @pytest.mark.parametrize("who_asks", ["reviewer token", "partner token", "follower person"])
    def test_applications_list_is_constant(self, world, token_client, who_asks):
        clients = {
            "reviewer token": lambda: token_client(world.ub, ["applications:read"]),
            "partner token": lambda: token_client(world.ua, ["applications:read"]),
            "follower person": lambda: session(who(world, "UA_students")),
        }
        client = clients[who_asks]()
        counts = []
        for rows in (10, 100):
            a = make_admissions(world)
            _applications(a, rows, decided=True)
            counts.append(_queries(client, f"{API}/applications/?edition={a.edition.pk}&page_size=200", rows))
        assert counts[0] == counts[1], counts
        assert counts[1] <= 12

    def test_enrolments_list_is_constant(self, world, token_client):
        client = token_client(world.ub, ["enrolments:read"])
        counts = []
        for rows in (2, 12):
            a = make_admissions(world)
            _enrolments(a, rows)
            counts.append(_queries(client, f"{API}/enrolments/?edition={a.edition.pk}", rows))
        assert counts[0] == counts[1], counts


# --- 8. OpenAPI schema ---------------------------------------------------------------------------------------


class TestSchema:
    def test_schema_contains_the_admissions_paths(self, db):
        schema = APIClient().get("/api/schema/?format=json").json()
        paths = schema["paths"]
        for expected in (
            "/api/v1/applications/",
            "/api/v1/applications/{id}/",
            "/api/v1/applications/{id}/review/",
            "/api/v1/applications/{id}/request-info/",
            "/api/v1/applications/{id}/admit/",
            "/api/v1/applications/{id}/waitlist/",
            "/api/v1/applications/{id}/reject/",
            "/api/v1/applications/{id}/withdraw/",
            "/api/v1/enrolments/",
            "/api/v1/enrolments/{id}/",
            "/api/v1/enrolments/{id}/registrations/{institution_id}/",
        ):
            assert expected in paths, expected
        assert {p["name"] for p in paths["/api/v1/applications/"]["get"]["parameters"]} >= {
            "edition", "status", "nationality", "route", "possible_duplicate", "updated_at__gte", "search", "ordering"}
        patch = paths["/api/v1/enrolments/{id}/registrations/{institution_id}/"]["patch"]
        assert patch["description"]
        assert {"200", "400", "403", "404"} <= set(patch["responses"])
        reject = paths["/api/v1/applications/{id}/reject/"]["post"]
        assert "409" in reject["responses"]
        ref = reject["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]["required"] == ["reason"]
        document = schema["components"]["schemas"]["ApplicationDocument"]["properties"]
        assert "file" not in document and "url" not in document

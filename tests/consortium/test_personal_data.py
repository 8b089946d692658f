"""Personal data (GDPR): the learner's download, the erasure request flow across every app, retention, and the
record of processing activities.

The learner (``person`` fixture) has an application with an uploaded document, an enrolment with approved
grades and an appeal, and an award whose documents were rendered and sealed."""

import datetime as dt
import io
import json
import os
import zipfile

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from admissions.models import Application, ApplicationDocument
from assessment.models import Appeal, Grade
from assessment.personal_data import APPEAL_GROUNDS_ERASED
from certification import services as certification_services
from certification import snapshot as snap
from certification.models import Award, Credential, CredentialStatus
from certification.vc import ob3, verifier
from consortium import audit, personal_data, services
from consortium.api import DomainError, TransitionError
from consortium.models import AuditEvent, ErasureRequest, ErasureStatus, User
from consortium.tasks import apply_retention

from ..assessment.conftest import cohort  # noqa: F401  (fixture)
from ..certification.conftest import awardable  # noqa: F401  (fixture)
from ..certification.test_vc_schema import errors as schema_errors
from ..certification.test_vc_schema import load_schema, vc2
from ..factories import ApplicationDocumentFactory, ApplicationFactory, AuditEventFactory, UserFactory

pytestmark = pytest.mark.django_db

GIVEN, FAMILY, EMAIL = "Quintessa", "Marlowe-Vantongeren", "quintessa.marlowe@example.org"
NEEDLES = (GIVEN, FAMILY, EMAIL)


@pytest.fixture
def person(awardable, django_capture_on_commit_callbacks):  # noqa: F811
    """Learner 0 of the awardable cohort, renamed so their name is findable, with a document, an appeal (and a
    board comment naming them), and an award whose documents are rendered."""
    c = awardable
    enrolment = c.enrolments[0]
    learner = enrolment.learner
    User.objects.filter(pk=learner.pk).update(email=EMAIL, full_name=f"{GIVEN} {FAMILY}")
    EmailAddress.objects.filter(user=learner).update(email=EMAIL)
    Application.objects.filter(pk=enrolment.application_id).update(
        given_names=GIVEN, family_names=FAMILY, email=EMAIL, motivation=f"I am {GIVEN}.",
        decision_reason=f"{GIVEN} {FAMILY} meets every criterion.")
    enrolment.refresh_from_db()
    enrolment.application.refresh_from_db()
    c.document = ApplicationDocumentFactory(application=enrolment.application)
    c.grade = Grade.objects.filter(enrolment=enrolment, superseded=False).first()
    c.appeal = Appeal.objects.create(grade=c.grade, reason=f"I, {GIVEN} {FAMILY}, was ill on the day.",
                                     outcome=f"Dismissed; {GIVEN} {FAMILY} was heard.")
    c.grade.sheet.board_comment = f"Check the grade of {GIVEN} {FAMILY}."
    c.grade.sheet.save()
    with django_capture_on_commit_callbacks(execute=True):  # the render tasks run (eagerly) after commit
        c.award = certification_services.award_decide(actor=c.board, enrolment=enrolment)
    c.credential = c.award.credentials.get()
    c.pdfs = {d.pk: d.file.read() for d in c.credential.documents.all()}
    assert c.pdfs and all(c.pdfs.values()), "the documents were rendered"
    c.learner = User.objects.get(pk=learner.pk)
    c.enrolment = enrolment
    return c


def mentions(needles=NEEDLES) -> list[tuple[str, str]]:
    """Every (model, field) whose stored text (char, text, email, file name or JSON) contains one of ``needles``."""
    hits = []
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        fields = [f.name for f in model._meta.concrete_fields
                  if isinstance(f, models.CharField | models.TextField | models.JSONField | models.FileField)]
        for row in model._default_manager.values(*fields) if fields else ():
            for name, value in row.items():
                text = json.dumps(value, default=str, ensure_ascii=False).casefold()
                hits += [(model._meta.label, name) for n in needles if n.casefold() in text]
    return hits


def erase(client, admin, request, django_capture_on_commit_callbacks, note=""):
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("erasure-carry-out", args=[request.pk]), {"note": note})
    client.logout()
    return response


# --- The registry and the record of processing activities -------------------------------------------------------


def test_every_handler_fills_in_the_record_of_processing_and_every_retention_category_has_a_period():
    labels = {h.label for h in personal_data.handlers()}
    assert {"accounts", "audit", "admissions", "assessment", "certification", "finance"} <= labels
    for handler in personal_data.handlers():
        missing = [f for f in personal_data.RECORD_FIELDS if not getattr(handler, f).strip()]
        assert not missing, f"{handler.label} leaves {missing} empty"
    assert set(personal_data.retention_categories()) <= set(settings.PERSONAL_DATA_RETENTION)


def test_record_of_processing_page_lists_every_handler(world, client):
    client.force_login(world.people["superuser"])
    response = client.get(reverse("privacy-processing"))
    html = response.content.decode()
    assert response.status_code == 200
    for handler in personal_data.handlers():
        assert f'id="activity-{handler.label}"' in html
        assert handler.legal_basis[:40] in html.replace("&#x27;", "'")
    assert "closed_application_documents" in html and "180 days" in html


@pytest.mark.parametrize("name", ["erasure-list", "erasure-create", "privacy-processing"])
@pytest.mark.parametrize("who", ["UA_admin", "CA_admin", "UA_students", "learner"])
def test_privacy_pages_are_for_platform_administrators_only(world, client, name, who):
    client.force_login(world.people[who])
    assert client.get(reverse(name)).status_code == 403


def test_someone_elses_erasure_request_is_not_found(world, client):
    request = services.erasure_request(actor=world.people["learner"], user=world.people["learner"])
    client.force_login(world.people["UA_admin"])
    assert client.get(reverse("erasure-detail", args=[request.pk])).status_code == 404
    assert client.post(reverse("erasure-carry-out", args=[request.pk])).status_code == 404
    request.refresh_from_db()
    assert request.status == ErasureStatus.REQUESTED


# --- Download my data -------------------------------------------------------------------------------------------


def test_my_data_page_explains_what_is_held_and_is_linked_from_the_dashboard(person, client):
    client.force_login(person.learner)
    assert reverse("my-data") in client.get(reverse("dashboard")).content.decode()
    html = client.get(reverse("my-data")).content.decode()
    for handler in personal_data.handlers():
        assert handler.description.split("(")[0][:30].replace("'", "&#x27;") in html
    assert reverse("my-data-download") in html and reverse("my-data-erasure") in html


def test_download_is_a_zip_of_data_json_and_the_learners_files(person, client):
    client.force_login(person.learner)
    response = client.get(reverse("my-data-download"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "private, no-store"
    assert "attachment" in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    data = json.loads(archive.read("data.json"))

    assert set(data) == {h.label for h in personal_data.handlers()}
    assert data["accounts"]["email"] == EMAIL
    assert data["admissions"][0]["given_names"] == GIVEN
    assert data["assessment"][0]["grades"] and data["assessment"][0]["appeals"][0]["grounds"].startswith("I, ")
    credential = data["certification"][0]["credentials"][0]
    assert credential["credential_id"] == person.credential.credential_id
    assert credential["verification_url"].endswith(f"/verify/{person.credential.credential_id}/")

    uploaded = [n for n in names if n.startswith("files/admissions/")]
    assert len(uploaded) == 1 and archive.read(uploaded[0]) == person.document.file.open("rb").read()
    issued = sorted(d["file"] for d in credential["documents"])
    assert issued and all(name in names for name in issued)
    assert sorted(archive.read(n) for n in issued) == sorted(person.pdfs.values())
    assert "README.txt" in names
    assert AuditEvent.objects.filter(action="personal_data.exported", actor=person.learner).exists()


# --- Erasure --------------------------------------------------------------------------------------------------


def test_learner_asks_for_erasure_and_an_administrator_carries_it_out(
        person, world, client, django_capture_on_commit_callbacks):
    c = person
    credential_id = c.credential.credential_id
    before_hash = ob3.build_credential(c.credential)["credentialSubject"]["identifier"][0]["identityHash"]
    document_path = c.document.file.path
    pdf_paths = [d.file.path for d in c.credential.documents.all()]

    before = set(mentions())
    assert {("certification.Credential", "snapshot"), ("admissions.Application", "given_names"),
            ("assessment.Appeal", "reason"), ("consortium.AuditEvent", "object_repr"),
            ("account.EmailAddress", "email")} <= before, before
    assert c.credential.signed_json  # the kept signed copy the PDFs embed

    client.force_login(c.learner)
    response = client.post(reverse("my-data-erasure"), {"reason": f"Please forget me, {GIVEN}."}, follow=True)
    assert "Your request was sent" in response.content.decode()
    request = ErasureRequest.objects.get(user=c.learner)
    assert request.status == ErasureStatus.REQUESTED and request.requested_by == c.learner
    again = client.post(reverse("my-data-erasure"), {"reason": ""})
    assert "already an open erasure request" in again.content.decode()
    client.logout()

    admin = world.people["superuser"]
    client.force_login(admin)
    detail = client.get(reverse("erasure-detail", args=[request.pk])).content.decode()
    assert "Applications, uploaded documents and messages." in detail
    client.logout()
    response = erase(client, admin, request, django_capture_on_commit_callbacks, note=f"Done for {GIVEN}.")
    assert response.status_code == 302

    request.refresh_from_db()
    assert request.status == ErasureStatus.COMPLETED and request.completed_by == admin and request.completed_at
    learner = User.objects.get(pk=c.learner.pk)
    assert not learner.is_active and learner.email.endswith("@invalid") and not learner.has_usable_password()

    # The name, the email and the learner's own words are gone from every model and snapshot.
    assert mentions() == []

    # What must be kept is kept: the application (pseudonymised), enrolment, grades, the appeal, the award.
    assert Application.objects.get(pk=c.enrolment.application_id).given_names == "Erased"
    assert not ApplicationDocument.objects.filter(pk=c.document.pk).exists()
    assert Grade.objects.filter(enrolment=c.enrolment).count() == c.enrolment.grades.count() > 0
    appeal = Appeal.objects.get(pk=c.appeal.pk)
    assert appeal.reason == APPEAL_GROUNDS_ERASED and appeal.outcome == "Dismissed; [erased] was heard."
    award = Award.objects.get(pk=c.award.pk)
    credential = Credential.objects.get(pk=c.credential.pk)
    assert credential.status == CredentialStatus.VALID and credential.award == award
    assert snap.is_withheld(credential.snapshot) and not credential.signed_json and not credential.signed_jwt
    assert credential.snapshot["results"] == c.credential.snapshot["results"]

    # Files are deleted once the erasure committed; the documents' hashes stay.
    assert not os.path.exists(document_path) and not any(os.path.exists(p) for p in pdf_paths)
    assert all(d.sha256 and not d.file for d in credential.documents.all())

    # The verification page: still valid, without the name.
    response = client.get(reverse("verify", args=[credential_id]))
    html = response.content.decode()
    assert response.status_code == 200
    assert ">Valid<" in html and "has not been revoked" in html
    assert snap.WITHHELD in html.replace("&#x27;", "'")
    assert GIVEN not in html and FAMILY not in html
    assert response.context["checks_valid"], [c.message for c in response.context["checks"] if not c.ok]
    badge = client.get(reverse("verify-open-badge", args=[credential_id])).content.decode()
    assert before_hash not in badge and "withheld" in badge
    assert verifier.is_valid(verifier.verify(json.loads(badge)))
    assert schema_errors(vc2(load_schema()), json.loads(badge)) == []  # still a valid OB 3.0 credential
    api = client.get(f"/api/v1/verify/{credential_id}/").json()
    assert api["valid"] and api["holder"] == snap.WITHHELD and GIVEN not in json.dumps(api)

    # A PDF the learner shared before still verifies: seal, embedded credential, and the hash registry.
    for content in c.pdfs.values():
        checks = verifier.verify_pdf(content, expected_url=ob3.credential_url(credential))
        assert verifier.is_valid(checks), [x.message for x in checks if not x.ok]
        assert certification_services.verify_pdf(credential, content) is not None

    actions = set(AuditEvent.objects.filter(object_id=str(request.pk)).values_list("action", flat=True))
    assert actions == {"erasure.requested", "erasure.completed"}
    completed = AuditEvent.objects.get(action="erasure.completed")
    assert completed.actor == admin and completed.changes["status"] == ["requested", "completed"]


def test_an_erased_credential_gets_no_new_version_but_can_be_revoked(person, world, django_capture_on_commit_callbacks):
    c = person
    request = services.erasure_request(actor=c.learner, user=c.learner)
    with django_capture_on_commit_callbacks(execute=True):
        services.erasure_carry_out(actor=world.people["superuser"], request=request)
    credential = Credential.objects.get(pk=c.credential.pk)
    with pytest.raises(TransitionError, match="erased"):
        certification_services.credential_reissue(actor=c.board, credential=credential, reason="Name typo")
    with pytest.raises(TransitionError, match="erased"):
        certification_services.documents_request_language(actor=c.board, credential=credential, language="en")
    certification_services.credential_revoke(actor=c.board, credential=credential, reason="Fraud")
    assert ">Revoked<" in Client().get(reverse("verify", args=[credential.credential_id])).content.decode()


def test_wrong_transitions_are_refused_with_a_message(world):
    learner, admin = world.people["learner"], world.people["superuser"]
    request = services.erasure_request(actor=learner, user=learner, reason="Bye")
    with pytest.raises(DomainError, match="already an open erasure request"):
        services.erasure_request(actor=learner, user=learner)
    with pytest.raises(DomainError, match="reason for the refusal"):
        services.erasure_refuse(actor=admin, request=request, note="  ")
    with pytest.raises(PermissionDenied):
        services.erasure_carry_out(actor=world.people["CA_admin"], request=request)
    with pytest.raises(PermissionDenied):
        services.erasure_request(actor=learner, user=world.people["UA_staff"])

    services.erasure_refuse(actor=admin, request=request, note="We could not confirm it was you.")
    request.refresh_from_db()
    assert request.status == ErasureStatus.REFUSED
    with pytest.raises(TransitionError, match="is refused; it cannot be carried out"):
        services.erasure_carry_out(actor=admin, request=request)
    assert User.objects.get(pk=learner.pk).is_active  # nothing was erased

    second = services.erasure_request(actor=admin, user=learner, reason="Letter of 3 March")  # recorded for them
    assert second.requested_by == admin
    services.erasure_carry_out(actor=admin, request=second)
    with pytest.raises(TransitionError, match="is carried out; it cannot be refused"):
        services.erasure_refuse(actor=admin, request=second, note="Too late")
    with pytest.raises(DomainError, match="already been erased"):
        services.erasure_request(actor=admin, user=User.objects.get(pk=learner.pk))

    own = services.erasure_request(actor=admin, user=admin)
    with pytest.raises(DomainError, match="your own account"):
        services.erasure_carry_out(actor=admin, request=own)
    assert list(AuditEvent.objects.filter(action__startswith="erasure.").values_list("action", flat=True)) == [
        "erasure.requested", "erasure.completed", "erasure.requested", "erasure.refused", "erasure.requested"]


def test_a_refusal_is_shown_to_the_person(world, client):
    learner = world.people["learner"]
    request = services.erasure_request(actor=learner, user=learner)
    client.force_login(world.people["superuser"])
    response = client.post(reverse("erasure-refuse", args=[request.pk]), {"note": "Identity not confirmed."})
    assert response.status_code == 302
    client.force_login(learner)
    html = client.get(reverse("my-data")).content.decode()
    assert "Refused" in html and "Identity not confirmed." in html
    assert reverse("my-data-erasure") in html  # they may ask again


def test_the_person_is_told_the_outcome_by_email_at_the_address_they_used(
        world, mailoutbox, django_capture_on_commit_callbacks):
    learner, admin = world.people["learner"], world.people["superuser"]
    address = learner.email
    refused = services.erasure_request(actor=learner, user=learner)
    with django_capture_on_commit_callbacks(execute=True):
        services.erasure_refuse(actor=admin, request=refused, note="We could not confirm it was you.")
    assert [m.to for m in mailoutbox] == [[address]]
    assert "refused" in mailoutbox[0].subject and "We could not confirm it was you." in mailoutbox[0].body

    carried_out = services.erasure_request(actor=learner, user=learner)
    with django_capture_on_commit_callbacks(execute=True):
        services.erasure_carry_out(actor=admin, request=carried_out)
    assert User.objects.get(pk=learner.pk).email != address  # the account no longer has it…
    assert mailoutbox[1].to == [address] and "erased" in mailoutbox[1].subject  # …the person still hears


def test_no_email_leaves_when_the_erasure_fails(world, mailoutbox, django_capture_on_commit_callbacks, monkeypatch):
    learner, admin = world.people["learner"], world.people["superuser"]
    request = services.erasure_request(actor=learner, user=learner)

    def broken(_user):
        raise RuntimeError("a handler failed")

    monkeypatch.setattr(personal_data, "erase_user", broken)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        services.erasure_carry_out(actor=admin, request=request)
    assert mailoutbox == [] and ErasureRequest.objects.get(pk=request.pk).status == ErasureStatus.REQUESTED


def test_administrator_records_a_request_received_by_letter_and_finds_it_in_the_list(world, client):
    learner, admin = world.people["learner"], world.people["superuser"]
    client.force_login(admin)
    unknown = client.post(reverse("erasure-create"), {"email": "nobody@example.org", "reason": "Letter"})
    assert "No account has this email address." in unknown.content.decode()
    response = client.post(reverse("erasure-create"), {"email": learner.email.upper(), "reason": "Letter of 3 May"})
    request = ErasureRequest.objects.get(user=learner)
    assert response.status_code == 302 and response["Location"] == reverse("erasure-detail", args=[request.pk])
    assert request.requested_by == admin and request.reason == "Letter of 3 May"
    html = client.get(reverse("erasure-list"), {"status": "requested"}).content.decode()
    assert learner.email in html and reverse("erasure-detail", args=[request.pk]) in html
    assert learner.email not in client.get(reverse("erasure-list"), {"status": "completed"}).content.decode()
    assert reverse("erasure-list") in client.get(reverse("dashboard")).content.decode()  # the navigation


# --- Retention ------------------------------------------------------------------------------------------------


def _age(queryset, days: int, field: str = "updated_at") -> None:
    models.QuerySet.update(queryset, **{field: timezone.now() - dt.timedelta(days=days)})  # past auto_now guards


def test_retention_removes_what_is_past_its_period_and_keeps_the_rest(world, settings,
                                                                      django_capture_on_commit_callbacks):
    settings.PERSONAL_DATA_RETENTION = {**settings.PERSONAL_DATA_RETENTION, "closed_application_documents": 180,
                                        "closed_applications": 730, "unverified_accounts": 30, "sessions": 0,
                                        "audit_events": 3650}
    old_rejected = ApplicationDocumentFactory(application__status="rejected").application
    new_rejected = ApplicationDocumentFactory(application__status="withdrawn").application
    old_submitted = ApplicationDocumentFactory(application__status="submitted").application
    ancient = ApplicationFactory(status="lapsed", given_names="Ancient", family_names="Applicant")
    old_path = old_rejected.documents.get().file.path
    _age(Application.objects.filter(pk__in=[old_rejected.pk, old_submitted.pk]), 200)
    _age(Application.objects.filter(pk=ancient.pk), 800)
    _age(Application.objects.filter(pk=new_rejected.pk), 10)

    stale_signup, fresh_signup = UserFactory(), UserFactory()
    _age(User.objects.filter(pk=stale_signup.pk), 40, "date_joined")
    _age(User.objects.filter(pk=fresh_signup.pk), 10, "date_joined")
    applicant = old_rejected.applicant  # unverified too, but holds an application: kept
    _age(User.objects.filter(pk=applicant.pk), 400, "date_joined")
    EmailAddress.objects.filter(user__in=[stale_signup, fresh_signup, applicant]).update(verified=False)

    old_event, new_event = AuditEventFactory(action="x.old"), AuditEventFactory(action="x.new")
    with audit._sanctioned_rewrite():  # past PostgreSQL's append-only trigger too
        _age(AuditEvent.objects.filter(pk=old_event.pk), 3651, "at")
    Session.objects.create(session_key="expired", session_data="", expire_date=timezone.now() - dt.timedelta(1))
    Session.objects.create(session_key="current", session_data="", expire_date=timezone.now() + dt.timedelta(1))

    with django_capture_on_commit_callbacks(execute=True):
        done = apply_retention.apply().get()
    # Categories of other apps (quality's invitations …) have nothing past their period here: 0.
    assert {category: n for category, n in done.items() if n} == {
        "closed_application_documents": 1, "closed_applications": 1, "unverified_accounts": 1, "sessions": 1,
        "audit_events": 1}

    assert not old_rejected.documents.exists()
    assert not os.path.exists(old_path)
    assert new_rejected.documents.exists() and old_submitted.documents.exists()
    assert Application.objects.get(pk=ancient.pk).given_names == "Erased"
    assert Application.objects.get(pk=old_rejected.pk).given_names != "Erased"  # documents only, for now
    assert not User.objects.filter(pk=stale_signup.pk).exists()
    assert User.objects.filter(pk__in=[fresh_signup.pk, applicant.pk]).count() == 2
    assert not AuditEvent.objects.filter(pk=old_event.pk).exists() and AuditEvent.objects.filter(pk=new_event.pk)
    assert list(Session.objects.values_list("session_key", flat=True)) == ["current"]

    with django_capture_on_commit_callbacks(execute=True):
        assert set(apply_retention.apply().get().values()) == {0}  # idempotent


def test_a_category_set_to_none_is_kept(world, settings):
    settings.PERSONAL_DATA_RETENTION = {**settings.PERSONAL_DATA_RETENTION, "closed_application_documents": None,
                                        "closed_applications": None}
    application = ApplicationDocumentFactory(application__status="rejected").application
    _age(Application.objects.filter(pk=application.pk), 5000)
    done = personal_data.apply_retention()
    assert "closed_application_documents" not in done and "closed_applications" not in done
    assert application.documents.exists()


def test_retention_runs_daily_from_the_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["apply-retention"]
    assert entry["task"] == "consortium.tasks.apply_retention" and entry["schedule"] == 24 * 60 * 60

"""The audit trail: every decision on an award's way is recorded (who, when, what changed, which interface); an
administrator filters and exports it; nobody edits it, not even through the database."""

import csv
import io

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.urls import reverse

from assessment import services as assessment_services
from certification import services as certification_services
from consortium.models import AuditEvent, Via

from ..assessment.conftest import cohort  # noqa: F401  (fixture)
from ..certification.conftest import awardable  # noqa: F401  (fixture)
from ..factories import AuditEventFactory

pytestmark = pytest.mark.django_db


def _events(obj, action):
    return AuditEvent.objects.filter(object_id=str(obj.pk), action=action)


def test_each_decision_on_the_way_to_an_award_is_recorded(awardable):  # noqa: F811
    c = awardable
    sheet = c.edition.result_sheets.get(course=c.course_b)
    approved = _events(sheet, "results.approved").get()
    assert approved.actor == c.board and approved.changes["status"] == ["submitted", "approved"]
    assert approved.consortium_id == c.programme.consortium_id and approved.institution_id == c.course_b.provider_id

    grade = sheet.grades.filter(enrolment=c.enrolments[0]).get()
    corrected = assessment_services.grade_correct(actor=c.board, grade=grade, national_grade="8.0",
                                                 reason="Marked against the wrong key")
    event = _events(corrected, "grades.corrected").get()
    assert event.changes == {"from": ["7.5", "8.0"], "reason": "Marked against the wrong key"}

    award = certification_services.award_decide(actor=c.board, enrolment=c.enrolments[0])
    assert _events(award, "award.decided").get().actor_label == c.board.email
    credential = award.credentials.get()
    certification_services.credential_revoke(actor=c.board, credential=credential, reason="Issued in error")
    revoked = _events(credential, "credential.revoked").get()
    assert revoked.changes["reason"] == "Issued in error"
    assert {e.via for e in AuditEvent.objects.all()} == {Via.COMMAND}  # services called directly, as a command


def test_the_interface_is_recorded_browser_and_api(client, world, token_client):
    from ..factories import ContactFactory

    contact = ContactFactory(institution=world.ua)
    client.force_login(world.people["UA_admin"])
    assert client.post(reverse("contact-remove", args=[contact.pk])).status_code == 302
    assert AuditEvent.objects.get(action="institution.contact_removed").via == Via.BROWSER
    api = token_client(world.ua)
    response = api.patch(f"/api/v1/institutions/{world.ua.pk}/", {"city": "Ghent-Zuid"}, format="json")
    assert response.status_code == 200, response.content
    assert AuditEvent.objects.filter(via=Via.API, object_id=str(world.ua.pk)).exists()


def test_the_trail_cannot_be_edited_through_the_app(client, world):
    event = AuditEventFactory(action="agreement.signed")
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    client.force_login(world.people["superuser"])
    change = client.post(reverse("admin:consortium_auditevent_change", args=[event.pk]), {"action": "forged"})
    assert change.status_code == 403
    assert client.post(reverse("admin:consortium_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code \
        == 403
    assert AuditEvent.objects.get(pk=event.pk).action == "agreement.signed"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the database trigger is PostgreSQL's")
def test_the_database_refuses_to_rewrite_or_delete_the_trail():
    event = AuditEventFactory(action="invoice.issued")
    with connection.cursor() as cursor:
        for sql in ("UPDATE consortium_auditevent SET action = 'forged' WHERE id = %s",
                    "DELETE FROM consortium_auditevent WHERE id = %s"):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == "invoice.issued"


def test_administrators_filter_by_object_and_dates_and_export(client, world):
    login_as = world.people["superuser"]
    first = AuditEventFactory(action="invoice.issued", object_id="inv-1", object_repr="=HYPERLINK(\"x\")")
    AuditEventFactory(action="award.decided", object_id="aw-1", object_repr="Award 1")
    client.force_login(login_as)
    page = client.get(reverse("audit-list"), {"object": "inv-1"})
    assert [e.pk for e in page.context["object_list"]] == [first.pk]
    today = first.at.date().isoformat()
    assert len(client.get(reverse("audit-list"), {"since": today, "until": today}).context["object_list"]) == 2
    assert not client.get(reverse("audit-list"), {"since": "2001-01-01", "until": "2001-01-02"}).context["object_list"]
    wrong = client.get(reverse("audit-list"), {"since": "2026-02-31", "until": "yesterday"})
    assert wrong.status_code == 200 and "Enter a valid date." in wrong.content.decode()
    backwards = client.get(reverse("audit-list"), {"since": "2026-03-01", "until": "2026-01-01"})
    assert "The start date is after the end date." in backwards.content.decode()

    export = client.get(reverse("audit-list"), {"action": "invoice.", "export": "csv"})
    assert export["Content-Type"].startswith("text/csv") and export["Cache-Control"] == "private, no-store"
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["When", "Who", "Action"] and len(rows) == 2
    assert rows[1][2] == "invoice.issued" and rows[1][5] == "'=HYPERLINK(\"x\")"  # neutralised formula
    assert AuditEvent.objects.filter(action="audit.exported", actor=login_as).exists()


def test_staff_without_the_audit_role_cannot_read_or_export(client, world):
    client.force_login(world.people["UA_staff"])
    assert client.get(reverse("audit-list"), {"export": "csv"}).status_code == 403

"""Audit trail, domain events, personal-data registry, uploads, health, admin, demo data."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction

from consortium import audit, events, personal_data, services
from consortium.models import AuditEvent, Consortium, Institution, User, Via
from consortium.uploads import validate_upload

from .. import factories

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF = b"%PDF-1.7\n%%EOF\n"


# --- Audit trail -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_audit_is_append_only():
    institution = factories.InstitutionFactory()
    event = audit.record(None, "test.done", institution, {"a": [1, 2]})
    assert event.actor_label == "system" and event.via == Via.COMMAND
    event.action = "test.changed"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.done"


@pytest.mark.django_db
def test_audit_records_diffs_of_updates(world):
    services.institution_update(actor=world.people["UA_admin"], institution=world.ua, data={"city": "Gent"})
    event = AuditEvent.objects.get(action="institution.updated")
    assert event.changes == {"city": ["Leuven", "Gent"]}
    assert event.actor == world.people["UA_admin"] and event.institution_id == world.ua.id


def test_audit_diff_only_changed_fields():
    assert audit.diff({"a": 1, "b": 2}, {"a": 1, "b": 3}) == {"b": [2, 3]}


@pytest.mark.django_db
def test_audit_admin_is_read_only(client):
    admin = factories.UserFactory(is_superuser=True, is_staff=True)
    event = audit.record(admin, "test.done", factories.InstitutionFactory())
    client.force_login(admin)
    page = client.get(f"/admin/consortium/auditevent/{event.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content


# --- Django admin is for superusers only ------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_refuses_everyone_but_superusers(client):
    staff = factories.UserFactory(is_staff=True)
    client.force_login(staff)
    assert client.get("/admin/").status_code == 302  # sent to the admin login
    client.force_login(factories.UserFactory(is_superuser=True, is_staff=True))
    assert client.get("/admin/").status_code == 200


# --- Domain events ----------------------------------------------------------------------------------------

received: list[dict] = []


def record_event(**payload):
    received.append(payload)


@pytest.mark.django_db(transaction=True)
def test_events_run_subscribers_after_commit_only(settings):
    settings.DOMAIN_EVENT_SUBSCRIBERS = {"test.happened": ["tests.consortium.test_platform.record_event"]}
    received.clear()
    with transaction.atomic():
        events.publish("test.happened", thing_id="1")
        assert received == []  # not before commit
    assert received == [{"thing_id": "1"}]

    try:
        with transaction.atomic():
            events.publish("test.happened", thing_id="2")
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert received == [{"thing_id": "1"}]  # a rolled-back decision triggers nothing


def test_unknown_event_is_an_error():
    with pytest.raises(events.UnknownEvent):
        events.publish("no.such.event")


# --- Personal data registry ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_personal_data_export_and_erase(world):
    user = world.people["UA_admin"]
    exported = personal_data.export_user(user)
    assert exported["accounts"]["email"] == user.email
    assert exported["accounts"]["staff_profile"]["institution"] == "UA"
    assert exported["accounts"]["roles"][0]["role"] == "institution_admin"
    assert "accounts" in {h.label for h in personal_data.handlers()}

    personal_data.erase_user(user)
    user.refresh_from_db()
    assert user.email.startswith("erased-") and user.email.endswith("@invalid")
    assert user.full_name == "" and not user.is_active and not user.has_usable_password()


# --- Uploads ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "allowed", "code"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 50, "cv.pdf", ("pdf",), "wrong_type"),  # renamed executable
        (b"#!/bin/sh\nrm -rf /\n", "photo.png", ("png", "jpeg"), "wrong_type"),
        (b"", "empty.pdf", ("pdf",), "empty"),
        (PNG, "logo.pdf", ("pdf",), "wrong_type"),  # a PNG pretending to be a PDF
    ],
)
def test_uploads_are_checked_by_content(content, name, allowed, code):
    with pytest.raises(ValidationError) as refused:
        validate_upload(SimpleUploadedFile(name, content), allowed)
    assert refused.value.code == code
    assert name in refused.value.messages[0]


def test_upload_size_limit(settings):
    settings.UPLOAD_MAX_BYTES = 100
    with pytest.raises(ValidationError) as refused:
        validate_upload(SimpleUploadedFile("big.pdf", PDF + b"x" * 200), ("pdf",))
    assert refused.value.code == "too_large" and "limit" in refused.value.messages[0]


def test_good_uploads_pass_and_keep_their_position():
    upload = SimpleUploadedFile("agreement.PDF", PDF)
    assert validate_upload(upload, ("pdf",)) == "pdf"
    assert upload.tell() == 0
    assert validate_upload(io.BytesIO(b"\xff\xd8\xff\xe0" + b"\x00" * 20), ("png", "jpeg"), max_bytes=1000) == "jpeg"


# --- Health -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_healthz_fails_when_the_broker_does_not_answer(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"].startswith("error")


# --- Demo data ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_demo_is_idempotent():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    first = out.getvalue()
    assert "Authorization: Token " in first and "demo-pass-2026" in first
    counts = (Institution.objects.count(), Consortium.objects.count(), User.objects.count())
    assert counts[0] == 4 and counts[1] == 1

    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert (Institution.objects.count(), Consortium.objects.count(), User.objects.count()) == counts
    assert "already exists" in out.getvalue()

    consortium = Consortium.objects.get()
    assert {m.institution.country.code for m in consortium.memberships.select_related("institution")} == {
        "BE",
        "ES",
        "NL",
        "DE",
    }
    assert consortium.agreements.get().versions.get().status == "in_force"


@pytest.mark.django_db
def test_demo_logins_work(client):
    call_command("seed_demo", stdout=io.StringIO())
    response = client.post("/accounts/login/", {"login": "inst.admin@uned.example", "password": "demo-pass-2026"})
    assert response.status_code == 302
    assert client.get("/tokens/").status_code == 200


@pytest.mark.django_db
def test_apitoken_command_prints_the_key_once(world):
    out = io.StringIO()
    call_command("apitoken_create", "--institution", "UA", "--name", "sis", "--scope", "institutions:read", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    from consortium.models.tokens import hash_token_key

    token = world.ua.api_tokens.get(name="sis")
    assert token.key_hash == hash_token_key(key) and key not in token.key_hash

"""Idempotent writes: ``Idempotency-Key`` on the API's POST and PATCH (consortium/rest/idempotency.py).

A repeat returns the first answer and runs nothing; another request under the same key is a 422; keys belong to
their caller; a bad key is a 400; a 5xx is not kept (and its work is rolled back); a key still in progress is a 409;
a crashed request's key is taken over after the lock timeout; keys are purged after their TTL. The PostgreSQL tests
at the end race two requests with one key on real connections: exactly one runs.
"""

import datetime as dt
import os
import time

import pytest
from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.utils import timezone
from rest_framework.exceptions import APIException
from rest_framework.test import APIClient

from admissions.models import Application, ApplicationStatus
from consortium.models import AuditEvent, IdempotencyKey, IdempotencyStatus
from consortium.rest import idempotency
from consortium.tasks import idempotency_keys_purge
from programmes import services as programme_services
from programmes.models import Edition, Programme

from ..admissions.test_services import make_admissions, submit, who
from ..concurrency import race, row_locked_elsewhere
from ..programmes.test_api import approve, edition_body, make_programme

API = "/api/v1"
EDITIONS = f"{API}/editions/"
ADMISSIONS_SCOPES = ["applications:read", "applications:write"]


def session(user, **kwargs) -> APIClient:
    client = APIClient(**kwargs)
    client.force_login(user)
    return client


def post(client, url: str, body=None, key: str | None = None):
    headers = {idempotency.HEADER: key} if key is not None else {}
    return client.post(url, body if body is not None else {}, format="json", headers=headers)


def admit_url(application) -> str:
    return f"{API}/applications/{application.pk}/admit/"


def replayed(response) -> bool:
    return response.headers.get(idempotency.REPLAYED_HEADER) == "true"


@pytest.fixture
def planning(world):
    """The team leader (UA staff, in a browser session) and the body of a new edition of an approved programme."""
    programme = make_programme(world, "shared")
    version = approve(world, programme)
    return session(who(world, "UA_staff")), edition_body(programme, version)


@pytest.fixture
def adm(world):
    return make_admissions(world)


@pytest.fixture
def ub(world, token_client):
    """UB's partner system: UB reviews the applications of ``adm``."""
    return token_client(world.ub, ADMISSIONS_SCOPES)


def crash_mid_request(monkeypatch, client, body, key: str) -> None:
    """Leave the key "in progress" as a killed worker would: the request dies and nothing releases its row."""
    monkeypatch.setattr(idempotency, "release", lambda row: None)
    monkeypatch.setattr(programme_services, "edition_save", _raise(RuntimeError("worker killed")))
    client.raise_request_exception = False
    assert post(client, EDITIONS, body, key).status_code == 500
    monkeypatch.undo()
    client.raise_request_exception = True


def _raise(exc):
    def fail(**_kwargs):
        raise exc

    return fail


# --- Repeats -------------------------------------------------------------------------------------------------


def test_a_repeated_create_returns_the_first_answer_and_creates_one_edition(planning):
    leader, body = planning

    first = post(leader, EDITIONS, body, "create-2027-spring")
    again = post(leader, EDITIONS, body, "create-2027-spring")

    assert first.status_code == 201, first.content
    assert not replayed(first)
    assert again.status_code == 201
    assert replayed(again)
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"] == "application/json"
    assert Edition.objects.count() == 1
    assert AuditEvent.objects.filter(action="edition.saved").count() == 1
    row = IdempotencyKey.objects.get()
    assert (row.status, row.response_status, row.method, row.path) == ("completed", 201, "POST", EDITIONS)


def test_a_repeated_transition_is_not_run_again(adm, ub):
    application = submit(adm)

    first = post(ub, admit_url(application), {"reason": "Meets every criterion."}, "admit-1")
    again = post(ub, admit_url(application), {"reason": "Meets every criterion."}, "admit-1")

    assert first.status_code == 200, first.content
    assert first.json()["status"] == "admitted"
    # Without the key the repeat would be refused (409, already admitted); with it the answer is the first one.
    assert again.status_code == 200 and replayed(again)
    assert again.json() == first.json()
    assert AuditEvent.objects.filter(action="application.admitted", object_id=str(application.pk)).count() == 1


def test_a_key_in_the_drafts_quoted_form_is_the_same_key(adm, ub):
    application = submit(adm)
    first = post(ub, admit_url(application), {}, '"8e03978e-40d5-43e8-bc93-6894a57f9324"')
    again = post(ub, admit_url(application), {}, "8e03978e-40d5-43e8-bc93-6894a57f9324")
    assert first.status_code == 200 and again.status_code == 200 and replayed(again)


def test_patch_is_idempotent_too(world, planning):
    leader, _body = planning
    programme = Programme.objects.get(code="shared")
    url = f"{API}/programmes/{programme.pk}/"

    first = leader.patch(url, {"duration_weeks": 12}, format="json", headers={idempotency.HEADER: "weeks"})
    programme_services.programme_update(actor=who(world, "UA_staff"), programme=programme,
                                        data={"duration_weeks": 14})
    again = leader.patch(url, {"duration_weeks": 12}, format="json", headers={idempotency.HEADER: "weeks"})

    assert first.status_code == 200 and first.json()["duration_weeks"] == 12
    assert again.status_code == 200 and replayed(again) and again.json()["duration_weeks"] == 12
    programme.refresh_from_db()
    assert programme.duration_weeks == 14  # the repeat changed nothing


def test_validation_errors_are_kept_so_the_same_request_gets_the_same_answer(world):
    programme = make_programme(world, "shared")
    draft_version = programme.curricula.get()
    leader = session(who(world, "UA_staff"))
    body = edition_body(programme, draft_version)

    first = post(leader, EDITIONS, body, "plan")
    approve(world, programme)  # now the same body would be accepted
    again = post(leader, EDITIONS, body, "plan")
    fresh_key = post(leader, EDITIONS, body, "plan-again")

    assert first.status_code == 400, first.content
    assert again.status_code == 400 and replayed(again) and again.content == first.content
    assert fresh_key.status_code == 201
    assert Edition.objects.count() == 1


# --- Another request under the same key -------------------------------------------------------------------


def test_the_same_key_with_another_body_or_path_is_422(adm, ub):
    application, other = submit(adm), submit(adm)
    assert post(ub, admit_url(application), {"reason": "Eligible."}, "k").status_code == 200

    others = [
        (admit_url(application), {"reason": "Another reason."}),
        (admit_url(other), {"reason": "Eligible."}),
        (f"{API}/applications/{application.pk}/waitlist/", {"reason": "Eligible."}),
    ]
    for url, body in others:
        response = post(ub, url, body, "k")
        assert response.status_code == 422, (url, response.content)
        assert "already used for a different request" in response.json()["detail"]
        assert not replayed(response)

    assert Application.objects.get(pk=other.pk).status == ApplicationStatus.SUBMITTED
    assert IdempotencyKey.objects.count() == 1


def test_keys_belong_to_their_caller(world, adm, ub, token_client):
    application, other = submit(adm), submit(adm)
    assert post(ub, admit_url(application), {}, "shared-key").status_code == 200

    # The reviewing institution's staff member, signed in: the same key is theirs to use for another request.
    person = post(session(who(world, "UB_students")), admit_url(other), {}, "shared-key")
    assert person.status_code == 200 and not replayed(person)
    assert person.json()["status"] == "admitted"
    # Another partner's system sending UB's key and request gets its own answer, never UB's stored one.
    ua = post(token_client(world.ua, ADMISSIONS_SCOPES), admit_url(application), {}, "shared-key")
    assert ua.status_code == 403 and not replayed(ua)
    assert IdempotencyKey.objects.filter(key="shared-key").values("scope").distinct().count() == 3


# --- Bad keys, no key, other methods ---------------------------------------------------------------------


@pytest.mark.parametrize("key", ["", " leading-space", "trailing-space ", "tab\tinside", "ключ", "x" * 256, '""'])
def test_an_invalid_key_is_400_and_runs_nothing(adm, ub, key):
    application = submit(adm)
    response = post(ub, admit_url(application), {}, key)
    assert response.status_code == 400, response.content
    assert response.json() == {"detail": str(idempotency.INVALID_KEY)}
    assert Application.objects.get(pk=application.pk).status == ApplicationStatus.SUBMITTED
    assert not IdempotencyKey.objects.exists()


def test_the_longest_key_and_inner_spaces_are_valid(adm, ub):
    application, other = submit(adm), submit(adm)
    assert post(ub, admit_url(application), {}, "x" * 255).status_code == 200
    assert post(ub, admit_url(other), {}, "order 42 / retry").status_code == 200


def test_without_a_key_everything_is_as_before(adm, ub):
    application = submit(adm)
    assert post(ub, admit_url(application)).status_code == 200
    assert post(ub, admit_url(application)).status_code == 409  # already admitted: the transition is refused
    assert not IdempotencyKey.objects.exists()


def test_reads_ignore_the_header(adm, ub):
    response = ub.get(f"{API}/applications/", headers={idempotency.HEADER: "k"})
    assert response.status_code == 200 and not replayed(response)
    assert not IdempotencyKey.objects.exists()


def test_refused_before_the_view_runs_keeps_nothing(adm, ub, api_client):
    """401/403 from authentication, scope or throttling come before the key is looked at."""
    application = submit(adm)
    assert post(api_client, admit_url(application), {}, "k").status_code == 401
    assert not IdempotencyKey.objects.exists()


# --- Server errors, crashes, in progress -----------------------------------------------------------------


class Unavailable(APIException):
    status_code = 503
    default_detail = "A dependency is down."


def test_a_5xx_answer_is_not_kept_and_its_work_is_rolled_back(planning, monkeypatch):
    leader, body = planning
    save = programme_services.edition_save

    def save_then_fail(**kwargs):
        save(**kwargs)
        raise Unavailable()

    monkeypatch.setattr(programme_services, "edition_save", save_then_fail)
    assert post(leader, EDITIONS, body, "k").status_code == 503
    assert not Edition.objects.exists()  # rolled back with the answer that was not kept
    assert not IdempotencyKey.objects.exists()

    monkeypatch.undo()
    retry = post(leader, EDITIONS, body, "k")
    assert retry.status_code == 201 and not replayed(retry)
    assert Edition.objects.count() == 1


def test_an_exception_is_not_kept_and_the_retry_runs(world, planning, monkeypatch):
    _leader, body = planning
    leader = session(who(world, "UA_staff"), raise_request_exception=False)
    monkeypatch.setattr(programme_services, "edition_save", _raise(RuntimeError("bug")))
    assert post(leader, EDITIONS, body, "k").status_code == 500
    assert not IdempotencyKey.objects.exists()

    monkeypatch.undo()
    assert post(leader, EDITIONS, body, "k").status_code == 201


def test_a_key_in_progress_is_409_then_taken_over_after_the_lock_timeout(planning, monkeypatch):
    leader, body = planning
    crash_mid_request(monkeypatch, leader, body, "k")
    row = IdempotencyKey.objects.get()
    assert row.status == IdempotencyStatus.IN_PROGRESS and not Edition.objects.exists()

    busy = post(leader, EDITIONS, body, "k")
    assert busy.status_code == 409
    assert busy["Retry-After"] == "1"
    assert "still being processed" in busy.json()["detail"]
    assert post(leader, EDITIONS, {**body, "capacity": 5}, "k").status_code == 422  # still this request's key

    IdempotencyKey.objects.filter(pk=row.pk).update(locked_until=timezone.now() - dt.timedelta(seconds=1))
    retry = post(leader, EDITIONS, body, "k")
    assert retry.status_code == 201 and not replayed(retry)
    assert post(leader, EDITIONS, body, "k").content == retry.content
    assert Edition.objects.count() == 1 and IdempotencyKey.objects.count() == 1


def test_the_lock_timeout_is_a_setting(planning, monkeypatch, settings):
    settings.IDEMPOTENCY_LOCK_TIMEOUT = 0
    leader, body = planning
    crash_mid_request(monkeypatch, leader, body, "k")
    assert post(leader, EDITIONS, body, "k").status_code == 201


def test_stored_headers_keep_location_and_drop_what_each_response_sets_itself(world):
    row = IdempotencyKey.objects.create(scope="user:1", key="k", fingerprint="f", method="POST", path="/x/",
                                        expires_at=timezone.now() + dt.timedelta(hours=1))
    response = HttpResponse(b'{"id": 1}', status=201, content_type="application/json")
    response["Location"] = "/api/v1/editions/1/"
    response.set_cookie("sessionid", "secret")
    idempotency.complete(row, response)

    again = idempotency.replay(IdempotencyKey.objects.get(pk=row.pk))

    assert again.status_code == 201 and again.content == b'{"id": 1}'
    assert again["Location"] == "/api/v1/editions/1/" and again["Content-Type"] == "application/json"
    assert again[idempotency.REPLAYED_HEADER] == "true"
    assert not again.cookies


# --- Expiry ------------------------------------------------------------------------------------------------


def test_expired_keys_are_purged_by_the_beat_task(planning):
    leader, body = planning
    post(leader, EDITIONS, body, "old")
    post(leader, EDITIONS, {**body, "intake_code": "2027-autumn"}, "new")
    IdempotencyKey.objects.filter(key="old").update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    assert idempotency_keys_purge.delay().get() == 1

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
    beat = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert beat["consortium.tasks.idempotency_keys_purge"]["schedule"] <= settings.IDEMPOTENCY_KEY_TTL


def test_keys_are_kept_for_the_ttl_and_then_count_as_unused(planning):
    leader, body = planning
    post(leader, EDITIONS, body, "k")
    row = IdempotencyKey.objects.get()
    assert row.expires_at - row.created_at == pytest.approx(dt.timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL),
                                                            abs=dt.timedelta(seconds=5))
    IdempotencyKey.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    response = post(leader, EDITIONS, {**body, "intake_code": "2027-autumn"}, "k")  # not purged yet: still unused

    assert response.status_code == 201 and not replayed(response)
    assert Edition.objects.count() == 2


# --- The schema --------------------------------------------------------------------------------------------


#: Public and read-only (a check of a credential or PDF): no caller to scope a key to, nothing to repeat.
NOT_IDEMPOTENT = {("post", "/api/v1/verify/")}


def test_the_schema_documents_the_key_on_every_write_and_only_there(db, api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    writes = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            if method in ("post", "patch") and (method, path) not in NOT_IDEMPOTENT:
                writes += 1
                assert idempotency.HEADER in headers, (method, path)
                assert {"409", "422"} <= set(operation["responses"]), (method, path)
                assert "Idempotency-Key" in operation["responses"]["400"]["description"], (method, path)
                assert "Idempotency-Key" in operation["responses"]["409"]["description"], (method, path)
                success = next(code for code in operation["responses"] if code.startswith("2"))
                assert idempotency.REPLAYED_HEADER in operation["responses"][success]["headers"], (method, path)
                assert "Retry-After" in operation["responses"]["409"]["headers"], (method, path)
            else:
                assert idempotency.HEADER not in headers, (method, path)
    assert writes >= 15


# --- PostgreSQL: two requests with one key at the same moment -------------------------------------------


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        reason = (f"Concurrent idempotency tests need PostgreSQL (unique index, row locks); the database is "
                  f"{connection.vendor}. Run with DATABASE_URL=postgres://…")
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the concurrency tests: {reason}")
        pytest.skip(reason)


def slow(monkeypatch, module, name: str, seconds: float = 0.5) -> None:
    """Keep the winner busy inside its transaction, so that the second request arrives while it runs."""
    real = getattr(module, name)

    def slowed(**kwargs):
        result = real(**kwargs)
        time.sleep(seconds)
        return result

    monkeypatch.setattr(module, name, slowed)


def _outcomes(results) -> list:
    assert all(outcome == "ok" for outcome, _value in results), results
    return sorted((response for _outcome, response in results), key=lambda r: (r.status_code, replayed(r)))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_two_concurrent_creates_with_one_key_make_one_edition(postgresql, world, monkeypatch, round_):
    programme = make_programme(world, "shared")
    body = edition_body(programme, approve(world, programme))
    leader = who(world, "UA_staff")
    clients = [session(leader), session(leader)]
    slow(monkeypatch, programme_services, "edition_save")

    results = race(*(lambda c=c: post(c, EDITIONS, body, "one-key") for c in clients))

    first, second = _outcomes(results)
    assert first.status_code == 201 and not replayed(first)
    # The loser arrived while the winner ran (409, retry) or, if the winner had finished, got its answer.
    assert second.status_code == 409 or (second.status_code == 201 and replayed(second)), second.content
    if second.status_code == 409:
        assert second["Retry-After"] == "1"
        assert "still being processed" in second.json()["detail"]
    assert Edition.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
    retry = post(clients[0], EDITIONS, body, "one-key")
    assert retry.status_code == 201 and replayed(retry) and retry.content == first.content


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_admissions_with_one_key_admit_once(postgresql, world, token_client, monkeypatch):
    from admissions import services as admission_services

    a = make_admissions(world)
    application = submit(a)
    ub = token_client(world.ub, ADMISSIONS_SCOPES)
    slow(monkeypatch, admission_services, "application_admit")

    results = race(*(lambda: post(ub, admit_url(application), {"reason": "Eligible."}, "admit") for _ in range(2)))

    first, second = _outcomes(results)
    assert first.status_code == 200 and first.json()["status"] == "admitted"
    assert second.status_code == 409 or replayed(second), second.content
    assert AuditEvent.objects.filter(action="application.admitted").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_slow_request_past_the_lock_timeout_is_never_taken_over(postgresql, world, monkeypatch):
    """Past ``IDEMPOTENCY_LOCK_TIMEOUT`` a retry takes a key over only if no live transaction holds its row."""
    programme = make_programme(world, "shared")
    body = edition_body(programme, approve(world, programme))
    leader = session(who(world, "UA_staff"))
    crash_mid_request(monkeypatch, leader, body, "k")
    row = IdempotencyKey.objects.get()
    IdempotencyKey.objects.filter(pk=row.pk).update(locked_until=timezone.now() - dt.timedelta(seconds=1))
    with row_locked_elsewhere(IdempotencyKey, row.pk):  # what a slow first request holds in its open transaction
        busy = post(leader, EDITIONS, body, "k")

    assert busy.status_code == 409, busy.content
    assert not Edition.objects.exists()
    taken_over = post(leader, EDITIONS, body, "k")  # the holder is gone: the request runs now, once
    assert taken_over.status_code == 201 and not replayed(taken_over)
    assert Edition.objects.count() == 1


def test_writes_on_plain_api_views_honour_the_key_too(world, token_client):
    """The bulk imports are ``APIView``s with the mixin: the same request under the same key gets the same answer."""
    client = token_client(world.ub, ADMISSIONS_SCOPES)
    url = f"{API}/editions/00000000-0000-0000-0000-000000000000/applications/import/"
    first = post(client, url, {"applicants": [{"email": "a@example.org"}]}, "import-1")
    again = post(client, url, {"applicants": [{"email": "a@example.org"}]}, "import-1")
    other = post(client, url, {"applicants": [{"email": "b@example.org"}]}, "import-1")
    assert first.status_code == 404 and not replayed(first)
    assert again.status_code == 404 and replayed(again)
    assert other.status_code == 422

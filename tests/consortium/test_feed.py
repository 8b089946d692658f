"""The events feed (consortium/feed.py, /api/v1/events/) and the change feed of the lists (``updated_since``)."""

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from admissions import services as admissions
from consortium import feed, policy
from consortium.models import FeedEvent
from consortium.rest.pagination import Pagination
from programmes.models import Programme

from ..admissions.test_services import make_admissions, submit, who
from ..factories import ProgrammeFactory, ProgrammePartnerFactory

pytestmark = pytest.mark.django_db
API = "/api/v1"


def _scoped(institution, scopes):
    """A second token of the institution, with only ``scopes``."""
    from rest_framework.test import APIClient

    from consortium.services import apitoken_create

    _token, key = apitoken_create(actor=None, institution=institution, name=f"narrow {' '.join(scopes)}",
                                  scopes=scopes, check_policy=False)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _event(institution_ids, *, event_type="application.decided", resource_id="r1", consortium_id=None):
    return feed.record(event_type, resource_type=event_type.split(".")[0], resource_id=resource_id,
                       consortium_id=consortium_id, institution_ids=institution_ids, data={"status": "admitted"})


# --- Recording ----------------------------------------------------------------------------------------------------


def test_numbers_follow_each_other_without_gaps_even_after_a_rollback(world):
    first = _event([world.ua.pk])
    with pytest.raises(RuntimeError), transaction.atomic():
        _event([world.ua.pk], resource_id="rolled back")
        raise RuntimeError("the decision failed")
    second = _event([world.ua.pk], resource_id="r2")
    assert second.seq == first.seq + 1  # the rolled-back number was taken again with its counter
    assert not FeedEvent.objects.filter(resource_id="rolled back").exists()


def test_the_counter_row_is_made_again_when_it_is_missing(world):
    from consortium.models import FeedCounter

    first = _event([world.ua.pk])
    FeedCounter.objects.all().delete()
    assert _event([world.ua.pk], resource_id="r2").seq == first.seq + 1


def test_unknown_event_types_and_resources_are_refused(world):
    with pytest.raises(feed.UnknownFeedEvent):
        _event([world.ua.pk], event_type="application.exploded")
    with pytest.raises(feed.UnknownFeedEvent):
        feed.record("spaceship.deleted", resource_id="x", consortium_id=None, institution_ids=[])
    assert _event([world.ua.pk], event_type="agreement.deleted").event_type == "agreement.deleted"  # any .deleted


def test_an_item_carries_ids_and_statuses_and_marks_tombstones(world):
    item = feed.as_item(_event([world.ua.pk], consortium_id=world.ca.pk))
    assert item["resource"] == {"type": "application", "id": "r1", "url": "http://127.0.0.1:8000/api/v1/applications/r1/"}
    assert item["consortium"] == str(world.ca.pk) and item["tombstone"] is False and item["data"] == {
        "status": "admitted"}
    gone = feed.as_item(_event([world.ua.pk], event_type="course.deleted"))
    assert gone["tombstone"] is True and gone["resource"]["url"] is None
    assert feed.as_item(_event([world.ua.pk], event_type="enrolment.withdrawn"))["tombstone"] is True


def test_decisions_are_recorded_for_the_programme_partners(world):
    a = make_admissions(world)
    application = submit(a)
    admissions.application_admit(actor=who(world, "UB_students"), application=application, reason="Fine.")
    events = FeedEvent.objects.filter(resource_id=str(application.pk)).order_by("seq")
    assert [e.event_type for e in events] == ["application.submitted", "application.decided"]
    decided = events.last()
    assert decided.data["status"] == "admitted" and decided.consortium_id == world.ca.pk
    assert {a.institution_id for a in decided.audience.all()} == {world.ua.pk, world.ub.pk, world.ea.pk}


# --- /api/v1/events/ ----------------------------------------------------------------------------------------------


def test_a_token_reads_the_events_of_its_institution_within_its_scopes(world, token_client):
    mine = _event([world.ub.pk, world.ua.pk], resource_id="ours")
    _event([world.uc.pk], resource_id="theirs")
    paid = _event([world.ub.pk], event_type="invoice.paid", resource_id="invoice")
    body = token_client(world.ub).get(f"{API}/events/").json()
    assert [e["resource"]["id"] for e in body["results"]] == ["ours", "invoice"]
    assert body["after"] == paid.seq and body["next"] is None
    narrow = _scoped(world.ub, ["events:read", "applications:read"]).get(f"{API}/events/").json()
    assert [e["seq"] for e in narrow["results"]] == [mine.seq]  # no finance:read, no invoice events


def test_the_feed_needs_its_scope_and_a_partner_system(world, token_client, client):
    assert _scoped(world.ub, ["applications:read"]).get(f"{API}/events/").status_code == 403
    client.force_login(world.people["UB_admin"])
    assert client.get(f"{API}/events/").status_code == 403  # people read the lists, not the feed
    from rest_framework.test import APIClient

    assert APIClient().get(f"{API}/events/", HTTP_AUTHORIZATION="Token nope").status_code == 401


def test_after_and_limit_page_through_the_feed(world, token_client):
    events = [_event([world.ub.pk], resource_id=f"r{i}") for i in range(5)]
    api = token_client(world.ub)
    page = api.get(f"{API}/events/", {"after": events[0].seq, "limit": 2}).json()
    assert [e["seq"] for e in page["results"]] == [events[1].seq, events[2].seq]
    assert page["after"] == events[2].seq and f"after={events[2].seq}" in page["next"]
    rest = api.get(page["next"]).json()
    assert [e["seq"] for e in rest["results"]] == [events[3].seq, events[4].seq]
    last = api.get(rest["next"]).json()
    assert last == {"next": None, "after": events[4].seq, "results": []}


@pytest.mark.parametrize("query", [{"after": "-1"}, {"after": "x"}, {"limit": "0"}, {"limit": "501"},
                                   {"after": str(2**63)}])
def test_bad_positions_are_a_400_with_the_field(world, token_client, query):
    response = token_client(world.ub).get(f"{API}/events/", query)
    assert response.status_code == 400 and set(response.json()) == set(query)


def test_the_feed_reads_in_a_bounded_number_of_queries(world, token_client, django_assert_max_num_queries):
    for i in range(30):
        _event([world.ub.pk], resource_id=f"r{i}")
    api = token_client(world.ub)
    with django_assert_max_num_queries(6):
        assert len(api.get(f"{API}/events/", {"limit": 30}).json()["results"]) == 30


# --- The change feed of the lists ----------------------------------------------------------------------------------


def _programmes(world, n):
    programmes = []
    for _ in range(n):
        programme = ProgrammeFactory(consortium=world.ca, lead_institution=world.ua)
        ProgrammePartnerFactory(programme=programme, institution=world.ub, role="partner")
        programmes.append(programme)
    return programmes


def _walk(api, url, params):
    ids = []
    while url:
        page = api.get(url, params).json()
        ids += [item["id"] for item in page["results"]]
        url, params = page["next"], None
    return ids


def test_updated_since_pages_by_updated_at_then_id_with_a_cursor(world, token_client):
    programmes = _programmes(world, 5)
    same = timezone.now() - dt.timedelta(hours=1)
    Programme.objects.filter(pk__in=[p.pk for p in programmes]).update(updated_at=same)  # ties, as bulk updates make
    api = token_client(world.ub)
    page = api.get(f"{API}/programmes/", {"updated_since": (same - dt.timedelta(seconds=1)).isoformat(),
                                          "page_size": 2}).json()
    assert "count" not in page and len(page["results"]) == 2 and "cursor=" in page["next"]
    walked = [item["id"] for item in page["results"]] + _walk(api, page["next"], None)
    assert walked == sorted(str(p.pk) for p in programmes)  # ties ordered by id, each once


def test_a_record_changing_while_a_partner_pages_moves_to_the_end_and_nothing_is_skipped(world, token_client):
    programmes = _programmes(world, 4)
    same = timezone.now() - dt.timedelta(hours=1)
    Programme.objects.filter(pk__in=[p.pk for p in programmes]).update(updated_at=same)
    api = token_client(world.ub)
    first = api.get(f"{API}/programmes/", {"updated_since": same.isoformat(), "page_size": 2}).json()
    seen = [item["id"] for item in first["results"]]
    Programme.objects.filter(pk=seen[0]).update(updated_at=timezone.now())  # changes between two pages
    rest = _walk(api, first["next"], None)
    assert set(seen + rest) == {str(p.pk) for p in programmes} and rest[-1] == seen[0]


def test_updated_since_filters_and_ordinary_requests_keep_their_page_numbers(world, token_client):
    old, new = _programmes(world, 2)
    Programme.objects.filter(pk=old.pk).update(updated_at=timezone.now() - dt.timedelta(days=3))
    api = token_client(world.ub)
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()
    assert _walk(api, f"{API}/programmes/", {"updated_since": since}) == [str(new.pk)]
    ordinary = api.get(f"{API}/programmes/", {"page_size": 1}).json()
    assert ordinary["count"] == 2 and "page=2" in ordinary["next"]


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z", "0001-01-01T00:00:00+01:00"])
def test_a_bad_updated_since_is_a_400_with_a_message(world, token_client, value):
    response = token_client(world.ub).get(f"{API}/applications/", {"updated_since": value})
    assert response.status_code == 400 and response.json()["updated_since"]


@pytest.mark.parametrize("cursor", ["", "garbage", Pagination.encode_cursor(timezone.now(), "not-a-uuid"),
                                    "eyJ0IjoiMjAyNi0wMS0wMVQwMDowMDowMCIsImlkIjoiMDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAt"
                                    "MDAwMDAwMDAwMDAwIn0"])
def test_a_bad_cursor_is_a_400(world, token_client, cursor):
    response = token_client(world.ub).get(f"{API}/programmes/", {"cursor": cursor})
    assert response.status_code == 400 and response.json()["cursor"]


@pytest.mark.parametrize("collection", ["institutions", "consortia", "memberships", "agreements", "programmes",
                                        "courses", "curriculum-versions", "editions", "applications", "enrolments",
                                        "results", "awards", "invoices", "payments", "webhooks"])
def test_every_list_answers_the_sync_mode(world, token_client, collection):
    response = token_client(world.ub).get(f"{API}/{collection}/", {"updated_since": "2000-01-01T00:00:00Z"})
    assert response.status_code == 200
    assert set(response.json()) == {"next", "previous", "results"}


def test_the_policy_has_the_feed_rules():
    assert {"feed.view", "webhook.manage", "webhook.view"} <= set(policy.registered_actions())
    assert {"events:read", "webhooks:read"} <= set(policy.api_scopes())

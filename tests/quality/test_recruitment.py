"""Recruitment (D9, quality/recruitment.py): segments with defaults, campaigns and their tracked links, page visits
counted by the middleware (and under concurrency on PostgreSQL), and the funnel per edition and segment against a
data set whose every count and rate is worked out by hand below."""

import datetime as dt
import html
import os
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from admissions.models import Application
from consortium.api import DomainError
from consortium.models import AuditEvent
from quality import middleware, recruitment
from quality.models import Campaign, PageVisit, Segment

from ..admissions.scenarios import open_edition
from ..concurrency import race
from ..factories import (
    ApplicationFactory,
    AwardFactory,
    CampaignFactory,
    ConsortiumFactory,
    EditionFactory,
    EnrolmentFactory,
    PageVisitFactory,
    ProgrammeFactory,
    RoleAssignmentFactory,
    SegmentFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db

UTC = dt.UTC
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def day(month: int, d: int) -> dt.date:
    return dt.date(2026, month, d)


# --- The set-up: a programme of consortium CA with a team leader and a member -----------------------------------


class Recruit:
    pass


def recruiting(world, *, intake_code: str, opens: dt.datetime, closes: dt.datetime) -> Recruit:
    """Programme "chip-design" of consortium CA (led by UA) with a closed edition, a team leader (UA) and a member
    (UB); also the set-up of the recruitment pages' tests."""
    s = Recruit()
    s.world = world
    s.programme = ProgrammeFactory(consortium=world.ca, code="chip-design", status="published",
                                   lead_institution=world.ua, issuing_institution=world.ua)
    s.edition = EditionFactory(programme=s.programme, intake_code=intake_code, status="closed",
                               application_opens_at=opens, application_closes_at=closes)
    s.leader = StaffFactory(institution=world.ua).user
    RoleAssignmentFactory(user=s.leader, role="team_leader", institution=world.ua, target_id=s.programme.pk)
    s.member = StaffFactory(institution=world.ub).user
    RoleAssignmentFactory(user=s.member, role="team_member", institution=world.ub, target_id=s.programme.pk)
    s.admin = world.people["CA_admin"]
    return s


@pytest.fixture
def r(world):
    return recruiting(world, intake_code="2026-autumn", opens=dt.datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
                      closes=dt.datetime(2026, 4, 30, 17, 0, tzinfo=UTC))


def other_programme(r, **fields):
    """Another programme of consortium CA (led by UA, its lead member)."""
    return ProgrammeFactory(consortium=r.world.ca, lead_institution=r.world.ua, issuing_institution=r.world.ua,
                            **fields)


def make_campaign(r, code, segment, channel="newsletter", **data):
    return recruitment.campaign_create(actor=r.leader, programme=r.programme, data={
        "name": code.replace("-", " ").title(), "code": code, "segment": segment, "channel": channel, **data})


# --- Segments -------------------------------------------------------------------------------------------------


def test_a_consortium_gets_the_three_default_segments_on_first_use(world):
    assert not Segment.objects.exists()
    segments = recruitment.segments(consortium=world.ca)
    assert [(s.name, s.position, s.active) for s in segments] == [
        ("Senior Expert", 0, True), ("Senior Explorer", 1, True), ("Junior Starter", 2, True)]
    assert all(s.description for s in segments)
    assert recruitment.segments(consortium=world.ca) == segments  # once only
    assert Segment.objects.filter(consortium=world.ca).count() == 3
    assert not Segment.objects.filter(consortium=world.cb).exists()  # per consortium, each on its own first use


def test_archived_defaults_do_not_come_back(world):
    for segment in recruitment.segments(consortium=world.ca):
        recruitment.segment_update(actor=world.people["CA_admin"], segment=segment, data={"active": False})
    assert recruitment.segments(consortium=world.ca) == []
    assert len(recruitment.segments(consortium=world.ca, include_archived=True)) == 3


def test_consortium_administrators_manage_segments(world):
    admin = world.people["CA_admin"]
    segment = recruitment.segment_create(actor=admin, consortium=world.ca, data={
        "name": "Returning Professional", "description": "Back to work after a career break"})
    # The defaults came first; the new one goes after them.
    assert [s.name for s in recruitment.segments(consortium=world.ca)] == [
        "Senior Expert", "Senior Explorer", "Junior Starter", "Returning Professional"]
    assert segment.position == 3
    assert AuditEvent.objects.filter(action="segment.created", object_id=str(segment.pk)).exists()
    recruitment.segment_update(actor=admin, segment=segment, data={"description": "After a break"})
    assert AuditEvent.objects.get(action="segment.updated").changes == {
        "description": ["Back to work after a career break", "After a break"]}
    with pytest.raises(ValidationError) as error:
        recruitment.segment_create(actor=admin, consortium=world.ca, data={"name": "senior EXPERT"})
    assert "already has a segment with this name" in str(error.value)
    for who in ("UA_admin", "UA_staff", "UC_admin", "learner"):
        with pytest.raises(PermissionDenied):
            recruitment.segment_create(actor=world.people[who], consortium=world.ca, data={"name": "X"})
    with pytest.raises(PermissionDenied):
        recruitment.segment_update(actor=admin, segment=SegmentFactory(consortium=world.cb), data={"name": "Y"})


# --- Campaigns and their links --------------------------------------------------------------------------------


def test_a_campaign_link_opens_the_programme_page_with_the_campaign_parameters(r, settings):
    settings.PUBLIC_BASE_URL = "https://jointcred.example.eu"
    expert = recruitment.segments(consortium=r.world.ca)[0]
    social = make_campaign(r, "spring-2027-linkedin", expert, channel="social", source="linkedin")
    newsletter = make_campaign(r, "alumni-mail", expert, edition=r.edition)
    path = reverse("programme-public", args=["chip-design"])
    assert path == "/programmes/chip-design/"
    assert recruitment.campaign_link(social) == (
        "https://jointcred.example.eu/programmes/chip-design/"
        "?utm_source=linkedin&utm_medium=social&utm_campaign=spring-2027-linkedin")
    # Without a source, the channel is the source too.
    assert recruitment.campaign_link(newsletter, absolute=False) == (
        "/programmes/chip-design/?utm_source=newsletter&utm_medium=newsletter&utm_campaign=alumni-mail")
    assert (newsletter.edition, newsletter.segment) == (r.edition, expert)
    event = AuditEvent.objects.get(action="campaign.created", object_id=str(social.pk))
    assert event.changes["code"] == "spring-2027-linkedin" and event.consortium_id == r.world.ca.pk
    assert [c.code for c in recruitment.campaigns(programme=r.programme)] == ["alumni-mail", "spring-2027-linkedin"]


@pytest.mark.parametrize(("code", "message"), [
    ("", "at least 3 characters"),
    ("ab", "at least 3 characters"),
    ("x" * 65, "at most 64 characters"),
    ("Spring-2027", "lower-case letters, digits and single hyphens"),
    ("spring 2027", "lower-case letters, digits and single hyphens"),
    ("spring_2027", "lower-case letters, digits and single hyphens"),
    ("-spring", "lower-case letters, digits and single hyphens"),
    ("spring-", "lower-case letters, digits and single hyphens"),
    ("spring--2027", "lower-case letters, digits and single hyphens"),
    ("printemps-été", "lower-case letters, digits and single hyphens"),
])
def test_campaign_codes_are_slugs_with_a_clear_message(r, code, message):
    expert = recruitment.segments(consortium=r.world.ca)[0]
    with pytest.raises(ValidationError) as error:
        recruitment.campaign_create(actor=r.leader, programme=r.programme, data={
            "name": "Spring", "code": code, "segment": expert, "channel": "email"})
    assert list(error.value.message_dict) == ["code"]
    assert len(error.value.message_dict["code"]) == 1 and message in error.value.message_dict["code"][0]
    assert not Campaign.objects.exists()


def test_campaign_codes_are_unique_across_programmes(r):
    expert = recruitment.segments(consortium=r.world.ca)[0]
    make_campaign(r, "spring-2027", expert)
    other = other_programme(r)
    with pytest.raises(ValidationError) as error:
        recruitment.campaign_create(actor=r.admin, programme=other, data={
            "name": "Spring", "code": " spring-2027 ", "segment": expert, "channel": "email"})
    assert error.value.message_dict == {"code": [
        "Another campaign already uses this code; codes are unique across the platform. Choose another one."]}
    with pytest.raises(IntegrityError), transaction.atomic():  # and the database says so too
        CampaignFactory(programme=other, segment=expert, code="spring-2027")


def test_a_campaign_needs_a_segment_of_its_consortium_an_edition_of_its_programme_and_a_channel(r):
    expert, _explorer, starter = recruitment.segments(consortium=r.world.ca)
    foreign = SegmentFactory(consortium=r.world.cb)
    with pytest.raises(ValidationError) as error:
        make_campaign(r, "foreign-segment", foreign)
    assert error.value.message_dict == {"segment": ["The segment belongs to another consortium than the programme."]}
    other_edition = EditionFactory()
    with pytest.raises(ValidationError) as error:
        make_campaign(r, "foreign-edition", expert, edition=other_edition)
    assert error.value.message_dict == {"edition": ["The edition is not an edition of this programme."]}
    with pytest.raises(ValidationError) as error:
        make_campaign(r, "bad-channel", expert, channel="carrier-pigeon")
    assert list(error.value.message_dict) == ["channel"]
    with pytest.raises(ValidationError) as error:
        make_campaign(r, "bad-source", expert, source="Linked In")
    assert list(error.value.message_dict) == ["source"]
    recruitment.segment_update(actor=r.admin, segment=starter, data={"active": False})
    with pytest.raises(ValidationError) as error:
        make_campaign(r, "archived-segment", starter)
    assert error.value.message_dict == {"segment": ["This segment is archived; choose an active one."]}
    assert not Campaign.objects.exists()


def test_a_campaign_changes_but_never_its_code(r):
    expert, explorer, _starter = recruitment.segments(consortium=r.world.ca)
    campaign = make_campaign(r, "spring-2027", expert)
    with pytest.raises(DomainError, match="code of a campaign cannot change"):
        recruitment.campaign_update(actor=r.leader, campaign=campaign, data={"code": "autumn-2027"})
    updated = recruitment.campaign_update(actor=r.leader, campaign=campaign, data={
        "code": "spring-2027", "segment": explorer, "channel": "event", "name": "Spring fair"})
    assert (updated.code, updated.segment, updated.channel, updated.name) == (
        "spring-2027", explorer, "event", "Spring fair")
    changes = AuditEvent.objects.get(action="campaign.updated").changes
    assert changes["segment"] == [str(expert.pk), str(explorer.pk)] and changes["channel"] == ["newsletter", "event"]
    # A campaign keeps its archived segment (its figures stay where they were).
    recruitment.segment_update(actor=r.admin, segment=explorer, data={"active": False})
    assert recruitment.campaign_update(actor=r.leader, campaign=campaign, data={"name": "Fair"}).name == "Fair"


def test_who_manages_and_sees_campaigns(r):
    from consortium import policy

    expert = recruitment.segments(consortium=r.world.ca)[0]
    make_campaign(r, "by-the-leader", expert)
    recruitment.campaign_create(actor=r.admin, programme=r.programme, data={
        "name": "By the administrator", "code": "by-the-admin", "segment": expert, "channel": "email"})
    people = r.world.people
    for who in (r.member, people["UA_staff"], people["UB_admin"], people["UC_admin"], people["learner"]):
        with pytest.raises(PermissionDenied):
            recruitment.campaign_create(actor=who, programme=r.programme, data={
                "name": "No", "code": "refused", "segment": expert, "channel": "email"})
    assert policy.can(r.member, "recruitment.view", r.programme)
    assert policy.can(r.leader, "recruitment.view", r.edition)
    assert not policy.can(people["UC_admin"], "recruitment.view", r.programme)
    visible = policy.filter(r.member, "recruitment.view", Campaign.objects.all())
    assert sorted(visible.values_list("code", flat=True)) == ["by-the-admin", "by-the-leader"]
    assert not policy.filter(people["UA_staff"], "recruitment.view", Campaign.objects.all()).exists()


# --- Page visits: the middleware -----------------------------------------------------------------------------


def visits() -> list[tuple[str | None, int]]:
    return sorted((((v.campaign.code if v.campaign else None), v.count)
                   for v in PageVisit.objects.select_related("campaign")), key=lambda row: (row[0] or "", row[1]))


@pytest.fixture
def page(r, client):
    r.campaign = make_campaign(r, "spring-2027", recruitment.segments(consortium=r.world.ca)[0])
    r.other_programme = other_programme(r, status="published", code="quantum")
    r.other_campaign = CampaignFactory(programme=r.other_programme, code="quantum-fair")
    r.url = reverse("programme-public", args=["chip-design"])

    def get(query: str = "", method: str = "get", path: str | None = None, **headers):
        headers.setdefault("HTTP_USER_AGENT", BROWSER)
        return getattr(client, method)((path or r.url) + query, **headers)

    r.get = get
    return r


def test_a_visit_of_the_programme_page_is_counted_per_day_and_campaign(page):
    assert page.get().status_code == 200
    assert page.get().status_code == 200
    assert page.get("?utm_source=newsletter&utm_medium=newsletter&utm_campaign=spring-2027").status_code == 200
    assert page.get("?utm_campaign=SPRING-2027 ").status_code == 200  # as admissions stores it: trimmed, any case
    assert visits() == [(None, 2), ("spring-2027", 2)]
    row = PageVisit.objects.get(campaign=page.campaign)
    assert (row.programme, row.day) == (page.programme, timezone.localdate())
    # Nothing else is kept: the counter's columns are all there is.
    assert {f.name for f in PageVisit._meta.get_fields()} == {"id", "programme", "campaign", "day", "count"}


def test_unknown_or_foreign_campaign_codes_count_under_no_campaign(page):
    for query in ("?utm_campaign=no-such-campaign", "?utm_campaign=quantum-fair", "?utm_campaign=",
                  "?utm_source=newsletter"):
        assert page.get(query).status_code == 200
    assert visits() == [(None, 4)]
    assert Campaign.objects.count() == 2  # no campaign was made up from the input


@pytest.mark.parametrize("garbage", [
    "x" * 5000, "spring-2027" + "-x" * 40, "'; DROP TABLE quality_pagevisit; --", "%ff%fe", "<script>", "ąę-😀",
    "spring-2027&utm_campaign=other",
])
def test_garbage_in_the_campaign_parameter_is_counted_under_no_campaign(page, garbage):
    response = page.get(f"?utm_campaign={garbage}")
    assert response.status_code == 200
    assert visits() == [(None, 1)]


def test_a_nul_character_is_refused_before_counting(page):
    assert page.get("?utm_campaign=spring%00").status_code == 400
    assert visits() == []


@pytest.mark.parametrize("agent", [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0)", "Baiduspider-render/2.0", "Sogou web spider/4.0",
    "CCBot/2.0 (https://commoncrawl.org/faq/)", "facebookexternalhit/1.1 (+crawler)", "SomeCRAWLER 1.0",
])
def test_robots_that_say_so_are_not_counted(page, agent):
    assert page.get("?utm_campaign=spring-2027", HTTP_USER_AGENT=agent).status_code == 200
    assert visits() == []


def test_only_successful_gets_of_the_programme_page_count(page, client):
    assert page.get(method="head").status_code == 200
    assert page.get(method="post").status_code == 405
    assert page.get(path="/programmes/no-such-programme/").status_code == 404
    other_programme(page, code="draft-one", status="draft")
    assert page.get(path="/programmes/draft-one/").status_code == 404  # not published: no page, no visit
    assert page.get(path=reverse("catalogue")).status_code == 200  # another page
    assert page.get(HTTP_SEC_PURPOSE="prefetch").status_code == 200  # a browser's prefetch
    assert page.get(HTTP_PURPOSE="prefetch").status_code == 200
    assert visits() == []
    assert page.get(path="/programmes/quantum/").status_code == 200
    assert [(v.programme.code, v.count) for v in PageVisit.objects.all()] == [("quantum", 1)]


def test_a_counter_that_cannot_be_written_does_not_break_the_page(page, monkeypatch):
    def broken(**kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(recruitment, "visit_record", broken)
    assert page.get().status_code == 200


def test_the_middleware_is_installed_near_the_end(settings):
    assert "quality.middleware.PageVisitMiddleware" in settings.MIDDLEWARE
    assert settings.MIDDLEWARE[-2:] == ["quality.middleware.PageVisitMiddleware",
                                        "consortium.unavailable.DatabaseUnavailableMiddleware"]
    assert middleware.is_robot("Googlebot") and not middleware.is_robot(BROWSER)


def test_programmes_do_not_import_quality():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for app in ("consortium", "programmes", "admissions", "assessment", "certification", "finance"):
        for folder, _dirs, files in os.walk(os.path.join(root, app)):
            for name in files:
                if name.endswith(".py"):
                    with open(os.path.join(folder, name), encoding="utf-8") as source:
                        text = source.read()
                    assert not re.search(r"^\s*(from|import) quality\b", text, re.M), f"{folder}/{name}"


def test_visit_record_and_visits_by_day(r):
    campaign = CampaignFactory(programme=r.programme, code="spring-2027")
    for _ in range(3):
        assert recruitment.visit_record(programme_code="chip-design", utm_campaign="spring-2027", day=day(3, 2))
    assert recruitment.visit_record(programme_code="chip-design", day=day(3, 4))
    assert not recruitment.visit_record(programme_code="no-such-programme", day=day(3, 4))
    assert PageVisit.objects.get(campaign=campaign).count == 3
    assert recruitment.visits_by_day(programme=r.programme, first=day(3, 1), last=day(3, 4)) == [
        (day(3, 1), 0), (day(3, 2), 3), (day(3, 3), 0), (day(3, 4), 1)]
    assert recruitment.visits_by_day(programme=r.programme, first=day(3, 4), last=day(3, 1)) == []


def test_the_campaign_less_counter_is_one_row_per_programme_and_day(r):
    """NULLs are distinct in a plain unique constraint: the partial one keeps "no campaign" to one row too."""
    PageVisitFactory(programme=r.programme, campaign=None, day=day(3, 2))
    with pytest.raises(IntegrityError), transaction.atomic():
        PageVisitFactory(programme=r.programme, campaign=None, day=day(3, 2))
    campaign = CampaignFactory(programme=r.programme)
    PageVisitFactory(programme=r.programme, campaign=campaign, day=day(3, 2))
    with pytest.raises(IntegrityError), transaction.atomic():
        PageVisitFactory(programme=r.programme, campaign=campaign, day=day(3, 2))


# --- The full path: tracked link → page → Apply → application → funnel ------------------------------------------


def test_a_learner_who_follows_a_campaign_link_is_counted_under_its_segment(client):
    s = open_edition()
    junior = recruitment.segments(consortium=s.programme.consortium)[2]
    campaign = recruitment.campaign_create(actor=s.leader, programme=s.programme, data={
        "name": "Career fair", "code": "career-fair-2026", "segment": junior, "channel": "event"})
    link = recruitment.campaign_link(campaign)
    parts = urlsplit(link)
    page = html.unescape(client.get(f"{parts.path}?{parts.query}", HTTP_USER_AGENT=BROWSER).content.decode())
    apply_link = re.search(r'href="(/apply/[^"]+)"', page).group(1)
    assert parse_qs(urlsplit(apply_link).query) == {
        "utm_source": ["event"], "utm_medium": ["event"], "utm_campaign": ["career-fair-2026"]}
    client.force_login(s.learner)
    assert client.get(apply_link).status_code == 302
    application = Application.objects.get(applicant=s.learner)
    assert application.utm_campaign == campaign.code
    result = recruitment.funnel(edition=s.edition)
    row = next(row for row in result.segments if row.segment == junior)
    assert (row["visits"].count, row["started"].count, row["submitted"].count) == (1, 1, 0)
    assert row.campaigns[0].campaign == campaign and row.campaigns[0].counts["started"] == 1
    assert result.direct.counts == {"visits": 0, "started": 0, "submitted": 0, "admitted": 0, "enrolled": 0,
                                    "awarded": 0}


# --- The funnel -----------------------------------------------------------------------------------------------

STATUS_AT = {"started": "draft", "submitted": "under_review", "admitted": "offer_accepted", "enrolled": "enrolled",
             "awarded": "completed"}


def apply(edition, utm_campaign: str, stage: str, status: str | None = None) -> Application:
    """An application that got as far as ``stage`` (its furthest stage), in ``status``."""
    application = ApplicationFactory(
        edition=edition, utm_campaign=utm_campaign, status=status or STATUS_AT[stage],
        submitted_at=None if stage == "started" else timezone.now())
    if stage in ("enrolled", "awarded"):
        enrolment = EnrolmentFactory(application=application)
        if stage == "awarded":
            AwardFactory(enrolment=enrolment)
    return application


#: (utm_campaign as stored on the application, furthest stage, status) — per campaign, then direct.
APPLICATIONS = {
    # Segment "Senior Expert", campaign 1: 8 started, 6 submitted, 4 admitted, 3 enrolled, 2 awarded.
    "expert-newsletter": [
        ("expert-newsletter", "awarded", "completed"),
        ("expert-newsletter", "awarded", "enrolled"),
        ("expert-newsletter", "enrolled", "withdrawn"),  # withdrew after enrolment: still admitted and enrolled
        ("expert-newsletter", "admitted", "declined"),
        ("expert-newsletter", "submitted", "rejected"),
        ("expert-newsletter", "submitted", "waitlisted"),
        ("Expert-Newsletter", "started", "draft"),  # the code in another case is the same campaign
        ("expert-newsletter", "started", "withdrawn"),  # withdrew a draft: started only
    ],
    # Segment "Senior Expert", campaign 2: 4 started, 3 submitted, 2 admitted, 2 enrolled, 1 awarded.
    "expert-linkedin": [
        ("expert-linkedin", "awarded", "completed"),
        ("expert-linkedin", "enrolled", "suspended"),
        ("expert-linkedin", "submitted", "withdrawn"),
        ("expert-linkedin", "started", "draft"),
    ],
    # Segment "Junior Starter": 6 started, 4 submitted, 2 admitted, 1 enrolled, 0 awarded.
    "starter-fair": [
        ("starter-fair", "enrolled", "enrolled"),
        ("starter-fair", "admitted", "awaiting_payment"),
        ("starter-fair", "submitted", "info_requested"),
        ("starter-fair", "submitted", "submitted"),
        ("starter-fair", "started", "draft"),
        ("starter-fair", "started", "draft"),
    ],
    # No campaign / direct: 5 started, 3 submitted, 2 admitted, 2 enrolled, 1 awarded.
    None: [
        ("", "awarded", "completed"),
        ("spring", "enrolled", "enrolled"),  # an unknown code
        ("quantum-fair", "submitted", "under_review"),  # another programme's campaign
        ("", "started", "draft"),
        ("", "started", "draft"),
    ],
}


@pytest.fixture
def data(r):
    """The data set: 2 segments with campaigns (and one without), 3 campaigns, visits in and out of the window."""
    expert, explorer, starter = recruitment.segments(consortium=r.world.ca)
    r.expert, r.explorer, r.starter = expert, explorer, starter
    r.newsletter = make_campaign(r, "expert-newsletter", expert)
    r.linkedin = make_campaign(r, "expert-linkedin", expert, channel="social", source="linkedin")
    r.fair = make_campaign(r, "starter-fair", starter, channel="event", edition=r.edition)
    other = other_programme(r, code="quantum")
    quantum = CampaignFactory(programme=other, segment=expert, code="quantum-fair")
    # Visits in the window (1 March – 30 April, both days in full): 25 + 15, 20, 30 direct.
    PageVisitFactory(programme=r.programme, campaign=r.newsletter, day=day(3, 1), count=20)
    PageVisitFactory(programme=r.programme, campaign=r.newsletter, day=day(4, 30), count=5)
    PageVisitFactory(programme=r.programme, campaign=r.linkedin, day=day(3, 15), count=15)
    PageVisitFactory(programme=r.programme, campaign=r.fair, day=day(4, 2), count=20)
    PageVisitFactory(programme=r.programme, campaign=None, day=day(3, 10), count=29)
    recruitment.visit_record(programme_code="chip-design", utm_campaign="no-such-code", day=day(3, 10))  # → 30
    # Not counted: before and after the window, another programme.
    PageVisitFactory(programme=r.programme, campaign=r.newsletter, day=day(2, 28), count=100)
    PageVisitFactory(programme=r.programme, campaign=None, day=day(5, 1), count=50)
    PageVisitFactory(programme=other, campaign=quantum, day=day(3, 10), count=70)
    for rows in APPLICATIONS.values():
        for utm, stage, status in rows:
            apply(r.edition, utm, stage, status)
    # Not counted: another edition of the programme, another programme.
    apply(EditionFactory(programme=r.programme), "expert-newsletter", "awarded")
    apply(EditionFactory(programme=other), "quantum-fair", "enrolled")
    return r


def counts(row) -> tuple[int, ...]:
    return tuple(stage.count for stage in row.stages)


def rates(row, which: str = "rate_from_previous") -> tuple:
    return tuple(getattr(stage, which) for stage in row.stages)


def test_funnel_counts_per_segment_campaign_direct_and_total(data):
    result = recruitment.funnel(edition=data.edition)
    assert (result.first_day, result.last_day) == (day(3, 1), day(4, 30))
    assert [row.label for row in result.rows] == [
        "Senior Expert", "Senior Explorer", "Junior Starter", "No campaign / direct", "Total"]
    assert [row.kind for row in result.rows] == ["segment", "segment", "segment", "direct", "total"]
    expert, explorer, starter = result.segments
    #                        visits started submitted admitted enrolled awarded
    assert counts(expert) == (40, 12, 9, 6, 5, 3)
    assert counts(explorer) == (0, 0, 0, 0, 0, 0)
    assert counts(starter) == (20, 6, 4, 2, 1, 0)
    assert counts(result.direct) == (30, 5, 3, 2, 2, 1)
    assert counts(result.total) == (90, 23, 16, 10, 8, 4)
    assert [(c.campaign.code, counts(c)) for c in expert.campaigns] == [
        ("expert-linkedin", (15, 4, 3, 2, 2, 1)), ("expert-newsletter", (25, 8, 6, 4, 3, 2))]
    assert [(c.campaign.code, counts(c)) for c in starter.campaigns] == [("starter-fair", (20, 6, 4, 2, 1, 0))]
    assert explorer.campaigns == () and expert.segment == data.expert
    assert expert["enrolled"].count == 5 and expert.counts["awarded"] == 3


def test_funnel_rates_stage_to_stage_and_from_visits(data):
    expert, explorer, starter = (result := recruitment.funnel(edition=data.edition)).segments
    assert rates(expert) == (None, 12 / 40, 9 / 12, 6 / 9, 5 / 6, 3 / 5)
    assert rates(expert, "rate_from_visits") == (None, 12 / 40, 9 / 40, 6 / 40, 5 / 40, 3 / 40)
    assert rates(expert)[1:3] == (0.3, 0.75)
    assert rates(starter) == (None, 6 / 20, 4 / 6, 2 / 4, 1 / 2, 0.0)
    assert rates(starter, "rate_from_visits") == (None, 6 / 20, 4 / 20, 2 / 20, 1 / 20, 0.0)
    # No visits, no applications: no rate anywhere (None, never a division by zero).
    assert rates(explorer) == rates(explorer, "rate_from_visits") == (None,) * 6
    assert rates(result.direct) == (None, 5 / 30, 3 / 5, 2 / 3, 2 / 2, 1 / 2)
    assert rates(result.direct, "rate_from_visits") == (None, 5 / 30, 3 / 30, 2 / 30, 2 / 30, 1 / 30)
    assert rates(result.total) == (None, 23 / 90, 16 / 23, 10 / 16, 8 / 10, 4 / 8)
    assert rates(result.total, "rate_from_visits") == (None, 23 / 90, 16 / 90, 10 / 90, 8 / 90, 4 / 90)
    assert [s.label for s in expert.stages] == [
        "Page visits", "Started applications", "Submitted", "Admitted", "Enrolled", "Awarded"]


def test_an_edition_without_visits_or_applications(r):
    result = recruitment.funnel(edition=EditionFactory(programme=r.programme))
    assert counts(result.total) == (0,) * 6 and rates(result.total) == (None,) * 6
    assert [row.label for row in result.segments] == []  # the consortium never used its segments yet
    assert recruitment.rate(3, 0) is None and recruitment.rate(0, 4) == 0.0


def test_applications_without_visits_give_a_rate_but_no_rate_from_visits(r):
    apply(r.edition, "", "submitted")
    direct = recruitment.funnel(edition=r.edition).direct
    assert counts(direct) == (0, 1, 1, 0, 0, 0)
    assert rates(direct) == (None, None, 1.0, 0.0, None, None)
    assert rates(direct, "rate_from_visits") == (None,) * 6


def test_an_editions_funnel_lists_the_campaigns_for_it_or_for_any_edition_not_those_for_others(data):
    """Campaigns tied to another edition stay out of this edition's table, unless their link brought this edition
    visits or applications: then they are listed, so that no count goes missing from their segment."""
    later = EditionFactory(programme=data.programme, intake_code="2027-autumn",
                           application_opens_at=dt.datetime(2027, 3, 1, 9, 0, tzinfo=UTC),
                           application_closes_at=dt.datetime(2027, 4, 30, 17, 0, tzinfo=UTC))
    make_campaign(data, "later-quiet", data.expert, edition=later)
    make_campaign(data, "later-used", data.starter, edition=later)
    apply(data.edition, "later-used", "submitted")  # someone applied to this edition through the later link

    def listed(result):
        return [(segment.label, [c.campaign.code for c in segment.campaigns]) for segment in result.segments]

    result = recruitment.funnel(edition=data.edition)
    assert listed(result) == [("Senior Expert", ["expert-linkedin", "expert-newsletter"]), ("Senior Explorer", []),
                              ("Junior Starter", ["later-used", "starter-fair"])]
    assert counts(result.segments[2].campaigns[0]) == (0, 1, 1, 0, 0, 0)
    assert counts(result.segments[2]) == (20, 7, 5, 2, 1, 0)  # starter-fair's 20, 6, 4, 2, 1, 0 and the one
    assert counts(result.total) == (90, 24, 17, 10, 8, 4)  # one more started and submitted than without it
    # The later edition lists its own campaigns and those for any edition, not this edition's "starter-fair".
    assert listed(recruitment.funnel(edition=later)) == [
        ("Senior Expert", ["expert-linkedin", "expert-newsletter", "later-quiet"]), ("Senior Explorer", []),
        ("Junior Starter", ["later-used"])]


def test_archived_segments_show_only_while_they_have_campaigns(data):
    recruitment.segment_update(actor=data.admin, segment=data.explorer, data={"active": False})
    recruitment.segment_update(actor=data.admin, segment=data.starter, data={"active": False})
    assert [row.label for row in recruitment.funnel(edition=data.edition).segments] == [
        "Senior Expert", "Junior Starter"]


def test_ever_admitted_follows_the_transition_table():
    """The statuses that only an admission leads to: not withdrawn (a draft can be withdrawn), not waitlisted or
    rejected."""
    expected = {"admitted", "offer_accepted", "declined", "lapsed", "awaiting_payment", "enrolled", "suspended",
                "completed"}
    assert set(recruitment.EVER_ADMITTED) == expected
    table = {"a": {"b", "x"}, "b": {"c"}, "x": {"c", "d"}, "c": set(), "d": set()}
    assert recruitment._implied_by("b", table, "a") == {"b"}  # c is reached through x as well
    assert recruitment._implied_by("x", table, "a") == {"x", "d"}


def more_data(r, n: int) -> None:
    """``n`` more applications at every stage through each campaign, and ``n`` more visit rows."""
    campaigns = [CampaignFactory(programme=r.programme, segment=r.expert) for _ in range(3)]
    for i in range(n):
        campaign = campaigns[i % 3]
        for stage in STATUS_AT:
            apply(r.edition, campaign.code, stage)
        PageVisitFactory(programme=r.programme, campaign=campaign, day=day(3, 1) + dt.timedelta(days=i), count=i)


def test_the_funnel_asks_four_queries_whatever_the_data(data, django_assert_num_queries):
    with django_assert_num_queries(4):
        small = recruitment.funnel(edition=data.edition)
    more_data(data, 30)
    with django_assert_num_queries(4):
        large = recruitment.funnel(edition=data.edition)
    assert large.total["started"].count == small.total["started"].count + 30 * 5
    assert len(large.segments[0].campaigns) == 5


# --- Concurrency (PostgreSQL) ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("code", ["spring-2027", None], ids=["campaign", "no-campaign"])
def test_concurrent_visits_lose_no_count(code):
    """Eight requests at once, 25 visits each, on a counter row that does not exist yet: the first increments race
    to create the row (the unique constraint lets one win, the others increment it), then the increments queue on
    the row lock of ``count = count + 1``. Every visit is counted, in one row."""
    if connection.vendor != "postgresql":
        reason = f"Concurrency tests need PostgreSQL; the database is {connection.vendor}."
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the concurrency tests: {reason}")
        pytest.skip(reason)
    programme = ProgrammeFactory(code="chip-design", consortium=ConsortiumFactory())
    CampaignFactory(programme=programme, code="spring-2027")
    today = timezone.localdate()

    def visit_25_times():
        for _ in range(25):
            recruitment.visit_record(programme_code="chip-design", utm_campaign=code, day=today)
        return True

    results = race(*[visit_25_times] * 8)
    assert results == [("ok", True)] * 8
    rows = list(PageVisit.objects.filter(programme=programme, day=today).values_list("campaign__code", "count"))
    assert rows == [(code, 200)]

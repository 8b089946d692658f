"""The recruitment pages (quality/views_recruitment.py): a consortium's segments, a programme's campaigns with their
tracked links and counts, and the funnel page with its CSV, every figure on the page checked against a data set
whose counts and rates are worked out by hand below."""

import csv
import datetime as dt
import io
import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from consortium.models import AuditEvent
from quality import charts, recruitment
from quality.models import Campaign, Segment

from ..factories import (
    ApplicationFactory,
    AwardFactory,
    CampaignFactory,
    EditionFactory,
    EnrolmentFactory,
    PageVisitFactory,
    ProgrammeFactory,
    RoleAssignmentFactory,
    SegmentFactory,
    StaffFactory,
)
from .test_recruitment import recruiting

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def day(month: int, d: int, year: int = 2026) -> dt.date:
    return dt.date(year, month, d)


class Tables(HTMLParser):
    """Every <table> of a page as {caption: [[cell text, …], …]} (header row included), whitespace collapsed."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._caption = self._cell = self._rows = None
        self._in_caption = False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._rows, self._caption = [], ""
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th") and self._rows is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th") and self._cell is not None:
            self._rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table" and self._rows is not None:
            self.tables[" ".join(self._caption.split())] = self._rows
            self._rows = None

    def handle_data(self, data):
        if self._in_caption:
            self._caption += data
        elif self._cell is not None:
            self._cell.append(data)


def tables(response) -> dict[str, list[list[str]]]:
    return Tables(response.content.decode()).tables


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def s(world):
    """Programme "chip-design" of consortium CA (led by UA) with a team leader and a member, and the segments."""
    s = recruiting(world, intake_code="2026-spring", opens=dt.datetime(2026, 3, 1, 8, 0, tzinfo=UTC),
                   closes=dt.datetime(2026, 3, 10, 18, 0, tzinfo=UTC))
    s.expert, s.explorer, s.starter = recruitment.segments(consortium=world.ca)
    return s


def campaign(s, code: str, segment, channel: str = "email", **data) -> Campaign:
    return recruitment.campaign_create(actor=s.leader, programme=s.programme, data={
        "name": code.replace("-", " ").title(), "code": code, "segment": segment, "channel": channel, **data})


# --- Segments -------------------------------------------------------------------------------------------------


def test_consortium_administrators_see_the_segments_with_their_descriptions(s):
    campaign(s, "expert-mail", s.expert)
    response = client_for(s.admin).get(reverse("segment-list", args=[s.world.ca.pk]))
    assert response.status_code == 200
    active = tables(response)["Active segments, offered for new campaigns"]
    assert active[0] == ["Segment", "Who belongs to it", "Campaigns", "Actions"]
    assert [row[0] for row in active[1:]] == ["Senior Expert", "Senior Explorer", "Junior Starter"]
    assert [row[2] for row in active[1:]] == ["1", "0", "0"]  # one campaign aims at Senior Expert
    assert active[1][1] == recruitment.DEFAULT_SEGMENTS[0][1]
    assert "Archived segments" not in tables(response)
    assert reverse("segment-edit", args=[s.expert.pk]) in response.content.decode()


def test_the_consortium_page_links_to_the_segments_for_its_administrators(s):
    link = reverse("segment-list", args=[s.world.ca.pk])
    page = reverse("consortium-detail", args=[s.world.ca.pk])
    assert link in client_for(s.admin).get(page).content.decode()
    member_page = client_for(s.world.people["UA_staff"]).get(page)
    assert member_page.status_code == 200 and link not in member_page.content.decode()


def test_a_segment_is_added_and_a_duplicate_name_is_refused_on_the_form(s):
    client = client_for(s.admin)
    url = reverse("segment-create", args=[s.world.ca.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"name": "Returning Professional", "description": "Back after a career break"})
    assert response.status_code == 302 and response["Location"] == reverse("segment-list", args=[s.world.ca.pk])
    segment = Segment.objects.get(consortium=s.world.ca, name="Returning Professional")
    assert (segment.position, segment.active) == (3, True)  # after the three defaults
    assert AuditEvent.objects.filter(action="segment.created", object_id=str(segment.pk)).exists()
    refused = client.post(url, {"name": "senior EXPERT"})
    assert refused.status_code == 200
    assert "The consortium already has a segment with this name." in refused.content.decode()
    assert Segment.objects.filter(consortium=s.world.ca).count() == 4


def test_a_segment_in_use_is_archived_not_deleted_and_comes_back(s):
    used = campaign(s, "expert-mail", s.expert)
    client = client_for(s.admin)
    url = reverse("segment-edit", args=[s.expert.pk])
    form = client.get(url).content.decode()
    assert "1 campaign(s) aim at this segment" in form and "Segments are never deleted" in form
    response = client.post(url, {"name": "Senior Expert", "description": "Experts", "position": "0"}, follow=True)
    assert "Senior Expert is archived: its campaigns keep it" in response.content.decode()
    s.expert.refresh_from_db()
    assert not s.expert.active and Campaign.objects.get(pk=used.pk).segment == s.expert
    archived = tables(response)["Archived segments"]
    assert archived[1][:3] == ["Senior Expert", "Experts", "1"]
    # No longer offered for new campaigns, still shown on its campaign's edit form.
    new = client_for(s.leader).get(reverse("campaign-create", args=[s.programme.pk])).content.decode()
    assert f'value="{s.expert.pk}"' not in new and f'value="{s.starter.pk}"' in new
    edit = client_for(s.leader).get(reverse("campaign-edit", args=[used.pk])).content.decode()
    assert "Senior Expert (archived)" in edit
    back = client.post(url, {"name": "Senior Expert", "description": "Experts", "position": "0", "active": "on"},
                       follow=True)
    assert "Senior Expert is active again." in back.content.decode()
    assert Segment.objects.get(pk=s.expert.pk).active


def test_only_the_consortiums_administrators_reach_its_segments(s):
    people = s.world.people
    foreign = SegmentFactory(consortium=s.world.cb)
    urls = [reverse("segment-list", args=[s.world.ca.pk]), reverse("segment-create", args=[s.world.ca.pk]),
            reverse("segment-edit", args=[s.expert.pk])]
    for url in urls:
        assert client_for(s.admin).get(url).status_code == 200
        for who in (people["UA_staff"], people["UA_admin"], s.leader):  # members of CA, not administrators
            assert client_for(who).get(url).status_code == 403, url
        for who in (people["UC_admin"], people["learner"]):  # not members of CA: as if it did not exist
            assert client_for(who).get(url).status_code == 404, url
        assert Client().get(url)["Location"].startswith("/accounts/login/")
    assert client_for(s.admin).get(reverse("segment-edit", args=[foreign.pk])).status_code == 404
    assert client_for(s.admin).post(reverse("segment-edit", args=[foreign.pk]), {"name": "Mine"}).status_code == 404
    assert Segment.objects.get(pk=foreign.pk).name != "Mine"
    assert client_for(s.leader).post(urls[1], {"name": "By the leader"}).status_code == 403
    assert not Segment.objects.filter(name="By the leader").exists()


# --- Campaigns ------------------------------------------------------------------------------------------------


def test_the_campaign_list_shows_each_tracked_link_to_copy_and_its_counts(s, settings):
    settings.PUBLIC_BASE_URL = "https://jointcred.example.eu"
    mail = campaign(s, "expert-mail", s.expert, source="alumni-mail")
    PageVisitFactory(programme=s.programme, campaign=mail, day=day(3, 2), count=12)
    ApplicationFactory(edition=s.edition, utm_campaign="expert-mail")
    ApplicationFactory(edition=s.edition, utm_campaign="expert-mail", status="submitted", submitted_at=timezone.now())
    response = client_for(s.member).get(reverse("campaign-list", args=[s.programme.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    link = "https://jointcred.example.eu/programmes/chip-design/?utm_source=alumni-mail&amp;utm_medium=email" \
           "&amp;utm_campaign=expert-mail"
    assert re.search(rf'<input id="link-{mail.pk}" class="mono" size="30" readonly value="{re.escape(link)}"', page)
    assert f'data-copy-target="link-{mail.pk}"' in page and 'aria-label="Tracked link of Expert Mail"' in page
    table = tables(response)["Campaigns and their figures for the 2026-spring edition"]
    assert table[0][3:] == ["Page visits", "Started applications", "Submitted", "Admitted", "Enrolled", "Awarded"]
    assert table[1][1:] == ["Senior Expert", "Email · alumni-mail", "12", "2", "1", "0", "0", "0"]
    # A team member sees; only the leader and the administrators change.
    assert reverse("campaign-create", args=[s.programme.pk]) not in page
    assert reverse("campaign-edit", args=[mail.pk]) not in page
    leader_page = client_for(s.leader).get(reverse("campaign-list", args=[s.programme.pk])).content.decode()
    assert reverse("campaign-edit", args=[mail.pk]) in leader_page


def test_the_campaign_list_filters_by_segment_and_channel_and_pages(s):
    campaign(s, "expert-mail", s.expert)
    campaign(s, "expert-fair", s.expert, channel="event")
    campaign(s, "starter-fair", s.starter, channel="event")
    client = client_for(s.leader)
    url = reverse("campaign-list", args=[s.programme.pk])

    def codes(**query):
        rows = tables(client.get(url, query))
        table = next(v for k, v in rows.items() if k.startswith("Campaigns"))
        return [re.search(r"[a-z0-9]+(?:-[a-z0-9]+)+", row[0]).group(0) for row in table[1:] if len(row) > 2]

    assert codes() == ["expert-fair", "expert-mail", "starter-fair"]
    assert codes(segment=str(s.expert.pk)) == ["expert-fair", "expert-mail"]
    assert codes(channel="event") == ["expert-fair", "starter-fair"]
    assert codes(segment=str(s.starter.pk), channel="email") == []
    empty = client.get(url, {"segment": str(s.starter.pk), "channel": "email"}).content.decode()
    assert "No campaign matches these filters." in empty
    for garbage in ({"segment": "not-a-uuid"}, {"segment": str(SegmentFactory().pk)}, {"channel": "pigeon"}):
        response = client.get(url, garbage)
        assert response.status_code == 200
        assert "These filters were not applied:" in response.content.decode()
        assert codes(**garbage) == ["expert-fair", "expert-mail", "starter-fair"]
    for i in range(27):
        CampaignFactory(programme=s.programme, segment=s.explorer, code=f"more-{i:02d}")
    first = client.get(url).content.decode()
    assert "Page 1 of 2" in first and "30 results" in first
    assert "Page 2 of 2" in client.get(url, {"page": "2"}).content.decode()


def test_the_counts_follow_the_chosen_edition_and_a_wrong_one_says_so(s):
    mail = campaign(s, "expert-mail", s.expert)
    older = EditionFactory(programme=s.programme, intake_code="2025-autumn",
                           application_opens_at=dt.datetime(2025, 9, 1, tzinfo=UTC),
                           application_closes_at=dt.datetime(2025, 9, 30, tzinfo=UTC))
    for _ in range(3):
        ApplicationFactory(edition=older, utm_campaign=mail.code)
    client = client_for(s.leader)
    url = reverse("campaign-list", args=[s.programme.pk])
    latest = tables(client.get(url))["Campaigns and their figures for the 2026-spring edition"]
    assert latest[1][4] == "0"
    chosen = tables(client.get(url, {"edition": str(older.pk)}))
    assert chosen["Campaigns and their figures for the 2025-autumn edition"][1][4] == "3"
    for wrong in ("garbage", str(EditionFactory().pk)):
        response = client.get(url, {"edition": wrong})
        assert response.status_code == 200
        assert "This programme has no such edition." in response.content.decode()
        assert tables(response)["Campaigns"][1][3:9] == ["—"] * 6


def test_a_campaign_is_created_and_bad_input_is_refused_on_the_form(s):
    client = client_for(s.leader)
    url = reverse("campaign-create", args=[s.programme.pk])
    form = client.get(url)
    assert form.status_code == 200 and "Notes" in form.content.decode()
    data = {"name": "Alumni newsletter", "code": "alumni-2026", "segment": str(s.expert.pk), "channel": "newsletter",
            "source": "alumni-mail", "edition": str(s.edition.pk), "description": ""}
    response = client.post(url, data)
    assert response.status_code == 302 and response["Location"] == reverse("campaign-list", args=[s.programme.pk])
    made = Campaign.objects.get(code="alumni-2026")
    assert (made.programme, made.segment, made.edition, made.source) == (s.programme, s.expert, s.edition,
                                                                         "alumni-mail")
    assert AuditEvent.objects.filter(action="campaign.created", object_id=str(made.pk)).exists()

    def refused(**changes) -> str:
        response = client.post(url, {**data, **changes})
        assert response.status_code == 200
        return response.content.decode()

    assert "Another campaign already uses this code" in refused()
    other = ProgrammeFactory(consortium=s.world.ca, lead_institution=s.world.ua)
    CampaignFactory(programme=other, segment=s.expert, code="used-elsewhere")
    assert "Another campaign already uses this code" in refused(code="used-elsewhere")
    assert "Use lower-case letters, digits and single hyphens" in refused(code="Spring 2027")
    foreign = SegmentFactory(consortium=s.world.cb)
    assert "Choose one of the active segments of this programme&#x27;s consortium." in refused(
        code="foreign-segment", segment=str(foreign.pk))
    assert "Choose an edition of this programme." in refused(code="foreign-edition",
                                                             edition=str(EditionFactory().pk))
    assert "Choose an edition of this programme." in refused(code="garbage-edition", edition="not-a-uuid")
    recruitment.segment_update(actor=s.admin, segment=s.starter, data={"active": False})
    assert "Choose one of the active segments" in refused(code="archived-segment", segment=str(s.starter.pk))
    assert Campaign.objects.filter(programme=s.programme).count() == 1


def test_a_campaign_is_edited_but_its_code_stays(s):
    made = campaign(s, "expert-mail", s.expert)
    client = client_for(s.admin)
    url = reverse("campaign-edit", args=[made.pk])
    form = client.get(url).content.decode()
    assert "Tracked link:" in form and "utm_campaign=expert-mail" in form
    assert re.search(r'<input[^>]*name="code"[^>]*disabled', form)
    response = client.post(url, {"name": "Expert mailing", "code": "hijacked", "segment": str(s.explorer.pk),
                                 "channel": "social", "source": "linkedin", "edition": ""})
    assert response.status_code == 302
    made.refresh_from_db()
    assert (made.name, made.code, made.segment, made.channel, made.source) == (
        "Expert mailing", "expert-mail", s.explorer, "social", "linkedin")
    assert AuditEvent.objects.filter(action="campaign.updated", object_id=str(made.pk)).exists()


def test_who_sees_and_who_changes_campaigns(s):
    made = campaign(s, "expert-mail", s.expert)
    people = s.world.people
    qa_officer = StaffFactory(institution=s.world.ua).user
    RoleAssignmentFactory(user=qa_officer, role="quality_officer", institution=s.world.ua)
    views = [reverse("campaign-list", args=[s.programme.pk]), reverse("recruitment-funnel", args=[s.programme.pk]),
             reverse("recruitment-funnel-csv", args=[s.programme.pk])]
    changes = [reverse("campaign-create", args=[s.programme.pk]), reverse("campaign-edit", args=[made.pk])]
    for url in views + changes:
        assert client_for(s.leader).get(url).status_code == 200, url
        assert client_for(s.admin).get(url).status_code == 200, url
        assert client_for(s.member).get(url).status_code == (200 if url in views else 403), url
        assert client_for(qa_officer).get(url).status_code == 403, url  # sees the quality, not the recruitment
        for who in (people["UA_staff"], people["UC_admin"], people["learner"]):
            assert client_for(who).get(url).status_code == 404, url
    response = client_for(s.member).post(changes[1], {"name": "Mine", "segment": str(s.expert.pk),
                                                      "channel": "email"})
    assert response.status_code == 403 and Campaign.objects.get(pk=made.pk).name == "Expert Mail"


# --- The funnel: a data set worked out by hand ----------------------------------------------------------------

STATUS_AT = {"started": "draft", "submitted": "under_review", "admitted": "offer_accepted", "enrolled": "enrolled",
             "awarded": "completed"}


def apply(edition, utm: str, stage: str, status: str | None = None) -> None:
    """An application that got as far as ``stage``, in ``status``."""
    application = ApplicationFactory(edition=edition, utm_campaign=utm, status=status or STATUS_AT[stage],
                                     submitted_at=None if stage == "started" else timezone.now())
    if stage in ("enrolled", "awarded"):
        enrolment = EnrolmentFactory(application=application)
        if stage == "awarded":
            AwardFactory(enrolment=enrolment)


@pytest.fixture
def data(s):
    """Window 1–10 March 2026. Visits: expert-mail 30 + 10, starter-fair 20, direct 15 + 25 (100 in all); before
    and after the window and on another programme's page: not counted.

    Applications (started, submitted, admitted, enrolled, awarded):
    expert-mail 10, 8, 6, 4, 2; starter-fair 5, 3, 1, 1, 0; direct 6, 4, 2, 1, 1 (blank, unknown and another
    programme's codes); total 21, 15, 9, 6, 3. Senior Explorer has no campaign: all zero."""
    s.mail = campaign(s, "expert-mail", s.expert)
    s.fair = campaign(s, "starter-fair", s.starter, channel="event", source="career-fair")
    other = ProgrammeFactory(consortium=s.world.ca, lead_institution=s.world.ua, code="quantum")
    quantum = CampaignFactory(programme=other, segment=s.expert, code="quantum-fair")
    for campaign_, when, count in ((s.mail, day(3, 1), 30), (s.mail, day(3, 5), 10), (s.fair, day(3, 2), 20),
                                   (None, day(3, 1), 15), (None, day(3, 10), 25),
                                   (s.mail, day(2, 28), 99), (None, day(3, 11), 50)):
        PageVisitFactory(programme=s.programme, campaign=campaign_, day=when, count=count)
    PageVisitFactory(programme=other, campaign=quantum, day=day(3, 3), count=70)
    plan = [
        ("expert-mail", "awarded", None), ("expert-mail", "awarded", "enrolled"),
        ("expert-mail", "enrolled", None), ("expert-mail", "enrolled", "withdrawn"),
        ("expert-mail", "admitted", "declined"), ("expert-mail", "admitted", "lapsed"),
        ("expert-mail", "submitted", "rejected"), ("Expert-Mail", "submitted", "waitlisted"),
        ("expert-mail", "started", None), ("expert-mail", "started", "withdrawn"),
        ("starter-fair", "enrolled", None), ("starter-fair", "submitted", "submitted"),
        ("starter-fair", "submitted", "info_requested"), ("starter-fair", "started", None),
        ("starter-fair", "started", None),
        ("", "awarded", None), ("unknown-code", "admitted", "admitted"), ("quantum-fair", "submitted", "submitted"),
        ("", "submitted", None), ("", "started", None), ("", "started", None),
    ]
    for utm, stage, status in plan:
        apply(s.edition, utm, stage, status)
    apply(EditionFactory(programme=other), "quantum-fair", "enrolled")  # another programme: not counted
    return s


def funnel_page(s, **query):
    response = client_for(s.leader).get(reverse("recruitment-funnel", args=[s.programme.pk]), query)
    assert response.status_code == 200
    return response


def test_the_funnel_page_shows_the_hand_computed_stages_and_rates(data):
    response = funnel_page(data)
    stages = tables(response)["Stages of the funnel (all segments and direct)"]
    assert stages == [
        ["Stage", "Count", "From the previous stage", "From the visits"],
        ["Page visits", "100", "—", "—"],
        ["Started applications", "21", "21.0 %", "21.0 %"],  # 21 / 100
        ["Submitted", "15", "71.4 %", "15.0 %"],  # 15 / 21, 15 / 100
        ["Admitted", "9", "60.0 %", "9.0 %"],  # 9 / 15
        ["Enrolled", "6", "66.7 %", "6.0 %"],  # 6 / 9
        ["Awarded", "3", "50.0 %", "3.0 %"],  # 3 / 6
    ]
    page = response.content.decode()
    assert "1 March 2026 to 10 March 2026" in page or "March 1, 2026 to March 10, 2026" in page
    assert "no address, cookie or account" in page  # what the visits are


def test_the_funnel_page_breaks_the_figures_down_per_segment_campaign_and_direct(data):
    breakdown = tables(funnel_page(data))["The funnel per segment, its campaigns, and without a campaign"]
    assert breakdown[0] == ["Segment / campaign", "Page visits", "Started applications", "Submitted", "Admitted",
                            "Enrolled", "Awarded", "Started / visits", "Enrolled / started"]
    assert breakdown[1:] == [
        ["Senior Expert", "40", "10", "8", "6", "4", "2", "25.0 %", "40.0 %"],
        ["↳ Expert Mail expert-mail", "40", "10", "8", "6", "4", "2", "25.0 %", "40.0 %"],
        ["Senior Explorer", "0", "0", "0", "0", "0", "0", "—", "—"],
        ["Junior Starter", "20", "5", "3", "1", "1", "0", "25.0 %", "20.0 %"],
        ["↳ Starter Fair starter-fair", "20", "5", "3", "1", "1", "0", "25.0 %", "20.0 %"],
        ["No campaign / direct", "40", "6", "4", "2", "1", "1", "15.0 %", "16.7 %"],  # 1 / 6
        ["Total", "100", "21", "15", "9", "6", "3", "21.0 %", "28.6 %"],  # 6 / 21
    ]


def test_the_funnel_page_draws_the_charts_from_the_same_figures(data):
    page = funnel_page(data).content.decode()
    assert page.count('role="img"') == 3  # funnel, segments, visits per day
    for chart_id in ("funnel-chart", "segment-chart", "day-chart"):
        assert f'aria-labelledby="{chart_id}-title"' in page and f'<title id="{chart_id}-title">' in page
    # The funnel's bars: the widest for the 100 visits, each titled with its count and rate.
    assert "<title>Page visits: 100</title>" in page and "<title>Submitted: 15 (71.4 %)</title>" in page
    expected = charts.funnel([("Page visits", 100), ("Started applications", 21), ("Submitted", 15),
                              ("Admitted", 9), ("Enrolled", 6), ("Awarded", 3)])
    widths = re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="24.0" fill', page)
    assert widths == [str(stage.width) for stage in expected.stages]
    assert "<title>Junior Starter (Enrolled): 1</title>" in page
    assert "<title>No campaign / direct (Started): 6</title>" in page


def test_the_visits_by_day_cover_the_window_and_add_up_to_the_funnels_visits(data):
    response = funnel_page(data)
    rows = tables(response)["Page visits per day"]
    assert rows[0] == ["Day", "Page visits"]
    expected = {day(3, 1): 45, day(3, 2): 20, day(3, 5): 10, day(3, 10): 25}  # 30 + 15 on the 1st
    assert rows[1:] == [[date_format(day(3, d), "DATE_FORMAT"), str(expected.get(day(3, d), 0))]
                        for d in range(1, 11)]
    assert sum(int(n) for _day, n in rows[1:]) == 100
    assert "100 visits of the programme page" in response.content.decode()


def test_the_visits_by_day_stop_today_while_the_window_is_open(s):
    today = timezone.localdate()
    edition = EditionFactory(programme=s.programme, intake_code="open-now",
                             application_opens_at=timezone.now() - dt.timedelta(days=3),
                             application_closes_at=timezone.now() + dt.timedelta(days=30))
    PageVisitFactory(programme=s.programme, day=today - dt.timedelta(days=3), count=5)
    PageVisitFactory(programme=s.programme, day=today, count=2)
    response = funnel_page(s, edition=str(edition.pk))
    rows = tables(response)["Page visits per day"][1:]
    assert [n for _day, n in rows] == ["5", "0", "0", "2"]
    assert rows[-1][0] == date_format(today, "DATE_FORMAT")
    assert "7 visits of the programme page" in response.content.decode()
    future = EditionFactory(programme=s.programme, intake_code="later",
                            application_opens_at=timezone.now() + dt.timedelta(days=5),
                            application_closes_at=timezone.now() + dt.timedelta(days=30))
    later = funnel_page(s, edition=str(future.pk)).content.decode()
    assert "no visit is counted for it yet" in later and "Page visits per day" not in later


def test_the_funnel_defaults_to_the_latest_edition_and_refuses_a_wrong_one(data):
    older = EditionFactory(programme=data.programme, intake_code="2025-autumn",
                           application_opens_at=dt.datetime(2025, 9, 1, tzinfo=UTC),
                           application_closes_at=dt.datetime(2025, 9, 30, tzinfo=UTC))
    PageVisitFactory(programme=data.programme, campaign=data.mail, day=day(9, 10, 2025), count=7)
    for _ in range(3):
        apply(older, "expert-mail", "started")
    assert "Recruitment funnel: 2026-spring" in funnel_page(data).content.decode()
    chosen = tables(funnel_page(data, edition=str(older.pk)))
    assert chosen["Stages of the funnel (all segments and direct)"][1:3] == [
        ["Page visits", "7", "—", "—"], ["Started applications", "3", "42.9 %", "42.9 %"]]  # 3 / 7
    client = client_for(data.leader)
    url = reverse("recruitment-funnel", args=[data.programme.pk])
    for wrong in ("garbage", str(EditionFactory().pk), "00000000-0000-0000-0000-000000000000", "'; --"):
        response = client.get(url, {"edition": wrong})
        assert response.status_code == 404
        page = response.content.decode()
        assert "This programme has no such edition." in page and 'name="edition"' in page
        assert "Stages of the funnel" not in page


def test_a_programme_without_editions_has_an_empty_funnel_page(s):
    programme = ProgrammeFactory(consortium=s.world.ca, lead_institution=s.world.ua)
    response = client_for(s.admin).get(reverse("recruitment-funnel", args=[programme.pk]))
    assert response.status_code == 200
    assert "The programme has no edition yet." in response.content.decode()
    csv_response = client_for(s.admin).get(reverse("recruitment-funnel-csv", args=[programme.pk]))
    assert csv_response.status_code == 404


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_funnel_csv_holds_the_hand_computed_table(data):
    response = client_for(data.member).get(reverse("recruitment-funnel-csv", args=[data.programme.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="funnel-chip-design-2026-spring.csv"'
    assert response["Cache-Control"] == "private, no-store"
    rows = read_csv(response)
    assert rows[0] == [
        "Row", "Segment", "Campaign", "Code", "Channel", "Source",
        "Page visits", "Started applications", "Submitted", "Admitted", "Enrolled", "Awarded",
        "Started applications / Page visits", "Submitted / Started applications", "Admitted / Submitted",
        "Enrolled / Admitted", "Awarded / Enrolled",
        "Submitted / Page visits", "Admitted / Page visits", "Enrolled / Page visits", "Awarded / Page visits"]
    assert [row[:4] for row in rows[1:]] == [
        ["Segment", "Senior Expert", "", ""], ["Campaign", "Senior Expert", "Expert Mail", "expert-mail"],
        ["Segment", "Senior Explorer", "", ""], ["Segment", "Junior Starter", "", ""],
        ["Campaign", "Junior Starter", "Starter Fair", "starter-fair"], ["No campaign / direct", "", "", ""],
        ["Total", "", "", ""]]
    body = {tuple(row[:4]): row[4:] for row in rows[1:]}
    assert body[("Campaign", "Junior Starter", "Starter Fair", "starter-fair")] == [
        "Fair / event", "career-fair", "20", "5", "3", "1", "1", "0",
        "0.25", "0.6", "0.3333", "1.0", "0.0",  # 5/20, 3/5, 1/3, 1/1, 0/1
        "0.15", "0.05", "0.05", "0.0"]  # 3/20, 1/20, 1/20, 0/20
    assert body[("Segment", "Senior Explorer", "", "")] == ["", ""] + ["0"] * 6 + [""] * 9  # no rate anywhere
    assert body[("Total", "", "", "")] == [
        "", "", "100", "21", "15", "9", "6", "3",
        "0.21", "0.7143", "0.6", "0.6667", "0.5",  # 21/100, 15/21, 9/15, 6/9, 3/6
        "0.15", "0.09", "0.06", "0.03"]  # 15/100, 9/100, 6/100, 3/100
    assert body[("No campaign / direct", "", "", "")][2:8] == ["40", "6", "4", "2", "1", "1"]


def test_the_funnel_csv_refuses_a_wrong_edition(data):
    client = client_for(data.leader)
    url = reverse("recruitment-funnel-csv", args=[data.programme.pk])
    for wrong in ("garbage", str(EditionFactory().pk)):
        response = client.get(url, {"edition": wrong})
        assert response.status_code == 404 and "no such edition" in response.content.decode()


def test_the_funnel_page_asks_as_many_queries_with_more_data(data):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(data.leader)
    url = reverse("recruitment-funnel", args=[data.programme.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    for i in range(20):
        extra = CampaignFactory(programme=data.programme, segment=data.explorer, code=f"extra-{i:02d}")
        apply(data.edition, extra.code, "enrolled")
        PageVisitFactory(programme=data.programme, campaign=extra, day=day(3, 1 + i % 10), count=i)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    assert len(large) == len(small)
    assert tables(response)["Stages of the funnel (all segments and direct)"][2][1] == "41"  # 21 + 20


def test_the_charts_keep_their_coordinates_in_a_language_with_decimal_commas(data):
    client = client_for(data.leader)
    client.cookies["django_language"] = "fr"
    page = client.get(reverse("recruitment-funnel", args=[data.programme.pk])).content.decode()
    assert '<html lang="fr">' in page
    rects = re.findall(r'<rect x="([^"]+)" y="([^"]+)" width="([^"]+)" height="([^"]+)"', page)
    assert len(rects) > 20 and all(re.fullmatch(r"\d+(\.\d+)?", v) for rect in rects for v in rect)
    assert 'viewBox="0 0 560 ' in page


def test_the_labels_declared_on_the_view_classes_are_translated_per_request():
    """A label given as a class attribute is read at import, before any request picks a language: it must be lazy
    (``gettext_lazy``), or every user gets the language the server started in."""
    from django.utils.functional import Promise

    from quality import views_recruitment

    declared = {}
    for name, view in vars(views_recruitment).items():
        if isinstance(view, type) and view.__module__ == views_recruitment.__name__:
            for attr in ("title", "intro", "submit_label", "success_message"):
                value = view.__dict__.get(attr)
                if isinstance(value, str | Promise):
                    declared[f"{name}.{attr}"] = isinstance(value, Promise)
    assert len(declared) == 7 and all(declared.values()), declared


# --- The demo -------------------------------------------------------------------------------------------------


def seed_up_to_recruitment() -> list[str]:
    """``seed_demo`` up to the recruitment part of the quality demo: the platform, the apps below quality, then
    quality's recruitment seeder alone (the other quality parts are tested on their own)."""
    import io

    from django.conf import settings
    from django.db import transaction
    from django.test.utils import override_settings
    from django.utils.module_loading import import_string

    from consortium.management.commands.seed_demo import Command
    from quality.demo import recruitment as demo

    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"), transaction.atomic():
        context = Command(stdout=io.StringIO())._seed()["context"]
        lines = []
        for path in settings.DEMO_SEEDERS:
            if path != "quality.demo.seed":
                lines += import_string(path)(context)
        return lines + demo.seed(context)


def test_the_demo_seeds_segments_campaigns_and_visits_once():
    from django.db.models import Sum

    from consortium.models import User
    from programmes.models import Programme
    from quality.demo import recruitment as demo
    from quality.models import PageVisit

    lines = seed_up_to_recruitment()
    assert any(line.startswith("Recruitment: 3 learner target segments for EUCHIP") for line in lines)
    programme = Programme.objects.get(code="euchip-cdf")
    edition = recruitment.funnel_editions(programme)[0]
    result = recruitment.funnel(edition=edition)
    assert [row.label for row in result.segments] == ["Senior Expert", "Senior Explorer", "Junior Starter"]
    visits = {row.campaign.code: row["visits"].count for segment in result.segments for row in segment.campaigns}
    assert visits == {spec[0]: spec[6] for spec in demo.CAMPAIGNS.values()}
    assert result.direct["visits"].count == demo.DIRECT_VISITS
    assert result.total["visits"].count == 140 + 45 + 60 + 35 + 160
    # Every application of the edition is counted once: 24 through the attribution pattern (20 by a campaign,
    # 4 direct) and the demo learner's draft (direct).
    started = {row.campaign.code: row["started"].count for segment in result.segments for row in segment.campaigns}
    assert started == {"cdf-2027-linkedin": 8, "cdf-2027-eurochip-news": 6, "cdf-2027-career-fair": 4,
                       "cdf-2027-partner-sites": 2}
    assert result.direct["started"].count == 5
    assert result.total["started"].count == edition.applications.count() == 25
    assert result.total["awarded"].count > 0  # the certification demo's awards

    assert "Demo recruitment data already exist." in seed_up_to_recruitment()
    assert Campaign.objects.filter(programme=programme).count() == 4
    assert PageVisit.objects.filter(programme=programme).aggregate(n=Sum("count"))["n"] == 440
    page = client_for(User.objects.get(email="leader@kuleuven.example")).get(
        reverse("recruitment-funnel", args=[programme.pk]))  # the team leader sees the same figures
    assert page.status_code == 200
    assert tables(page)["Stages of the funnel (all segments and direct)"][1][:2] == ["Page visits", "440"]

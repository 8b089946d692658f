"""Who sees a programme's quality (``quality.view``) and who acts on it (``quality.manage``): the programme team,
the consortium's administrators and the lead institution's quality-assurance officers; the quality home lists
exactly those programmes, searchable, and a programme's quality page is a 404 for everybody else."""

import pytest
from django.test import Client
from django.urls import reverse

from consortium.api import policy
from quality.models import Campaign

from ..assessment.conftest import grant
from ..factories import CampaignFactory, ProgrammeFactory, RoleAssignmentFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def programmes(world):
    led_by_ua = ProgrammeFactory(consortium=world.ca, lead_institution=world.ua, code="chip")
    led_by_ub = ProgrammeFactory(consortium=world.ca, lead_institution=world.ub, code="robots")
    other = ProgrammeFactory(consortium=world.cb, lead_institution=world.uc, code="dairy")
    return led_by_ua, led_by_ub, other


def person(employer, role=None, **scope):
    user = StaffFactory(institution=employer).user
    if role:
        RoleAssignmentFactory(user=user, role=role, **scope)
    return user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_who_sees_and_who_manages_a_programmes_quality(world, programmes):
    chip, robots, _dairy = programmes
    leader, member = person(world.ua), person(world.ua)
    grant(leader, "team_leader", chip, world.ua)
    grant(member, "team_member", chip, world.ua)
    ua_officer = person(world.ua, "quality_officer", institution=world.ua)
    ca_admin = world.people["CA_admin"]
    narrowed_officer = person(world.ub)
    RoleAssignmentFactory(user=narrowed_officer, role="quality_officer", institution=world.ub, target_id=chip.pk)
    expected = {  # person → (programmes seen, programmes managed)
        leader: ({chip}, {chip}),
        member: ({chip}, set()),
        ua_officer: ({chip}, {chip}),  # UA leads chip only
        ca_admin: ({chip, robots}, {chip, robots}),
        narrowed_officer: (set(), set()),  # a QA role narrowed to a programme is not institution-wide
        world.people["UA_admin"]: (set(), set()),
        world.people["UC_admin"]: (set(), set()),
        world.people["learner"]: (set(), set()),
    }
    for user, (seen, managed) in expected.items():
        for programme in programmes:
            assert policy.can(user, "quality.view", programme) == (programme in seen), (user, programme)
            assert policy.can(user, "quality.manage", programme) == (programme in managed), (user, programme)
        from programmes.models import Programme

        assert set(policy.filter(user, "quality.view", Programme.objects.all())) == seen


def test_the_rules_follow_a_record_to_its_programme(world, programmes):
    chip, _robots, dairy = programmes
    officer = person(world.ua, "quality_officer", institution=world.ua)
    campaign = CampaignFactory(programme=chip)
    assert isinstance(campaign, Campaign)
    assert policy.can(officer, "quality.view", campaign)
    assert not policy.can(officer, "quality.view", CampaignFactory(programme=dairy))
    assert not policy.can(officer, "quality.view", object())  # not a quality record: nothing to follow


def test_the_quality_home_lists_the_visible_programmes_and_searches_them(world, programmes):
    client = client_for(world.people["CA_admin"])
    page = client.get(reverse("quality-home")).content.decode()
    assert "Programme chip" in page and "Programme robots" in page and "Programme dairy" not in page
    found = client.get(reverse("quality-home"), {"q": "robo"}).content.decode()
    assert "Programme robots" in found and "Programme chip" not in found
    none = client.get(reverse("quality-home"), {"q": "zzz"}).content.decode()
    assert "No programme matches this search." in none


def test_the_quality_home_is_refused_to_people_without_a_quality_role(world, programmes):
    assert client_for(world.people["UA_admin"]).get(reverse("quality-home")).status_code == 403
    assert client_for(UserFactory()).get(reverse("quality-home")).status_code == 403
    assert Client().get(reverse("quality-home")).status_code == 302  # to the login page


def test_the_programme_quality_page_is_a_404_outside_the_rule(world, programmes):
    chip, _robots, dairy = programmes
    officer = client_for(person(world.ua, "quality_officer", institution=world.ua))
    page = officer.get(reverse("quality-programme", args=[chip.pk]))
    assert page.status_code == 200 and "Programme chip" in page.content.decode()
    assert officer.get(reverse("quality-programme", args=[dairy.pk])).status_code == 404


def test_the_navigation_offers_quality_to_those_who_may_see_it(world, programmes):
    link = f'href="{reverse("quality-home")}"'
    assert link in client_for(world.people["CA_admin"]).get(reverse("dashboard")).content.decode()
    assert link not in client_for(world.people["UA_admin"]).get(reverse("dashboard")).content.decode()


def test_the_programme_quality_page_leads_to_every_area_with_its_state(world, programmes):
    from quality.models import Commitment, QualityReview

    from ..factories import EditionFactory

    chip, _robots, _dairy = programmes
    officer = client_for(person(world.ua, "quality_officer", institution=world.ua))
    empty = officer.get(reverse("quality-programme", args=[chip.pk])).content.decode()
    assert "No survey yet" in empty and "No review yet" in empty and "No partner commitment yet" in empty
    assert reverse("recruitment-funnel", args=[chip.pk]) not in empty  # recruitment is the team's and admins'
    for name in ("quality-surveys", "review-list", "sustainability"):
        assert reverse(name, args=[chip.pk]) in empty

    EditionFactory(programme=chip)
    review = QualityReview.objects.create(programme=chip, year=2026)
    Commitment.objects.create(programme=chip, institution=world.ua, first_year=2027, last_year=2028,
                              kind="money", amount="1000.00")
    page = officer.get(reverse("quality-programme", args=[chip.pk])).content.decode()
    assert "2026/27" in page and reverse("review-detail", args=[review.pk]) in page
    assert "1 partner commitment beside the medium-term plan." in page
    leader = person(world.ua)
    grant(leader, "team_leader", chip, world.ua)
    team_page = client_for(leader).get(reverse("quality-programme", args=[chip.pk])).content.decode()
    assert reverse("recruitment-funnel", args=[chip.pk]) in team_page
    assert reverse("quality-questions", args=[chip.pk, "learner"]) in team_page

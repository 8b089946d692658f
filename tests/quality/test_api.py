"""The quality API (``/api/v1/quality-reviews/``, scope ``quality:read``): a partner system reads the APPROVED reviews
of the programmes its institution runs (lead or partner), with the frozen evidence, the findings and the plan; never
a draft, never another consortium's, not as an associated partner, not without the scope."""

import pytest
from rest_framework.test import APIClient

from consortium import policy
from consortium.services import apitoken_create

from ..factories import (
    FindingFactory,
    ImprovementActionFactory,
    ProgrammeFactory,
    ProgrammePartnerFactory,
    QualityReviewFactory,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/quality-reviews/"


@pytest.fixture
def reviews(world):
    chip = ProgrammeFactory(consortium=world.ca, lead_institution=world.ua, code="chip")
    ProgrammePartnerFactory(programme=chip, institution=world.ub, role="partner")
    ProgrammePartnerFactory(programme=chip, institution=world.ea, role="associated")
    approved = QualityReviewFactory(programme=chip, year=2025, approved=True, summary="Good year.",
                                    evidence={"schema": 1, "total": {"completion": {"rate": "77.8"}}})
    finding = FindingFactory(review=approved, kind="weakness", theme="workload", text="Workload above the ECTS.")
    ImprovementActionFactory(review=approved, finding=finding, title="Trim CDF2", owner="Course coordinator",
                             owner_institution=world.ub, status="in_progress")
    draft = QualityReviewFactory(programme=chip, year=2026, status="draft")
    dairy = ProgrammeFactory(consortium=world.cb, lead_institution=world.uc, code="dairy")
    foreign = QualityReviewFactory(programme=dairy, year=2025, approved=True)
    return approved, draft, foreign


def test_a_partner_reads_the_approved_reviews_of_its_programmes(world, reviews, token_client):
    approved, _draft, _foreign = reviews
    clients = {institution: token_client(institution) for institution in (world.ua, world.ub)}
    for client in clients.values():  # the lead and a partner
        answer = client.get(API)
        assert answer.status_code == 200, answer.content
        [item] = answer.json()["results"]
        assert item["id"] == str(approved.pk) and item["academic_year"] == "2025/26"
        assert item["programme_code"] == "chip" and item["status"] == "approved"
        assert item["evidence"] == approved.evidence
        assert [f["text"] for f in item["findings"]] == ["Workload above the ECTS."]
        [action] = item["actions"]
        assert (action["title"], action["owner_institution"], action["status"], action["finding"]) == (
            "Trim CDF2", "UB", "in_progress", str(approved.findings.get().pk))
    detail = clients[world.ub].get(f"{API}{approved.pk}/")
    assert detail.status_code == 200 and detail.json()["summary"] == "Good year."


def test_drafts_other_consortia_associated_partners_and_missing_scopes_get_nothing(world, reviews, token_client):
    approved, draft, foreign = reviews
    ua = token_client(world.ua)
    assert ua.get(f"{API}{draft.pk}/").status_code == 404
    assert ua.get(f"{API}{foreign.pk}/").status_code == 404
    uc = token_client(world.uc)
    assert uc.get(f"{API}{approved.pk}/").status_code == 404
    assert [r["id"] for r in uc.get(API).json()["results"]] == [str(foreign.pk)]  # its own
    assert token_client(world.ea).get(API).json()["results"] == []  # associated partners do not run it
    _token, key = apitoken_create(actor=None, institution=world.ua, name="no quality scope", check_policy=False,
                                  scopes=[s for s in policy.api_scopes() if s != "quality:read"])
    scoped = APIClient()
    scoped.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert scoped.get(API).status_code == 403


def test_the_list_filters_by_programme_and_year(world, reviews, token_client):
    approved, _draft, _foreign = reviews
    QualityReviewFactory(programme=approved.programme, year=2024, approved=True)
    ua = token_client(world.ua)
    assert [r["year"] for r in ua.get(API).json()["results"]] == [2025, 2024]  # newest year first
    assert [r["year"] for r in ua.get(API, {"year": 2024}).json()["results"]] == [2024]
    assert ua.get(API, {"programme": str(approved.programme_id), "year": 1990}).json()["results"] == []
    assert ua.get(API, {"year": "soon"}).status_code == 400

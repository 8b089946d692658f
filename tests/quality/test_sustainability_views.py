"""The sustainability pages: the dashboard shows the hand-computed figures of ``test_sustainability`` (its data set)
in its tables and chart; who sees it and who acts (team members see, only ``quality.manage`` changes, another
consortium gets a 404, the lead institution's quality officer may act); bad input gets form errors, never a 500."""

import re
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from quality.models import Commitment

from ..factories import CommitmentFactory, ProgrammeFactory, RoleAssignmentFactory, StaffFactory
from .test_sustainability import commit, full, plan, s  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def dashboard(data):
    return reverse("sustainability", args=[data.programme.pk])


def cells(page: str, table: str, year: str) -> list[str]:
    """The texts of one row (``data-year``) of one table (``id``), tags stripped."""
    body = re.search(rf'<table class="table" id="{table}">(.*?)</table>', page, re.S).group(1)
    row = re.search(rf'<tr data-year="{year}">(.*?)</tr>', body, re.S).group(1)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]


def test_the_dashboard_shows_every_figure(full):  # noqa: F811
    page = client_for(full.leader).get(dashboard(full))
    assert page.status_code == 200
    html = page.content.decode()
    # Plan against commitments: year, income, full cost, margin, break-even, committed money, coverage, gap.
    assert cells(html, "plan-table", "2027") == ["2027", "10,000.00", "22,000.00", "-12,000.00", "25", "10,000.00",
                                                 "45.5 %", "2,000.00"]
    assert cells(html, "plan-table", "2028") == ["2028", "34,000.00", "30,000.00", "4,000.00", "13", "8,000.00",
                                                 "26.7 %", "0.00"]
    assert cells(html, "plan-table", "2029") == ["2029", "18,000.00", "21,000.00", "-3,000.00", "25", "5,000.00",
                                                 "23.8 %", "0.00"]
    assert cells(html, "plan-table", "total") == ["Plan total", "62,000.00", "73,000.00", "-11,000.00", "",
                                                  "23,000.00", "31.5 %", "2,000.00"]
    # Commitments per year: year, UA, UB, EA, money total, proposed, staff hours, in kind.
    assert cells(html, "years-table", "2027") == ["2027", "5,000.00", "3,000.00", "2,000.00", "10,000.00", "0.00",
                                                  "120", "—"]
    assert cells(html, "years-table", "2029") == ["2029", "5,000.00", "0.00", "0.00", "5,000.00", "4,000.00", "120",
                                                  "EA: Virtual lab licences (1,500.00 EUR)"]
    assert cells(html, "years-table", "2030")[0] == "2030 not in the plan"
    assert cells(html, "years-table", "total") == ["Total", "15,000.00", "6,000.00", "2,000.00", "23,000.00", "",
                                                   "480", ""]
    warnings = re.findall(r'<li data-warning="(\w+)">', html)
    assert warnings == ["uncommitted", "ends_early", "ends_early", "shortfall"]
    assert "UB provides courses of the curriculum but has committed nothing for 2029." in html
    # The chart: one column per year, readable without script, with a title.
    assert html.count('<svg role="img"') == 1 and "<title id=\"sustainability-chart-title\">" in html
    assert "2027, UA: 5,000 EUR" in html
    assert "Quality reviews" in html
    # Every commitment is listed, the withdrawn one too; the leader can act on the proposal.
    assert html.count("data-commitment=") == 7
    proposed = Commitment.objects.get(status="proposed")
    assert reverse("commitment-confirm", args=[proposed.pk]) in html
    assert reverse("commitment-edit", args=[proposed.pk]) in html


def test_an_empty_dashboard_explains_itself(s):  # noqa: F811
    html = client_for(s.leader).get(dashboard(s)).content.decode()
    assert "No medium-term financial plan yet" in html and "No commitments yet." in html
    assert '<svg role="img"' not in html


def test_the_dashboard_asks_the_database_as_often_for_3_as_for_30_commitments(s):  # noqa: F811
    plan(s)
    client = client_for(s.leader)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(dashboard(s)).status_code == 200
        return len(queries)

    for _ in range(3):
        commit(s, s.ub, 2027, 2028, "100")
    small = count()
    for i in range(27):
        commit(s, (s.ua, s.ub, s.ea)[i % 3], 2027, 2029, "10", kind=("money", "staff_hours", "in_kind")[i % 3],
               status=("confirmed", "proposed", "withdrawn")[i % 3], description="Lab")
    assert count() == small


# --- Who sees, who acts ------------------------------------------------------------------------------------------


def test_team_members_see_but_only_quality_managers_change(full):  # noqa: F811
    proposed = Commitment.objects.get(status="proposed")
    member = client_for(full.member)
    page = member.get(dashboard(full))
    assert page.status_code == 200 and "10,000.00" in page.content.decode()
    assert reverse("commitment-confirm", args=[proposed.pk]) not in page.content.decode()  # no buttons
    assert member.get(reverse("commitment-create", args=[full.programme.pk])).status_code == 403
    assert member.post(reverse("commitment-confirm", args=[proposed.pk])).status_code == 403
    assert member.post(reverse("commitment-withdraw", args=[proposed.pk])).status_code == 403
    assert member.post(reverse("commitment-edit", args=[proposed.pk]), {"amount": "1"}).status_code == 403
    assert Commitment.objects.get(pk=proposed.pk).status == "proposed"


def test_the_lead_institutions_quality_officer_acts(full):  # noqa: F811
    proposed = Commitment.objects.get(status="proposed")
    officer = client_for(full.officer)
    assert officer.get(dashboard(full)).status_code == 200
    response = officer.post(reverse("commitment-confirm", args=[proposed.pk]))
    assert response.status_code == 302 and response["Location"] == dashboard(full)
    assert Commitment.objects.get(pk=proposed.pk).status == "confirmed"
    page = officer.get(dashboard(full)).content.decode()
    assert cells(page, "years-table", "2029")[2] == "4,000.00"  # UB's 2029 money now counts
    assert "nothing for 2029" not in page


def test_another_consortium_and_other_institutions_officers_get_a_404(full):  # noqa: F811
    proposed = Commitment.objects.get(status="proposed")
    ub_officer = StaffFactory(institution=full.ub).user
    RoleAssignmentFactory(user=ub_officer, role="quality_officer", institution=full.ub)  # UB does not lead
    uc_officer = StaffFactory(institution=full.uc).user
    RoleAssignmentFactory(user=uc_officer, role="quality_officer", institution=full.uc)
    urls = [dashboard(full), reverse("commitment-create", args=[full.programme.pk]),
            reverse("commitment-edit", args=[proposed.pk]), reverse("commitment-withdraw", args=[proposed.pk])]
    for user in (full.world.people["UC_admin"], uc_officer, ub_officer, full.world.people["UB_admin"]):
        client = client_for(user)
        for url in urls:
            assert client.get(url).status_code == 404, (user, url)
            assert client.post(url, {"reason": "x"}).status_code == 404, (user, url)
        assert client.post(reverse("commitment-confirm", args=[proposed.pk])).status_code == 404
    anonymous = Client().get(dashboard(full))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert Commitment.objects.get(pk=proposed.pk).status == "proposed"


# --- The forms ---------------------------------------------------------------------------------------------------


def form_data(data_set, **fields):
    data = {"institution": str(data_set.ub.pk), "kind": "money", "first_year": "2027", "last_year": "2029",
            "amount": "2500.00", "description": "Teaching of course 2", "agreement": ""}
    data.update(fields)
    return data


def test_proposing_a_commitment_through_the_form(s):  # noqa: F811
    client = client_for(s.leader)
    url = reverse("commitment-create", args=[s.programme.pk])
    form = client.get(url).content.decode()
    assert "UA" in form and "UB" in form and "EA" in form and ">UC<" not in form
    response = client.post(url, form_data(s))
    assert response.status_code == 302 and response["Location"] == dashboard(s)
    c = Commitment.objects.get()
    assert (c.institution, c.first_year, c.last_year, c.amount, c.status) == (s.ub, 2027, 2029, D("2500"),
                                                                              "proposed")


@pytest.mark.parametrize(("fields", "message"), [
    ({"institution": "not-a-uuid"}, "is not a valid UUID"),
    ({"institution": "uc"}, "Select a valid choice"),  # another consortium's university: not offered
    ({"last_year": "2026"}, "The last year cannot come before the first year."),
    ({"amount": "-5"}, "greater than or equal to 0"),
    ({"amount": "NaN"}, "Enter a number."),
    ({"amount": "1e30"}, "no more than 12 digits"),
    ({"first_year": "99999"}, "less than or equal to 2100"),
    ({"first_year": "abc"}, "Enter a whole number."),
    ({"first_year": "2027", "last_year": "2040"}, "at most 10 years"),
    ({"kind": "in_kind", "description": ""}, "Say what is given in kind"),
    ({"kind": "favours"}, "Select a valid choice"),
    ({"description": "x" * 5000}, "at most 2000 characters"),
    ({"agreement": "00000000-0000-0000-0000-000000000000"}, "Select a valid choice"),
])
def test_bad_input_gets_form_errors_and_saves_nothing(s, fields, message):  # noqa: F811
    if fields.get("institution") == "uc":
        fields = {**fields, "institution": str(s.uc.pk)}
    response = client_for(s.leader).post(reverse("commitment-create", args=[s.programme.pk]), form_data(s, **fields))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Commitment.objects.exists()


def test_editing_a_proposal_and_refusing_to_edit_a_confirmed_commitment(s):  # noqa: F811
    client = client_for(s.leader)
    proposal = CommitmentFactory(programme=s.programme, institution=s.ub)
    url = reverse("commitment-edit", args=[proposal.pk])
    assert 'value="5000.00"' in client.get(url).content.decode()
    assert client.post(url, form_data(s, amount="6000")).status_code == 302
    assert Commitment.objects.get(pk=proposal.pk).amount == D("6000")
    confirmed = CommitmentFactory(programme=s.programme, institution=s.ub, status="confirmed")
    url = reverse("commitment-edit", args=[confirmed.pk])
    assert "Only a proposed commitment can be changed" in client.get(url).content.decode()
    refused = client.post(url, form_data(s, amount="1"))
    assert refused.status_code == 200 and "Only a proposed commitment can be changed" in refused.content.decode()
    assert Commitment.objects.get(pk=confirmed.pk).amount == D("5000")


def test_transitions_by_button_and_a_refused_one_is_a_message(s):  # noqa: F811
    client = client_for(s.leader)
    c = CommitmentFactory(programme=s.programme, institution=s.ub)
    assert client.post(reverse("commitment-confirm", args=[c.pk])).status_code == 302
    again = client.post(reverse("commitment-confirm", args=[c.pk]), follow=True)
    assert again.status_code == 200 and "it cannot be confirmed" in again.content.decode()
    assert client.get(reverse("commitment-confirm", args=[c.pk])).status_code == 405
    withdraw = reverse("commitment-withdraw", args=[c.pk])
    assert "Withdraw the commitment of UB (2027–2029)" in client.get(withdraw).content.decode()
    assert client.post(withdraw, {"reason": "Budget cut"}).status_code == 302
    c.refresh_from_db()
    assert (c.status, c.withdrawal_reason) == ("withdrawn", "Budget cut")
    refused = client.post(withdraw, {"reason": "again"})
    assert refused.status_code == 200 and "it cannot be withdrawn" in refused.content.decode()
    page = client.get(dashboard(s)).content.decode()
    assert "Budget cut" in page and withdraw not in page  # no more actions on a withdrawn commitment


def test_the_quality_reviews_are_listed_by_academic_year_with_their_status(s):  # noqa: F811
    from quality.models import QualityReview

    html = client_for(s.member).get(dashboard(s)).content.decode()
    assert "No quality review yet" in html
    older = QualityReview.objects.create(programme=s.programme, year=2026)
    newer = QualityReview.objects.create(programme=s.programme, year=2027)
    QualityReview.objects.create(programme=ProgrammeFactory(consortium=s.world.ca, lead_institution=s.ua), year=2027)
    html = client_for(s.member).get(dashboard(s)).content.decode()
    assert re.findall(r'<tr data-review="(\d+)">', html) == ["2027", "2026"]  # this programme's only, newest first
    assert reverse("review-detail", args=[newer.pk]) in html and reverse("review-detail", args=[older.pk]) in html
    assert "2027/28" in html and "Draft" in html


def test_a_partner_that_left_the_programme_gets_a_message_and_its_commitments_can_be_withdrawn(s):  # noqa: F811
    plan(s)
    confirmed = commit(s, s.ub, 2027, 2028, "3000")
    proposal = commit(s, s.ub, 2029, 2029, "4000", status="proposed")
    s.programme.partners.filter(institution=s.ub).delete()  # UB left the programme
    client = client_for(s.leader)
    assert cells(client.get(dashboard(s)).content.decode(), "years-table", "2027") == [
        "2027", "0.00", "0.00", "3,000.00", "3,000.00", "0.00", "0", "—"]  # UA, EA, then UB: still counted

    refused = client.post(reverse("commitment-confirm", args=[proposal.pk]), follow=True)
    assert refused.status_code == 200 and refused.redirect_chain == [(dashboard(s), 302)]
    assert ("UB is no longer the lead or a partner of the programme, so its proposal cannot be confirmed."
            in refused.content.decode())
    assert Commitment.objects.get(pk=proposal.pk).status == "proposed"

    withdraw = reverse("commitment-withdraw", args=[confirmed.pk])
    assert client.get(withdraw).status_code == 200
    assert client.post(withdraw, {"reason": "Left the consortium"}).status_code == 302
    assert Commitment.objects.get(pk=confirmed.pk).status == "withdrawn"
    page = client.get(dashboard(s)).content.decode()
    assert cells(page, "years-table", "2027") == ["2027", "0.00", "0.00", "0.00", "0.00", "0.00", "0", "—"]
    assert cells(page, "plan-table", "2027")[5:] == ["0.00", "0.0 %", "12,000.00"]  # no committed money any more
    assert cells(page, "years-table", "2029")[3:5] == ["0.00", "0.00"]  # UB's column stays for its proposal …
    assert client.post(reverse("commitment-withdraw", args=[proposal.pk]), {"reason": ""}).status_code == 302
    page = client.get(dashboard(s)).content.decode()
    assert cells(page, "years-table", "2029") == ["2029", "0.00", "0.00", "0.00", "0.00", "0", "—"]  # … then goes
    assert "Left the consortium" in page


def test_the_chart_keeps_its_coordinates_in_a_language_with_decimal_commas(full):  # noqa: F811
    client = client_for(full.leader)
    client.cookies["django_language"] = "de"
    page = client.get(dashboard(full)).content.decode()
    assert '<html lang="de">' in page
    svg = re.search(r'<svg role="img" aria-labelledby="sustainability-chart-title".*?</svg>', page, re.S).group(0)
    number = r"\d+(\.\d+)?"
    coordinates = re.findall(r' (x|y|x1|x2|y1|y2|width|height)="([^"]*)"', svg)
    assert len(coordinates) > 50
    assert [value for _name, value in coordinates if not re.fullmatch(number, value)] == []
    assert any("." in value for _name, value in coordinates)  # 70.8-wide bars: a decimal point, not a comma
    points = re.search(r'<polyline points="([^"]+)"', svg).group(1)
    assert re.fullmatch(rf"{number},{number}( {number},{number})*", points) and len(points.split()) == 3
    assert 'viewBox="0 0 560 280"' in svg


def test_each_row_action_names_its_commitment_for_screen_readers(full):  # noqa: F811
    html = client_for(full.leader).get(dashboard(full)).content.decode()
    proposed = Commitment.objects.get(status="proposed")
    row = re.search(rf'<tr data-commitment="{proposed.pk}">(.*?)</tr>', html, re.S).group(1)
    context = '<span class="sr-only"> — UB 2029, Money (EUR per year)</span>'
    assert "Confirm" + context in row
    assert "Change" + context in row and "Withdraw" + context in row

"""Setting up an edition's finances in the browser: the issuing institution's finance officers (and the team
leader) set fees, discounts, sponsors, terms and grants and start budget versions; each partner enters its own
cost lines; the rest get 403/404 and nothing changes."""

from decimal import Decimal as D

from django.urls import reverse

from consortium.models import AuditEvent
from finance.models import Budget, CostLine, Discount, EditionFinance, Fee, Grant, Sponsorship

from .conftest import fresh


def test_issuer_officer_sets_fees_discounts_sponsors_terms_and_grants(fin, client):
    f = fin
    client.force_login(f.ua_finance)
    page = client.get(reverse("finance-edition", args=[f.edition.pk])).content.decode()
    assert reverse("finance-setting", args=[f.edition.pk, "fee"]) in page
    url = lambda kind: reverse("finance-setting", args=[f.edition.pk, kind])  # noqa: E731
    response = client.post(url("fee"), {"profile": "job_seeker", "track": "assessed", "amount": "550.00"})
    assert response.status_code == 302
    assert Fee.objects.get(edition=f.edition, profile="job_seeker", track="assessed").amount == D("550.00")
    negative = client.post(url("fee"), {"profile": "", "track": "assessed", "amount": "-1"})
    assert negative.status_code == 200 and "greater than or equal to 0" in negative.content.decode()
    assert Fee.objects.get(edition=f.edition, profile="", track="assessed").amount == D("1500.00")
    bad = client.post(url("discount"), {"name": "Too much", "rule": "profile", "kind": "percent", "value": "150",
                                        "profile": "alumni", "email_domains": ""})
    assert bad.status_code == 200 and not Discount.objects.filter(name="Too much").exists()
    ok = client.post(url("discount"), {"name": "Staff", "rule": "partner_staff", "kind": "fixed", "value": "100",
                                       "email_domains": "ua.example, ub.example"})
    assert ok.status_code == 302
    assert Discount.objects.get(name="Staff").email_domains == ["ua.example", "ub.example"]
    assert client.post(url("sponsor"), {"sponsor_name": "FabCo", "learner_emails": "a@fab.example\nb@fab.example",
                                        "places": "3"}).status_code == 302
    assert Sponsorship.objects.get(sponsor_name="FabCo").learner_emails == ["a@fab.example", "b@fab.example"]
    assert client.post(url("terms"), {"vat_rate": "21", "vat_note": "", "payment_terms_days": "14",
                                      "refund_percent_after_start": "50"}).status_code == 302
    terms = EditionFinance.objects.get(edition=f.edition)
    assert (terms.vat_rate, terms.payment_terms_days) == (D("21.00"), 14)
    assert client.post(url("grant"), {"funder": "Erasmus+ BIP", "received_by": str(f.ua.pk), "amount": "7000",
                                      "participants_covered": "20", "eligibility_notes": ""}).status_code == 302
    assert Grant.objects.get(edition=f.edition).amount == D("7000.00")
    assert client.get(reverse("finance-setting", args=[f.edition.pk, "nonsense"])).status_code == 404
    fee = Fee.objects.get(edition=f.edition, profile="job_seeker")
    client.post(reverse("finance-setting-delete", args=[f.edition.pk, "fee", fee.pk]))
    assert not Fee.objects.filter(pk=fee.pk).exists()
    assert AuditEvent.objects.filter(action__in=["fee.set", "discount.added", "sponsorship.added", "grant.added",
                                                 "finance_terms.set", "fee.deleted"]).count() == 6


def test_partner_officers_cannot_change_the_set_up(fin, client, world):
    f = fin
    client.force_login(f.ub_finance)
    page = client.get(reverse("finance-edition", args=[f.edition.pk])).content.decode()
    assert reverse("finance-setting", args=[f.edition.pk, "fee"]) not in page
    response = client.post(reverse("finance-setting", args=[f.edition.pk, "fee"]),
                           {"profile": "", "track": "assessed", "amount": "1"})
    assert response.status_code == 403
    assert Fee.objects.get(edition=f.edition, profile="", track="assessed").amount == D("1500.00")
    client.force_login(world.people["UC_admin"])
    assert client.post(reverse("finance-setting", args=[f.edition.pk, "fee"]), {}).status_code in (403, 404)


def test_budget_versions_and_each_partner_enters_its_own_cost_lines(fin, client):
    f = fin
    client.force_login(f.ua_finance)
    client.post(reverse("finance-budget-start", args=[f.edition.pk]), {"kind": "planned"})
    planned = Budget.objects.get(edition=f.edition, kind="planned", version=1)
    client.force_login(f.ub_finance)
    form = client.get(reverse("finance-cost-add", args=[planned.pk])).content.decode()
    assert f"value=\"{f.ub.pk}\"" in form and f"value=\"{f.ua.pk}\"" not in form  # only its own institution
    assert client.post(reverse("finance-cost-add", args=[planned.pk]), {
        "category": "platform_it", "description": "UB platform", "borne_by": str(f.ub.pk), "quantity": "1",
        "unit_cost": "800"}).status_code == 302
    other = client.post(reverse("finance-cost-add", args=[planned.pk]), {
        "category": "teaching", "description": "UA teaching", "borne_by": str(f.ua.pk), "quantity": "10",
        "unit_cost": "80"})
    assert other.status_code == 200 and not CostLine.objects.filter(description="UA teaching").exists()
    client.force_login(f.ua_finance)
    client.post(reverse("finance-budget-start", args=[f.edition.pk]), {"kind": "actual"})
    actual = Budget.objects.get(edition=f.edition, kind="actual", version=1)
    assert [line.description for line in actual.lines.all()] == ["UB platform"]  # copied from the planned one
    line = actual.lines.get()
    assert client.post(reverse("finance-cost-delete", args=[line.pk])).status_code == 404  # UA may not see UB's
    client.force_login(fresh(f.ub_finance))
    client.post(reverse("finance-cost-delete", args=[line.pk]))
    assert not CostLine.objects.filter(pk=line.pk).exists()
    assert CostLine.objects.filter(budget=planned).count() == 1  # the planned version is untouched
    client.force_login(f.ua_finance)
    bad = client.post(reverse("finance-budget-start", args=[f.edition.pk]), {"kind": "dream"}, follow=True)
    assert "Choose planned or actual." in bad.content.decode()


def test_team_leader_enters_the_plan_years_and_partners_cannot(fin, client):
    from finance.models import PlanYear

    from ..factories import RoleAssignmentFactory, StaffFactory

    leader = StaffFactory(institution=fin.ua).user
    RoleAssignmentFactory(user=leader, role="team_leader", target_id=fin.programme.pk, institution=fin.ua)
    client.force_login(leader)
    url = reverse("finance-plan-year", args=[fin.programme.pk])
    data = {"year": "2027", "editions": "1", "learners_per_edition": "25", "average_fee": "980",
            "fixed_cost_per_edition": "14500", "variable_cost_per_learner": "120", "public_funding": "0"}
    assert client.post(url, data).status_code == 302
    assert client.post(url, {**data, "learners_per_edition": "30"}).status_code == 302  # replaces 2027
    assert PlanYear.objects.get(programme=fin.programme, year=2027).learners_per_edition == 30
    assert client.post(url, {**data, "year": "1900"}).status_code == 200  # refused with the form's message
    page = client.get(reverse("finance-plan", args=[fin.programme.pk])).content.decode()
    assert "Set a year of the plan" in page and "29400.00" in page
    client.force_login(fin.ub_finance)
    assert client.post(url, {**data, "year": "2028"}).status_code == 403
    assert not PlanYear.objects.filter(year=2028).exists()

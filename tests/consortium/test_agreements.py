"""The consortium agreement lifecycle: draft → under signature → in force → superseded / terminated."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from consortium import services
from consortium.errors import DomainError, TransitionError
from consortium.models import AgreementStatus, AuditEvent, Via
from consortium.services import AGREEMENT_TRANSITIONS, SECTION_FIELDS

from ..factories import MembershipFactory


def pdf(name="signed.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n", content_type="application/pdf")


@pytest.fixture
def admin(world):
    return world.people["CA_admin"]


@pytest.fixture
def draft(world, admin):
    agreement = services.agreement_create(
        actor=admin, consortium=world.ca, kind="programme", title="Chips", parties=[world.ua, world.ub]
    )
    return agreement.versions.get()


def complete(version, admin, world):
    services.agreement_version_update(actor=admin, version=version, data={f: f"Text of {f}." for f in SECTION_FIELDS})
    services.agreement_financial_model_set(
        actor=admin,
        version=version,
        revenue_model="collecting_partner",
        collecting_institution=world.ua,
        sharing_basis="fixed",
        shares={world.ua: Decimal("60"), world.ub: Decimal("40")},
    )
    return version


def sign_all(version, admin, world, institutions=None):
    for institution in institutions or (world.ua, world.ub):
        services.agreement_signature_record(
            actor=admin,
            version=version,
            institution=institution,
            signed_by_name="Rector",
            signed_by_title="Rector",
            signed_on=dt.date(2026, 1, 10),
            signed_pdf=pdf(),
        )


def test_parties_take_their_consortium_role(draft, world):
    roles = {p.institution.short_name: p.role for p in draft.parties.all()}
    assert roles == {"UA": "lead", "UB": "partner"}


def test_non_member_cannot_be_a_party(world, admin):
    with pytest.raises(DomainError, match="not a member"):
        services.agreement_create(actor=admin, consortium=world.ca, kind="programme", title="X", parties=[world.uc])


def test_readiness_lists_every_missing_piece(draft, world, admin):
    problems = services.agreement_readiness_problems(draft)
    assert any("Sections still empty" in p for p in problems)
    with pytest.raises(DomainError) as refused:
        services.agreement_send_for_signature(actor=admin, version=draft)
    assert refused.value.details == problems
    draft.refresh_from_db()
    assert draft.status == AgreementStatus.DRAFT


@pytest.mark.parametrize(
    ("shares", "message"),
    [
        ({"UA": "60", "UB": "30"}, "add up to 100"),
        ({"UA": "60", "UB": "40", "UC": "0"}, "non-parties"),
        ({"UA": "100", "UB": "-1"}, "between 0 and 100"),
    ],
)
def test_fixed_shares_must_add_up(draft, world, admin, shares, message):
    by_name = {"UA": world.ua, "UB": world.ub, "UC": world.uc}
    with pytest.raises(DomainError) as refused:
        services.agreement_financial_model_set(
            actor=admin,
            version=draft,
            revenue_model="collecting_partner",
            collecting_institution=world.ua,
            sharing_basis="fixed",
            shares={by_name[k]: Decimal(v) for k, v in shares.items()},
        )
    assert any(message in d for d in refused.value.details)
    assert not draft.revenue_shares.exists()


def test_collecting_partner_must_be_a_party(draft, world, admin):
    with pytest.raises(DomainError) as refused:
        services.agreement_financial_model_set(
            actor=admin,
            version=draft,
            revenue_model="collecting_partner",
            collecting_institution=world.uc,
            sharing_basis="ects_taught",
        )
    assert any("collecting partner must be a party" in d for d in refused.value.details)


def test_each_keeps_own_takes_no_shares(draft, world, admin):
    with pytest.raises(DomainError):
        services.agreement_financial_model_set(
            actor=admin, version=draft, revenue_model="each_keeps_own", shares={world.ua: Decimal("100")}
        )
    version = services.agreement_financial_model_set(
        actor=admin, version=draft, revenue_model="each_keeps_own", costs_shared=True
    )
    assert version.costs_shared and version.collecting_institution is None


def test_full_lifecycle_and_audit(draft, world, admin, mailoutbox, django_capture_on_commit_callbacks):
    from ..factories import ContactFactory

    ContactFactory(institution=world.ub, service="legal", email="legal@ub.example")
    complete(draft, admin, world)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.agreement_send_for_signature(actor=admin, version=draft)
    assert len(callbacks) == 1
    assert [m.to for m in mailoutbox] == [["legal@ub.example"]]  # notified after commit, by a task

    with pytest.raises(TransitionError, match="Not every party has signed"):
        services.agreement_bring_into_force(actor=admin, version=draft)
    sign_all(draft, admin, world)
    version = services.agreement_bring_into_force(actor=admin, version=draft, effective_from=dt.date(2026, 2, 1))
    assert version.status == AgreementStatus.IN_FORCE
    assert version.effective_from == dt.date(2026, 2, 1)

    actions = list(AuditEvent.objects.filter(consortium_id=world.ca.id).order_by("id").values_list("action", flat=True))
    assert actions[:1] == ["agreement.created"]
    for expected in (
        "agreement.financial_model_set",
        "agreement.under_signature",
        "agreement.signed",
        "agreement.in_force",
        "agreement.signatories_notified",
    ):
        assert expected in actions
    assert AuditEvent.objects.get(action="agreement.signatories_notified").via == Via.TASK


def test_new_version_supersedes_the_old_one(draft, world, admin):
    complete(draft, admin, world)
    services.agreement_send_for_signature(actor=admin, version=draft)
    sign_all(draft, admin, world)
    services.agreement_bring_into_force(actor=admin, version=draft)

    v2 = services.agreement_version_start(actor=admin, agreement=draft.agreement)
    draft.refresh_from_db()
    assert v2.number == 2 and v2.status == AgreementStatus.DRAFT
    assert v2.governance == draft.governance
    assert set(v2.parties.values_list("institution__short_name", flat=True)) == {"UA", "UB"}
    assert v2.revenue_shares.count() == 2
    with pytest.raises(TransitionError, match="still Draft"):
        services.agreement_version_start(actor=admin, agreement=draft.agreement)

    services.agreement_send_for_signature(actor=admin, version=v2)
    sign_all(v2, admin, world)
    services.agreement_bring_into_force(actor=admin, version=v2)
    draft.refresh_from_db()
    assert draft.status == AgreementStatus.SUPERSEDED


def test_addendum_adds_a_partner_without_new_agreement(draft, world, admin):
    complete(draft, admin, world)
    services.agreement_send_for_signature(actor=admin, version=draft)
    sign_all(draft, admin, world)
    services.agreement_bring_into_force(actor=admin, version=draft)

    with pytest.raises(DomainError, match="not a member"):
        services.addendum_create(actor=admin, version=draft, institution=world.uc, summary="Joins")
    addendum = services.addendum_create(
        actor=admin, version=draft, institution=world.ea, summary="Co-delivers", role="associated"
    )
    assert not draft.parties.filter(institution=world.ea).exists()
    services.addendum_bring_into_force(actor=admin, addendum=addendum, signed_pdf=pdf())
    party = draft.parties.get(institution=world.ea)
    assert party.joined_by == addendum and party.role == "associated"
    with pytest.raises(TransitionError):
        services.addendum_bring_into_force(actor=admin, addendum=addendum, signed_pdf=pdf())


def test_addendum_needs_a_version_in_force(draft, world, admin):
    with pytest.raises(TransitionError, match="in force"):
        services.addendum_create(actor=admin, version=draft, institution=world.ea, summary="x")


# Every (status, transition) pair that the table does not allow is refused with a message.
TRANSITIONS = {
    "send": (services.agreement_send_for_signature, AgreementStatus.UNDER_SIGNATURE),
    "draft": (services.agreement_return_to_draft, AgreementStatus.DRAFT),
    "in_force": (services.agreement_bring_into_force, AgreementStatus.IN_FORCE),
    "terminate": (lambda **kw: services.agreement_terminate(reason="Ends", **kw), AgreementStatus.TERMINATED),
}
ILLEGAL = [
    (status, name)
    for status in AgreementStatus.values
    for name, (_fn, target) in TRANSITIONS.items()
    if target not in AGREEMENT_TRANSITIONS[status]
]


@pytest.mark.parametrize(("status", "transition"), ILLEGAL)
def test_illegal_transitions_are_refused(draft, admin, status, transition):
    draft.status = status
    draft.save()
    fn, _target = TRANSITIONS[transition]
    with pytest.raises(TransitionError) as refused:
        fn(actor=admin, version=draft)
    assert "cannot become" in refused.value.message or "signed" in refused.value.message
    draft.refresh_from_db()
    assert draft.status == status


def test_signature_rules(draft, world, admin):
    def sign(actor, institution, signed_on):
        return services.agreement_signature_record(
            actor=actor,
            version=draft,
            institution=institution,
            signed_by_name="x",
            signed_by_title="y",
            signed_on=signed_on,
            signed_pdf=pdf(),
        )

    with pytest.raises(TransitionError, match="under signature"):
        sign_all(draft, admin, world)
    complete(draft, admin, world)
    services.agreement_send_for_signature(actor=admin, version=draft)
    with pytest.raises(DomainError, match="not a party"):
        sign(admin, world.ea, dt.date(2026, 1, 1))
    with pytest.raises(PermissionDenied):
        sign(world.people["UC_admin"], world.ub, dt.date(2026, 1, 1))
    with pytest.raises(DomainError, match="future"):
        sign(admin, world.ub, dt.date(2999, 1, 1))
    sign(world.people["UB_admin"], world.ub, dt.date(2026, 1, 1))
    with pytest.raises(DomainError, match="already signed"):
        sign(admin, world.ub, dt.date(2026, 1, 1))
    with pytest.raises(TransitionError, match="already signed"):
        services.agreement_return_to_draft(actor=admin, version=draft)


def test_non_admin_cannot_manage(draft, world):
    with pytest.raises(PermissionDenied):
        services.agreement_version_update(actor=world.people["UA_admin"], version=draft, data={"gdpr": "x"})


def test_membership_rules(world, admin):
    with pytest.raises(DomainError, match="already a member"):
        services.membership_add(actor=admin, consortium=world.ca, institution=world.ub, role="partner")
    with pytest.raises(DomainError, match="associated"):
        services.membership_add(
            actor=admin,
            consortium=world.ca,
            institution=MembershipFactory(
                consortium=world.cb, role="associated", institution__kind="employer"
            ).institution,
            role="partner",
        )
    with pytest.raises(DomainError, match="already has a lead"):
        services.membership_add(actor=admin, consortium=world.ca, institution=world.uc, role="lead")
    membership = world.ca.memberships.get(institution=world.ub)
    with pytest.raises(DomainError, match="before the joining date"):
        services.membership_end(actor=admin, membership=membership, left_on=dt.date(2000, 1, 1))
    services.membership_end(actor=admin, membership=membership, left_on=dt.date(2026, 6, 30))
    with pytest.raises(TransitionError, match="already left"):
        services.membership_end(actor=admin, membership=membership)
    # Having left, UB may join again later.
    again = services.membership_add(actor=admin, consortium=world.ca, institution=world.ub, role="partner")
    assert again.left_on is None

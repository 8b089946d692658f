"""Writes for the consortium domain: one function per business action or state transition.

Every function takes keyword arguments, checks the policy, runs in a transaction, validates with the
model's ``full_clean()`` and records what it did in the audit trail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import audit, events, identifiers, personal_data, policy
from .errors import DomainError, TransitionError
from .models import (
    ROLE_SCOPES,
    Addendum,
    AddendumStatus,
    Agreement,
    AgreementKind,
    AgreementParty,
    AgreementSection,
    AgreementSignature,
    AgreementStatus,
    AgreementVersion,
    ApiToken,
    Consortium,
    ErasureRequest,
    ErasureStatus,
    ExternalId,
    ExternalIdKind,
    Institution,
    InstitutionContact,
    Membership,
    MembershipRole,
    RevenueModel,
    RevenueShare,
    Role,
    RoleAssignment,
    Scope,
    SharingBasis,
    StaffProfile,
    User,
)
from .models.tokens import TOKEN_PREFIX_LENGTH, generate_token_key, hash_token_key

INSTITUTION_FIELDS = (
    "legal_name",
    "short_name",
    "kind",
    "country",
    "city",
    "erasmus_code",
    "pic",
    "schac_code",
    "website",
    "logo",
    "signatory_name",
    "signatory_title",
    "signatory_signature",
)
CONSORTIUM_FIELDS = ("name", "acronym", "description", "website")
SECTION_FIELDS = tuple(s.value for s in AgreementSection)
FINANCIAL_FIELDS = ("revenue_model", "collecting_institution", "sharing_basis", "costs_shared")


def save_validated(obj, *, exclude: Iterable[str] = ()) -> None:
    """``full_clean()`` then save; a unique clash found only by the database becomes a DomainError."""
    obj.full_clean(exclude=list(exclude))
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise DomainError(_("This conflicts with an existing record."), details=[str(exc).splitlines()[0]]) from exc


_save = save_validated


def _apply(obj, data: Mapping[str, Any], allowed: Iterable[str]) -> dict[str, Any]:
    before = audit.snapshot(obj, allowed)
    for field in allowed:
        if field in data:
            value = data[field]
            if value is False and isinstance(obj._meta.get_field(field), models.FileField):
                value = ""  # a form's "clear" checkbox on a file input: no file
            setattr(obj, field, value)
    return before


def _create(actor, model, fields: tuple[str, ...], data: Mapping[str, Any], *, scope: str):
    """Create a plain record (institution, consortium) from form/API data, audited with its scope."""
    obj = model()
    _apply(obj, data, fields)
    _save(obj)
    audit.record(actor, f"{model._meta.model_name}.created", obj, audit.snapshot(obj, fields), **{scope: obj.id})
    return obj


def _update(actor, obj, fields: tuple[str, ...], data: Mapping[str, Any], *, scope: str):
    """Update a locked copy of ``obj`` and audit only what changed."""
    obj = type(obj).objects.select_for_update().get(pk=obj.pk)
    before = _apply(obj, data, fields)
    _save(obj)
    changes = audit.diff(before, audit.snapshot(obj, fields))
    if changes:
        audit.record(actor, f"{obj._meta.model_name}.updated", obj, changes, **{scope: obj.id})
    return obj


# --- Institutions -------------------------------------------------------------------------------------


def _institution_codes(data: Mapping[str, Any]) -> dict[str, Any]:
    """The codes in their canonical spelling (``b leuven01`` → ``B  LEUVEN01``, ``KULeuven.be`` → ``kuleuven.be``)."""
    data = dict(data)
    if data.get("erasmus_code"):
        data["erasmus_code"] = identifiers.normalise_erasmus_code(data["erasmus_code"])
    if data.get("schac_code"):
        data["schac_code"] = identifiers.normalise_schac_code(data["schac_code"])
    return data


@transaction.atomic
def institution_create(*, actor, data: Mapping[str, Any]) -> Institution:
    policy.require(actor, "institution.create")
    return _create(actor, Institution, INSTITUTION_FIELDS, _institution_codes(data), scope="institution_id")


def _touch(model, **lookup) -> None:
    """A record that shows another one's data changed with it (``updated_at``, the partners' change feed): an
    institution its contacts, an agreement its versions' statuses, a membership the institution's short name."""
    model.objects.filter(**lookup).update(updated_at=timezone.now())


@transaction.atomic
def institution_update(*, actor, institution: Institution, data: Mapping[str, Any]) -> Institution:
    policy.require(actor, "institution.change", institution)
    short_name = Institution.objects.values_list("short_name", flat=True).get(pk=institution.pk)
    institution = _update(actor, institution, INSTITUTION_FIELDS, _institution_codes(data), scope="institution_id")
    if institution.short_name != short_name:
        _touch(Membership, institution=institution)
    return institution


@transaction.atomic
def institution_contact_add(
    *, actor, institution: Institution, service: str, name: str, email: str, phone: str = ""
) -> InstitutionContact:
    policy.require(actor, "institution.change", institution)
    contact = InstitutionContact(institution=institution, service=service, name=name, email=email, phone=phone)
    _save(contact)
    _touch(Institution, pk=institution.pk)
    audit.record(
        actor, "institution.contact_added", contact, {"service": service, "name": name}, institution_id=institution.id
    )
    return contact


@transaction.atomic
def institution_contact_remove(*, actor, contact: InstitutionContact) -> None:
    policy.require(actor, "institution.change", contact.institution)
    audit.record(
        actor,
        "institution.contact_removed",
        contact,
        {"service": contact.service, "name": contact.name},
        institution_id=contact.institution_id,
    )
    contact.delete()
    _touch(Institution, pk=contact.institution_id)


# --- Consortia and memberships --------------------------------------------------------------------


@transaction.atomic
def consortium_create(*, actor, data: Mapping[str, Any]) -> Consortium:
    policy.require(actor, "consortium.create")
    return _create(actor, Consortium, CONSORTIUM_FIELDS, data, scope="consortium_id")


@transaction.atomic
def consortium_update(*, actor, consortium: Consortium, data: Mapping[str, Any]) -> Consortium:
    policy.require(actor, "consortium.change", consortium)
    return _update(actor, consortium, CONSORTIUM_FIELDS, data, scope="consortium_id")


@transaction.atomic
def membership_add(
    *, actor, consortium: Consortium, institution: Institution, role: str, joined_on: dt.date | None = None
) -> Membership:
    policy.require(actor, "membership.manage", consortium)
    if role in (MembershipRole.LEAD, MembershipRole.PARTNER) and not institution.is_university:
        raise DomainError(
            _("Only universities can be lead or full partners; add %(name)s as an associated partner.")
            % {"name": institution.short_name}
        )
    if Membership.objects.filter(consortium=consortium, institution=institution, left_on__isnull=True).exists():
        raise DomainError(
            _("%(name)s is already a member of %(consortium)s.")
            % {"name": institution.short_name, "consortium": consortium.acronym}
        )
    if (
        role == MembershipRole.LEAD
        and Membership.objects.filter(consortium=consortium, role=MembershipRole.LEAD, left_on__isnull=True).exists()
    ):
        raise DomainError(_("%(consortium)s already has a lead institution.") % {"consortium": consortium.acronym})
    membership = Membership(
        consortium=consortium, institution=institution, role=role, joined_on=joined_on or timezone.localdate()
    )
    _save(membership)
    audit.record(
        actor,
        "membership.added",
        membership,
        {"institution": institution.short_name, "role": role},
        consortium_id=consortium.id,
        institution_id=institution.id,
    )
    return membership


@transaction.atomic
def membership_end(*, actor, membership: Membership, left_on: dt.date | None = None) -> Membership:
    policy.require(actor, "membership.manage", membership)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.left_on is not None:
        raise TransitionError(
            _("%(name)s already left on %(date)s.")
            % {"name": membership.institution.short_name, "date": membership.left_on}
        )
    left_on = left_on or timezone.localdate()
    if left_on < membership.joined_on:
        raise DomainError(
            _("The leaving date cannot be before the joining date (%(date)s).") % {"date": membership.joined_on}
        )
    membership.left_on = left_on
    _save(membership)
    audit.record(
        actor,
        "membership.ended",
        membership,
        {"left_on": left_on},
        consortium_id=membership.consortium_id,
        institution_id=membership.institution_id,
    )
    return membership


# --- Agreements ------------------------------------------------------------------------------------

#: The agreement lifecycle: which status may follow which. Checked in one place, ``_move``.
AGREEMENT_TRANSITIONS: dict[str, set[str]] = {
    AgreementStatus.DRAFT: {AgreementStatus.UNDER_SIGNATURE},
    AgreementStatus.UNDER_SIGNATURE: {AgreementStatus.DRAFT, AgreementStatus.IN_FORCE},
    AgreementStatus.IN_FORCE: {AgreementStatus.SUPERSEDED, AgreementStatus.TERMINATED},
    AgreementStatus.SUPERSEDED: set(),
    AgreementStatus.TERMINATED: set(),
}


def _locked_version(version: AgreementVersion) -> AgreementVersion:
    return AgreementVersion.objects.select_for_update().select_related("agreement").get(pk=version.pk)


def _move(actor, version: AgreementVersion, target: str, changes: Mapping[str, Any] | None = None) -> None:
    source = version.status
    if target not in AGREEMENT_TRANSITIONS[source]:
        raise TransitionError(
            _("Version %(number)s is %(source)s; it cannot become %(target)s.")
            % {
                "number": version.number,
                "source": AgreementStatus(source).label,
                "target": AgreementStatus(target).label,
            }
        )
    version.status = target
    version.save()
    _touch(Agreement, pk=version.agreement_id)
    audit.record(
        actor,
        f"agreement.{target}",
        version,
        {"status": [source, target], **(changes or {})},
        consortium_id=version.agreement.consortium_id,
    )


@transaction.atomic
def agreement_create(
    *, actor, consortium: Consortium, kind: str, title: str, reference: str = "", parties: Iterable[Institution] = ()
) -> Agreement:
    """A new agreement with version 1 in draft. Parties take their role from the consortium membership."""
    policy.require(actor, "agreement.manage", consortium)
    agreement = Agreement(consortium=consortium, kind=kind, title=title, reference=reference)
    _save(agreement)
    version = AgreementVersion(agreement=agreement, number=1)
    _save(version)
    for institution in parties:
        _party_add(version, institution)
    audit.record(
        actor,
        "agreement.created",
        agreement,
        {"kind": kind, "title": title, "parties": [p.short_name for p in parties]},
        consortium_id=consortium.id,
    )
    return agreement


def _party_add(
    version: AgreementVersion, institution: Institution, addendum: Addendum | None = None, role: str | None = None
) -> AgreementParty:
    membership = Membership.objects.filter(
        consortium_id=version.agreement.consortium_id, institution=institution, left_on__isnull=True
    ).first()
    if membership is None:
        raise DomainError(
            _("%(name)s is not a member of the consortium; add it as a member first.")
            % {"name": institution.short_name}
        )
    if version.parties.filter(institution=institution).exists():
        raise DomainError(_("%(name)s is already a party.") % {"name": institution.short_name})
    party = AgreementParty(version=version, institution=institution, role=role or membership.role, joined_by=addendum)
    _save(party)
    return party


def _require_draft(version: AgreementVersion) -> None:
    if version.status != AgreementStatus.DRAFT:
        raise TransitionError(
            _("Version %(number)s is %(status)s and can no longer be edited; start a new version.")
            % {"number": version.number, "status": version.get_status_display()}
        )


@transaction.atomic
def agreement_party_add(*, actor, version: AgreementVersion, institution: Institution) -> AgreementParty:
    policy.require(actor, "agreement.manage", version.agreement)
    version = _locked_version(version)
    _require_draft(version)
    party = _party_add(version, institution)
    audit.record(
        actor,
        "agreement.party_added",
        version,
        {"institution": institution.short_name},
        consortium_id=version.agreement.consortium_id,
    )
    return party


@transaction.atomic
def agreement_party_remove(*, actor, party: AgreementParty) -> None:
    policy.require(actor, "agreement.manage", party.version.agreement)
    version = _locked_version(party.version)
    _require_draft(version)
    RevenueShare.objects.filter(version=version, institution=party.institution).delete()
    if version.collecting_institution_id == party.institution_id:
        version.collecting_institution = None
        version.revenue_model = RevenueModel.EACH_KEEPS_OWN
        version.sharing_basis = ""
        version.save()
    audit.record(
        actor,
        "agreement.party_removed",
        version,
        {"institution": party.institution.short_name},
        consortium_id=version.agreement.consortium_id,
    )
    party.delete()


@transaction.atomic
def agreement_version_update(*, actor, version: AgreementVersion, data: Mapping[str, Any]) -> AgreementVersion:
    """Edit the sections and dates of a draft version."""
    policy.require(actor, "agreement.manage", version.agreement)
    version = _locked_version(version)
    _require_draft(version)
    fields = (*SECTION_FIELDS, "effective_until")
    before = _apply(version, data, fields)
    _save(version)
    changes = audit.diff(before, audit.snapshot(version, fields))
    if changes:
        audit.record(actor, "agreement.updated", version, changes, consortium_id=version.agreement.consortium_id)
    return version


def financial_model_problems(
    *,
    version: AgreementVersion,
    revenue_model: str,
    collecting_institution: Institution | None,
    sharing_basis: str,
    shares: Mapping[Institution, Decimal],
) -> list[str]:
    """Every reason the financial model is not acceptable (empty when it is)."""
    problems: list[str] = []
    party_ids = set(version.parties.values_list("institution_id", flat=True))
    if revenue_model == RevenueModel.EACH_KEEPS_OWN:
        if shares:
            problems.append(_("Revenue shares only apply when one partner collects and distributes fees."))
        return problems
    if collecting_institution is None:
        problems.append(_("Choose the partner that collects the fees."))
    elif collecting_institution.id not in party_ids:
        problems.append(_("The collecting partner must be a party to the agreement."))
    if sharing_basis not in SharingBasis.values:
        problems.append(_("Choose how revenue is shared."))
    if sharing_basis == SharingBasis.FIXED:
        outsiders = [i.short_name for i in shares if i.id not in party_ids]
        if outsiders:
            problems.append(_("Shares given to non-parties: %(names)s.") % {"names": ", ".join(outsiders)})
        if any(p < 0 or p > 100 for p in shares.values()):
            problems.append(_("Each share must be between 0 and 100 %."))
        total = sum(shares.values(), Decimal("0"))
        if total != Decimal("100"):
            problems.append(_("Fixed shares must add up to 100 %%; they add up to %(total)s %%.") % {"total": total})
    elif shares:
        problems.append(_("Explicit percentages are only used with fixed shares."))
    return problems


@transaction.atomic
def agreement_financial_model_set(
    *,
    actor,
    version: AgreementVersion,
    revenue_model: str,
    collecting_institution: Institution | None = None,
    sharing_basis: str = "",
    shares: Mapping[Institution, Decimal] | None = None,
    costs_shared: bool = False,
) -> AgreementVersion:
    policy.require(actor, "agreement.manage", version.agreement)
    version = _locked_version(version)
    _require_draft(version)
    shares = {i: Decimal(p) for i, p in (shares or {}).items() if p not in (None, "")}
    problems = financial_model_problems(
        version=version,
        revenue_model=revenue_model,
        collecting_institution=collecting_institution,
        sharing_basis=sharing_basis,
        shares=shares,
    )
    if problems:
        raise DomainError(_("The financial model is incomplete."), details=problems)
    before = audit.snapshot(version, FINANCIAL_FIELDS)
    version.revenue_model = revenue_model
    version.collecting_institution = (
        collecting_institution if revenue_model == RevenueModel.COLLECTING_PARTNER else None
    )
    version.sharing_basis = sharing_basis if revenue_model == RevenueModel.COLLECTING_PARTNER else ""
    version.costs_shared = costs_shared
    _save(version)
    version.revenue_shares.all().delete()
    RevenueShare.objects.bulk_create(
        [RevenueShare(version=version, institution=i, percent=p) for i, p in shares.items()]
    )
    changes = audit.diff(before, audit.snapshot(version, FINANCIAL_FIELDS))
    changes["shares"] = {i.short_name: str(p) for i, p in shares.items()}
    audit.record(
        actor, "agreement.financial_model_set", version, changes, consortium_id=version.agreement.consortium_id
    )
    return version


def agreement_readiness_problems(version: AgreementVersion) -> list[str]:
    """What keeps a draft from going out for signature."""
    problems = []
    parties = list(version.parties.all())
    if len(parties) < 2:
        problems.append(_("A joint agreement needs at least two parties."))
    if version.agreement.kind == AgreementKind.PROGRAMME and not any(p.role == MembershipRole.LEAD for p in parties):
        problems.append(_("One party must be the lead institution."))
    empty = [s.label for s in AgreementSection if not getattr(version, s.value).strip()]
    if empty:
        problems.append(_("Sections still empty: %(sections)s.") % {"sections": ", ".join(str(e) for e in empty)})
    shares = {s.institution: s.percent for s in version.revenue_shares.select_related("institution")}
    problems += financial_model_problems(
        version=version,
        revenue_model=version.revenue_model,
        collecting_institution=version.collecting_institution,
        sharing_basis=version.sharing_basis,
        shares=shares,
    )
    return problems


@transaction.atomic
def agreement_send_for_signature(*, actor, version: AgreementVersion) -> AgreementVersion:
    policy.require(actor, "agreement.manage", version.agreement)
    version = _locked_version(version)
    if version.status == AgreementStatus.DRAFT:
        problems = agreement_readiness_problems(version)
        if problems:
            raise DomainError(_("This version is not ready for signature."), details=problems)
    _move(actor, version, AgreementStatus.UNDER_SIGNATURE)
    from .tasks import agreement_notify_signatories

    agreement_notify_signatories.delay_on_commit(str(version.id))
    return version


@transaction.atomic
def agreement_return_to_draft(*, actor, version: AgreementVersion) -> AgreementVersion:
    policy.require(actor, "agreement.manage", version.agreement)
    version = _locked_version(version)
    if version.status == AgreementStatus.UNDER_SIGNATURE and version.signatures.exists():
        raise TransitionError(_("Some parties have already signed; start a new version instead of editing this one."))
    _move(actor, version, AgreementStatus.DRAFT)
    return version


@transaction.atomic
def agreement_signature_record(
    *,
    actor,
    version: AgreementVersion,
    institution: Institution,
    signed_by_name: str,
    signed_by_title: str,
    signed_on: dt.date,
    signed_pdf: UploadedFile,
) -> AgreementSignature:
    party = (
        AgreementParty.objects.select_related("version__agreement")
        .filter(version=version, institution=institution)
        .first()
    )
    if party is None:
        raise DomainError(_("%(name)s is not a party to this agreement.") % {"name": institution.short_name})
    policy.require(actor, "agreement.sign", party)
    version = _locked_version(version)
    if version.status != AgreementStatus.UNDER_SIGNATURE:
        raise TransitionError(
            _("Signatures are recorded only while the version is under signature (it is %(status)s).")
            % {"status": version.get_status_display()}
        )
    if version.signatures.filter(institution=institution).exists():
        raise DomainError(_("%(name)s has already signed this version.") % {"name": institution.short_name})
    if signed_on > timezone.localdate():
        raise DomainError(_("The signing date cannot be in the future."))
    signature = AgreementSignature(
        version=version,
        institution=institution,
        signed_by_name=signed_by_name,
        signed_by_title=signed_by_title,
        signed_on=signed_on,
        signed_pdf=signed_pdf,
        recorded_by=actor if isinstance(actor, User) else None,
    )
    _save(signature, exclude=["recorded_by"])
    audit.record(
        actor,
        "agreement.signed",
        version,
        {"institution": institution.short_name, "signed_by": signed_by_name, "signed_on": signed_on},
        consortium_id=version.agreement.consortium_id,
        institution_id=institution.id,
    )
    return signature


def unsigned_parties(version: AgreementVersion) -> list[AgreementParty]:
    signed = set(version.signatures.values_list("institution_id", flat=True))
    return [p for p in version.parties.select_related("institution") if p.institution_id not in signed]


@transaction.atomic
def agreement_bring_into_force(
    *, actor, version: AgreementVersion, effective_from: dt.date | None = None
) -> AgreementVersion:
    """Every party has signed: this version governs from now on; an earlier one in force is superseded."""
    policy.require(actor, "agreement.manage", version.agreement)
    version = _locked_version(version)
    if version.status == AgreementStatus.UNDER_SIGNATURE:
        missing = unsigned_parties(version)
        if missing:
            raise TransitionError(
                _("Not every party has signed yet."), details=[p.institution.short_name for p in missing]
            )
    current = (
        AgreementVersion.objects.select_for_update()
        .filter(agreement=version.agreement, status=AgreementStatus.IN_FORCE)
        .exclude(pk=version.pk)
        .first()
    )
    if current is not None and version.status == AgreementStatus.UNDER_SIGNATURE:
        _move(actor, current, AgreementStatus.SUPERSEDED, {"superseded_by": version.number})
    version.effective_from = effective_from or timezone.localdate()
    _move(actor, version, AgreementStatus.IN_FORCE, {"effective_from": version.effective_from})
    events.publish("consortium.agreement_in_force", agreement_id=str(version.agreement_id), version_id=str(version.id))
    return version


@transaction.atomic
def agreement_terminate(
    *, actor, version: AgreementVersion, reason: str, terminated_on: dt.date | None = None
) -> AgreementVersion:
    """Ends the agreement. Learners already enrolled may finish (the programmes' own rules apply)."""
    policy.require(actor, "agreement.manage", version.agreement)
    version = _locked_version(version)
    if not reason.strip():
        raise DomainError(_("Give the reason for termination."))
    version.terminated_on = terminated_on or timezone.localdate()
    version.termination_reason = reason
    _move(actor, version, AgreementStatus.TERMINATED, {"reason": reason, "terminated_on": version.terminated_on})
    return version


@transaction.atomic
def agreement_version_start(*, actor, agreement: Agreement) -> AgreementVersion:
    """A new draft version, copied from the latest version (sections, parties, financial model)."""
    policy.require(actor, "agreement.manage", agreement)
    Agreement.objects.select_for_update().get(pk=agreement.pk)
    latest = agreement.versions.order_by("-number").first()
    if latest and latest.status in (AgreementStatus.DRAFT, AgreementStatus.UNDER_SIGNATURE):
        raise TransitionError(
            _("Version %(number)s is still %(status)s; finish it before starting another.")
            % {"number": latest.number, "status": latest.get_status_display()}
        )
    if latest and latest.status == AgreementStatus.TERMINATED:
        raise TransitionError(_("The agreement was terminated; create a new agreement instead."))
    version = AgreementVersion(agreement=agreement, number=(latest.number + 1) if latest else 1)
    if latest:
        for field in (*SECTION_FIELDS, *FINANCIAL_FIELDS, "effective_until"):
            setattr(version, field, getattr(latest, field))
    _save(version)
    _touch(Agreement, pk=agreement.pk)
    if latest:
        AgreementParty.objects.bulk_create(
            [
                AgreementParty(
                    version=version, institution_id=p.institution_id, role=p.role, coordinator_name=p.coordinator_name
                )
                for p in latest.parties.all()
            ]
        )
        RevenueShare.objects.bulk_create(
            [
                RevenueShare(version=version, institution_id=s.institution_id, percent=s.percent)
                for s in latest.revenue_shares.all()
            ]
        )
    audit.record(
        actor,
        "agreement.version_started",
        version,
        {"copied_from": latest.number if latest else None},
        consortium_id=agreement.consortium_id,
    )
    return version


@transaction.atomic
def addendum_create(
    *, actor, version: AgreementVersion, institution: Institution, summary: str, role: str = MembershipRole.PARTNER
) -> Addendum:
    """A new partner joins an agreement in force by addendum, without renegotiating it."""
    policy.require(actor, "agreement.manage", version.agreement)
    version = _locked_version(version)
    if version.status != AgreementStatus.IN_FORCE:
        raise TransitionError(_("Partners join by addendum only to a version in force."))
    if version.parties.filter(institution=institution).exists():
        raise DomainError(_("%(name)s is already a party.") % {"name": institution.short_name})
    if not Membership.objects.filter(
        consortium_id=version.agreement.consortium_id, institution=institution, left_on__isnull=True
    ).exists():
        raise DomainError(
            _("%(name)s is not a member of the consortium; add it as a member first.")
            % {"name": institution.short_name}
        )
    if role == MembershipRole.LEAD:
        raise DomainError(_("An addendum cannot change the lead institution; start a new version."))
    if version.addenda.filter(institution=institution, status=AddendumStatus.DRAFT).exists():
        raise DomainError(_("An addendum for %(name)s is already being prepared.") % {"name": institution.short_name})
    number = (version.addenda.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    addendum = Addendum(version=version, number=number, institution=institution, role=role, summary=summary)
    _save(addendum)
    audit.record(
        actor,
        "agreement.addendum_created",
        addendum,
        {"institution": institution.short_name},
        consortium_id=version.agreement.consortium_id,
    )
    return addendum


@transaction.atomic
def addendum_bring_into_force(
    *, actor, addendum: Addendum, signed_pdf: UploadedFile, effective_from: dt.date | None = None
) -> Addendum:
    policy.require(actor, "agreement.manage", addendum.version.agreement)
    addendum = Addendum.objects.select_for_update().select_related("version__agreement").get(pk=addendum.pk)
    if addendum.status != AddendumStatus.DRAFT:
        raise TransitionError(
            _("Addendum %(number)s is %(status)s.")
            % {"number": addendum.number, "status": addendum.get_status_display()}
        )
    version = _locked_version(addendum.version)
    if version.status != AgreementStatus.IN_FORCE:
        raise TransitionError(_("The agreement version is no longer in force."))
    addendum.signed_pdf = signed_pdf
    addendum.status = AddendumStatus.IN_FORCE
    addendum.effective_from = effective_from or timezone.localdate()
    _save(addendum)
    _party_add(version, addendum.institution, addendum=addendum, role=addendum.role)
    audit.record(
        actor,
        "agreement.addendum_in_force",
        addendum,
        {"institution": addendum.institution.short_name, "effective_from": addendum.effective_from},
        consortium_id=version.agreement.consortium_id,
        institution_id=addendum.institution_id,
    )
    return addendum


# --- People and roles --------------------------------------------------------------------------------


def _assignment_scope(role: str, consortium, institution, target_id) -> dict[str, Any]:
    scope = ROLE_SCOPES[role]
    if scope == Scope.CONSORTIUM and consortium is None:
        raise DomainError(_("%(role)s is granted on a consortium.") % {"role": Role(role).label})
    if scope == Scope.INSTITUTION and institution is None:
        raise DomainError(_("%(role)s is granted on an institution.") % {"role": Role(role).label})
    if scope in (Scope.PROGRAMME, Scope.COURSE) and target_id is None:
        raise DomainError(_("%(role)s is granted on a %(scope)s.") % {"role": Role(role).label, "scope": scope})
    return {
        "consortium": consortium if scope == Scope.CONSORTIUM else None,
        "institution": institution if scope in (Scope.INSTITUTION, Scope.PROGRAMME, Scope.COURSE) else None,
        "target_id": target_id,
    }


@transaction.atomic
def role_grant(
    *,
    actor,
    user: User,
    role: str,
    consortium: Consortium | None = None,
    institution: Institution | None = None,
    target_id=None,
    check_policy: bool = True,
) -> RoleAssignment:
    """Grant ``role`` on its scope; granting twice returns the existing assignment.

    ``check_policy`` is False only for callers that already decided (seed data, the programmes app
    appointing its team, management commands run by the platform operator).
    """
    if check_policy:
        target = consortium if ROLE_SCOPES[role] == Scope.CONSORTIUM else institution
        policy.require(actor, "consortium.change" if ROLE_SCOPES[role] == Scope.CONSORTIUM else "staff.manage", target)
    fields = _assignment_scope(role, consortium, institution, target_id)
    key = RoleAssignment.make_scope_key(
        consortium_id=fields["consortium"] and fields["consortium"].id,
        institution_id=fields["institution"] and fields["institution"].id,
        target_id=target_id,
    )
    assignment, created = RoleAssignment.objects.get_or_create(
        user=user,
        role=role,
        scope_key=key,
        defaults={**fields, "granted_by": actor if isinstance(actor, User) else None},
    )
    policy.forget(user)
    if created:
        audit.record(
            actor,
            "role.granted",
            assignment,
            {"user": user.email, "role": role, "scope": key},
            consortium_id=fields["consortium"] and fields["consortium"].id,
            institution_id=fields["institution"] and fields["institution"].id,
        )
    return assignment


@transaction.atomic
def role_revoke(*, actor, assignment: RoleAssignment) -> None:
    if assignment.role == Role.CONSORTIUM_ADMIN:
        policy.require(actor, "consortium.change", assignment.consortium)
    else:
        policy.require(actor, "staff.manage", assignment.institution)
    audit.record(
        actor,
        "role.revoked",
        assignment,
        {"user": assignment.user.email, "role": assignment.role, "scope": assignment.scope_key},
        consortium_id=assignment.consortium_id,
        institution_id=assignment.institution_id,
    )
    policy.forget(assignment.user)
    assignment.delete()


@transaction.atomic
def role_revoke_assignment(*, actor, user: User, role: str, target_id) -> int:
    """Remove ``role`` on a programme or course (used by higher apps when a team changes). Returns rows removed."""
    removed = 0
    policy.forget(user)
    for assignment in RoleAssignment.objects.filter(user=user, role=role, target_id=target_id):
        audit.record(
            actor,
            "role.revoked",
            assignment,
            {"user": user.email, "role": role, "scope": assignment.scope_key},
            institution_id=assignment.institution_id,
        )
        assignment.delete()
        removed += 1
    return removed


@transaction.atomic
def staff_member_add(
    *, actor, institution: Institution, email: str, full_name: str, job_title: str = "", check_policy: bool = True
) -> StaffProfile:
    """Attach a person (new or existing account) to an institution as staff."""
    if check_policy:
        policy.require(actor, "staff.manage", institution)
    email = User.objects.normalize_email(email).lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, full_name=full_name)
    existing = getattr(user, "staff_profile", None) if user.pk else None
    if existing is not None:
        if existing.institution_id != institution.id:
            raise DomainError(
                _("%(email)s is already staff of %(name)s.") % {"email": email, "name": existing.institution.short_name}
            )
        return existing
    profile = StaffProfile(user=user, institution=institution, job_title=job_title)
    _save(profile)
    policy.forget(user)
    audit.record(actor, "staff.added", profile, {"email": email}, institution_id=institution.id)
    return profile


# --- API tokens --------------------------------------------------------------------------------------


@transaction.atomic
def apitoken_create(
    *,
    actor,
    institution: Institution,
    name: str,
    scopes: Iterable[str],
    expires_at: dt.datetime | None = None,
    check_policy: bool = True,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its key. The key is shown once; only its hash is stored."""
    if check_policy:
        policy.require(actor, "apitoken.manage", institution)
    scopes = sorted(set(scopes))
    unknown = sorted(set(scopes) - set(policy.api_scopes()))
    if unknown:
        raise DomainError(_("Unknown scopes: %(scopes)s.") % {"scopes": ", ".join(unknown)})
    if not scopes:
        raise DomainError(_("Choose at least one scope."))
    expires_at = expires_at or timezone.now() + dt.timedelta(days=settings.API_TOKEN_DEFAULT_DAYS)
    if expires_at <= timezone.now():
        raise DomainError(_("The expiry date must be in the future."))
    if ApiToken.objects.filter(institution=institution, name=name).exists():
        raise DomainError(
            _("%(name)s already has a token called “%(token)s”.") % {"name": institution.short_name, "token": name}
        )
    key = generate_token_key()
    while ApiToken.objects.filter(prefix=key[:TOKEN_PREFIX_LENGTH]).exists():
        key = generate_token_key()
    token = ApiToken(
        institution=institution,
        name=name,
        scopes=scopes,
        expires_at=expires_at,
        prefix=key[:TOKEN_PREFIX_LENGTH],
        key_hash=hash_token_key(key),
        created_by=actor if isinstance(actor, User) else None,
    )
    _save(token, exclude=["created_by"])
    audit.record(
        actor,
        "apitoken.created",
        token,
        {"name": name, "scopes": scopes, "expires_at": expires_at},
        institution_id=institution.id,
    )
    return token, key


@transaction.atomic
def apitoken_revoke(*, actor, token: ApiToken) -> ApiToken:
    policy.require(actor, "apitoken.manage", token)
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        raise TransitionError(_("This token was already revoked on %(date)s.") % {"date": token.revoked_at.date()})
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at", "updated_at"])
    audit.record(actor, "apitoken.revoked", token, {"name": token.name}, institution_id=token.institution_id)
    return token


def apitoken_authenticate(key: str) -> ApiToken | None:
    """The usable token for ``key``, or None. Records the last use at most once a minute."""
    token = ApiToken.objects.select_related("institution").filter(key_hash=hash_token_key(key)).first()
    if token is None or not token.is_usable:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


# --- Personal data: export and erasure requests (GDPR Art. 15, 17, 20) -----------------------------------------

ERASURE_TRANSITIONS: dict[str, set[str]] = {
    ErasureStatus.REQUESTED: {ErasureStatus.COMPLETED, ErasureStatus.REFUSED},
    ErasureStatus.COMPLETED: set(),
    ErasureStatus.REFUSED: set(),
}
ERASURE_OPEN = gettext_lazy("There is already an open erasure request for this account; it will be answered soon.")
ERASURE_DONE = gettext_lazy("This account's personal data has already been erased.")
ERASURE_OWN = gettext_lazy("You cannot erase your own account; ask another platform administrator.")
ERASURE_REFUSAL_REASON = gettext_lazy("Give the reason for the refusal: the person is told.")


def _self_or_privacy_manager(actor, user: User) -> None:
    """The person themselves, or a platform administrator acting on a request received another way."""
    if getattr(actor, "pk", None) == user.pk and policy.can(actor, policy.AUTHENTICATED):
        return
    policy.require(actor, "privacy.manage")


def _is_erased(user: User) -> bool:
    return not user.is_active and user.email.endswith("@invalid")


def personal_data_export(*, actor, user: User):
    """The ZIP of everything held about ``user`` (``personal_data.export_archive``), recorded in the audit trail."""
    _self_or_privacy_manager(actor, user)
    archive = personal_data.export_archive(user)
    audit.record(actor, "personal_data.exported", user, {"user": str(user.pk)})
    return archive


def _erasure_move(actor, request: ErasureRequest, target: str, changes: Mapping[str, Any]) -> None:
    source = request.status
    request.status = target
    request.completed_at = timezone.now()
    request.completed_by = actor if isinstance(actor, User) else None
    request.save()
    audit.record(actor, f"erasure.{target}", request, {"status": [source, target], **changes})


def _erasure_check(request: ErasureRequest, target: str) -> None:
    if target not in ERASURE_TRANSITIONS[request.status]:
        raise TransitionError(
            _("This erasure request is %(source)s; it cannot be %(target)s.")
            % {"source": ErasureStatus(request.status).label.lower(), "target": ErasureStatus(target).label.lower()}
        )


def _locked_erasure(request: ErasureRequest) -> ErasureRequest:
    return ErasureRequest.objects.select_for_update().select_related("user").get(pk=request.pk)


@transaction.atomic
def erasure_request(*, actor, user: User, reason: str = "") -> ErasureRequest:
    """The person asks for the erasure of their data, or an administrator records a request received otherwise."""
    _self_or_privacy_manager(actor, user)
    user = User.objects.select_for_update().get(pk=user.pk)  # two requests at once: one waits, then sees the other
    if _is_erased(user):
        raise DomainError(ERASURE_DONE)
    if ErasureRequest.objects.filter(user=user, status=ErasureStatus.REQUESTED).exists():
        raise DomainError(ERASURE_OPEN)
    request = ErasureRequest(user=user, requested_by=actor if isinstance(actor, User) else None,
                             reason=reason.strip())
    _save(request)
    audit.record(actor, "erasure.requested", request,
                 {"user": str(user.pk), "on_behalf": getattr(actor, "pk", None) != user.pk})
    return request


@transaction.atomic
def erasure_carry_out(*, actor, request: ErasureRequest, note: str = "") -> ErasureRequest:
    """Erase the person's data (every registered handler, ``personal_data.erase_user``) and close the request, in
    one transaction: a failing handler erases nothing."""
    policy.require(actor, "privacy.manage", request)
    request = _locked_erasure(request)
    _erasure_check(request, ErasureStatus.COMPLETED)
    if request.user_id == getattr(actor, "pk", None):
        raise DomainError(ERASURE_OWN)
    redact = personal_data.redactor(personal_data.identifiers_of(request.user, name_parts=True))
    address = request.user.email  # the erasure replaces it: the outcome goes to the address the person used
    done = personal_data.erase_user(request.user)
    request.reason, request.note = redact(request.reason), redact(note.strip())
    _erasure_move(actor, request, ErasureStatus.COMPLETED, done)
    _erasure_notify(address, ErasureStatus.COMPLETED)
    return request


@transaction.atomic
def erasure_refuse(*, actor, request: ErasureRequest, note: str) -> ErasureRequest:
    """Refuse (e.g. the data must still be kept, or the request did not come from the person), with the reason."""
    policy.require(actor, "privacy.manage", request)
    if not note.strip():
        raise DomainError(ERASURE_REFUSAL_REASON)
    request = _locked_erasure(request)
    _erasure_check(request, ErasureStatus.REFUSED)
    request.note = note.strip()
    _erasure_move(actor, request, ErasureStatus.REFUSED, {"note": request.note})
    _erasure_notify(request.user.email, ErasureStatus.REFUSED, request.note)
    return request


def _erasure_notify(address: str, outcome: str, note: str = "") -> None:
    """Tell the person how their erasure request ended (Art. 12(3)), once the decision is committed."""
    from .tasks import erasure_notify

    if address:
        erasure_notify.delay_on_commit(address, outcome, note)


def validation_messages(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "message_dict"):
        return exc.message_dict
    return {"non_field_errors": exc.messages}


# --- Identifiers: the learner's ESI, partners' external ids ----------------------------------------------------------

NO_INSTITUTION = gettext_lazy("External ids belong to an institution: only its partner system and its student or "
                              "institution administrators keep them, and you act for no institution.")
UNKNOWN_RECORD = gettext_lazy("No such record among those your institution may see.")


@transaction.atomic
def user_esi_set(*, actor, user: User, esi: str) -> User:
    """The person's own European Student Identifier (empty to remove it), in its canonical spelling."""
    if getattr(actor, "pk", None) != user.pk:
        raise PermissionDenied("Only the person sets their own European Student Identifier.")
    user = User.objects.select_for_update().get(pk=user.pk)
    before = user.esi
    user.esi = identifiers.normalise_esi(esi)
    if user.esi == before:
        return user
    try:
        user.full_clean(exclude=[f.name for f in User._meta.concrete_fields if f.name != "esi"])
    except ValidationError as exc:  # only the ESI is checked: the unique constraint's message is about it too
        raise ValidationError({"esi": [m for messages in exc.message_dict.values() for m in messages]}) from None
    try:
        with transaction.atomic():
            user.save(update_fields=["esi"])
    except IntegrityError as exc:  # another account took it between the check and the write
        taken = next(c for c in User._meta.constraints if c.name == "user_esi_unique").violation_error_message
        raise ValidationError({"esi": [str(taken)]}) from exc
    audit.record(actor, "account.esi_set", user, {"esi": [before, user.esi]})
    return user


def _external_id_institution(actor) -> Institution:
    institution_id = identifiers.acting_institution_id(actor)
    if institution_id is None:
        raise DomainError(str(NO_INSTITUTION))
    return Institution.objects.get(pk=institution_id)


@transaction.atomic
def external_id_set(*, actor, kind: str, object_id, value: str) -> tuple[ExternalId, bool]:
    """Attach the actor's institution's own id to a record it may see, or replace the one it had there.

    Returns the external id and whether it is new. The same call twice changes nothing the second time."""
    policy.require(actor, "external_id.manage")
    institution = _external_id_institution(actor)
    if kind not in ExternalIdKind.values:
        raise ValidationError({"kind": [_("Unknown kind: use one of %(kinds)s.") % {
            "kinds": ", ".join(ExternalIdKind.values)}]})
    if not identifiers.is_visible(actor, kind, object_id):
        raise ValidationError({"object_id": [str(UNKNOWN_RECORD)]})
    existing = (ExternalId.objects.select_for_update()
                .filter(institution=institution, kind=kind, object_id=object_id).first())
    external_id = existing or ExternalId(institution=institution, kind=kind, object_id=object_id)
    before = existing.value if existing else None
    external_id.value = (value or "").strip()
    if external_id.value == before:
        return external_id, False
    _save(external_id)
    audit.record(actor, "external_id.replaced" if existing else "external_id.attached", external_id,
                 {"kind": kind, "object_id": str(object_id), "value": [before, external_id.value]},
                 institution_id=institution.id)
    return external_id, existing is None


@transaction.atomic
def external_id_remove(*, actor, external_id: ExternalId) -> None:
    policy.require(actor, "external_id.manage", external_id)
    audit.record(actor, "external_id.removed", external_id,
                 {"kind": external_id.kind, "object_id": str(external_id.object_id), "value": external_id.value},
                 institution_id=external_id.institution_id)
    external_id.delete()

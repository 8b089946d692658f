"""Writes for programmes: one function per business action or transition, each in a transaction,
checked by the policy and recorded in the audit trail."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consortium.api import (
    Consortium,
    DomainError,
    Institution,
    Membership,
    MembershipRole,
    Role,
    StaffProfile,
    TransitionError,
    User,
    audit,
    feed,
    policy,
    role_grant,
    role_revoke_assignment,
    save_validated,
)

from .data import volume_problems
from .models import (
    Course,
    CurriculumStatus,
    CurriculumVersion,
    Edition,
    EditionStatus,
    LearningOutcome,
    Programme,
    ProgrammePartner,
    ProgrammeStatus,
    ProgrammeText,
    StackingLink,
    TeamMember,
    TeamRole,
    TeamTask,
)

PROGRAMME_FIELDS = (
    "code",
    "primary_language",
    "languages",
    "ects",
    "qualification_type",
    "eqf_level",
    "qf_ehea_cycle",
    "isced_f",
    "delivery_mode",
    "synchronicity",
    "pacing",
    "participation_form",
    "duration_weeks",
    "lifespan",
    "recurring_until",
    "award_kind",
    "lead_institution",
    "issuing_institution",
    "qa_scheme",
    "mobility_scheme",
    "stand_alone",
    "external_stacking",
    "professional_body",
    "professional_recognition",
    "contact_name",
    "contact_email",
    "agreement",
    "design_starts_on",
    "development_starts_on",
    "implementation_starts_on",
    "design_started_on",
    "development_started_on",
    "implementation_started_on",
)
TEXT_FIELDS = (
    "title",
    "qualification_name",
    "objectives",
    "target_group",
    "prerequisites",
    "assessment",
    "enrolment_procedure",
    "fees_and_discounts",
    "success_requirements",
    "industry_relevance",
    "credit_transfer",
    "terms_and_conditions",
    "resources",
)
COURSE_FIELDS = (
    "code",
    "title",
    "provider",
    "ects",
    "mandatory",
    "assessment_method",
    "supervision",
    "learning_outcomes",
    "isced_f",
    "position",
)
EDITION_FIELDS = (
    "intake_code",
    "time_zone",
    "application_opens_at",
    "application_closes_at",
    "starts_on",
    "ends_on",
    "capacity",
    "curriculum",
    "fee_table_reference",
)


_save = save_validated  # full_clean(), then save; a unique clash becomes a DomainError


def _stored(obj, fields: Iterable[str]) -> dict[str, Any]:
    """A snapshot of what the database now holds: 15 and 15.0 ECTS, or one instant given in two time zones,
    are no change."""
    return audit.snapshot(type(obj).objects.get(pk=obj.pk), fields)


def _record(actor, action: str, obj, changes: Mapping[str, Any] | None = None, *, programme: Programme) -> None:
    audit.record(
        actor, action, obj, changes, consortium_id=programme.consortium_id, institution_id=programme.lead_institution_id
    )


def _touch(model, pk) -> None:
    """A programme shows its texts, outcomes, partners and stacking, a curriculum version its courses: changing one of
    those changes the record partners sync (``updated_at``, the change feed)."""
    model.objects.filter(pk=pk).update(updated_at=timezone.now())


def _national_caps() -> dict[str, Decimal]:
    return {k.upper(): Decimal(str(v)) for k, v in getattr(settings, "NATIONAL_ECTS_CAPS", {}).items()}


# --- Programme ---------------------------------------------------------------------------------------


def programme_problems(programme: Programme) -> dict[str, list[str]]:
    """Field-level problems of a programme's structured data (volume, languages, partners)."""
    problems: dict[str, list[str]] = {}
    country = programme.issuing_institution.country.code if programme.issuing_institution_id else None
    try:
        ects = Programme._meta.get_field("ects").to_python(programme.ects)
    except ValidationError:
        ects = None  # not a number: the field's own validation (full_clean) says so
    volume = volume_problems(ects, programme.qualification_type, country, _national_caps()) if ects is not None else []
    if volume:
        problems["ects"] = volume
    languages = list(programme.languages or [])
    known = {code for code, _name in settings.LANGUAGES}
    if programme.primary_language and programme.primary_language not in languages:
        problems.setdefault("languages", []).append(_("The primary language must be one of the programme's languages."))
    unknown = sorted(set(languages) - known)
    if unknown:
        problems.setdefault("languages", []).append(_("Unknown languages: %(codes)s.") % {"codes": ", ".join(unknown)})
    if (
        programme.lifespan == "recurring"
        and programme.recurring_until
        and programme._state.adding
        and programme.recurring_until < timezone.localdate()
    ):
        problems.setdefault("recurring_until", []).append(_("The end of recurrence is in the past."))
    member_ids = set(
        Membership.objects.filter(consortium_id=programme.consortium_id, left_on__isnull=True).values_list(
            "institution_id", flat=True
        )
    )
    for field in ("lead_institution", "issuing_institution"):
        value = getattr(programme, f"{field}_id")
        if value and value not in member_ids:
            problems.setdefault(field, []).append(_("Must be an active member of the consortium."))
    if programme.agreement_id and programme.agreement.consortium_id != programme.consortium_id:
        problems.setdefault("agreement", []).append(_("The agreement belongs to another consortium."))
    return problems


def _validate_programme(programme: Programme) -> None:
    problems = programme_problems(programme)
    if problems:
        raise ValidationError(problems)
    programme.full_clean()


@transaction.atomic
def programme_create(
    *,
    actor,
    consortium: Consortium,
    data: Mapping[str, Any],
    title: str,
    qualification_name: str,
    partners: Iterable[Institution] = (),
    leader: User | None = None,
) -> Programme:
    """A draft programme with its primary texts, partners, team leader and an empty curriculum (v1)."""
    policy.require(actor, "programme.create", consortium)
    programme = Programme(consortium=consortium)
    for field in PROGRAMME_FIELDS:
        if field in data:
            setattr(programme, field, data[field])
    if not programme.languages:
        programme.languages = [programme.primary_language]
    _validate_programme(programme)
    programme.save()
    ProgrammeText.objects.create(
        programme=programme, language=programme.primary_language, title=title, qualification_name=qualification_name
    )
    for institution in {programme.lead_institution, programme.issuing_institution, *partners}:
        _partner_add(programme, institution)
    CurriculumVersion.objects.create(programme=programme, number=1)
    leader = leader or (actor if isinstance(actor, User) else None)
    if leader is not None:
        _team_add(actor, programme, leader, TeamRole.LEADER)
    _record(actor, "programme.created", programme, {"code": programme.code, "title": title}, programme=programme)
    return programme


@transaction.atomic
def programme_update(*, actor, programme: Programme, data: Mapping[str, Any]) -> Programme:
    policy.require(actor, "programme.change", programme)
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    before = audit.snapshot(programme, PROGRAMME_FIELDS)
    for field in PROGRAMME_FIELDS:
        if field in data:
            setattr(programme, field, data[field])
    if programme.primary_language not in (programme.languages or []):
        programme.languages = [programme.primary_language, *(programme.languages or [])]
    _validate_programme(programme)
    programme.save()
    for institution in (programme.lead_institution, programme.issuing_institution):
        if not programme.partners.filter(institution=institution).exists():
            _partner_add(programme, institution)
    # When the lead changes, its partner row says so and the former lead becomes an ordinary partner.
    for partner in programme.partners.select_related("institution"):
        role = _partner_role(programme, partner.institution)
        if partner.role != role:
            partner.role = role
            partner.save(update_fields=["role", "updated_at"])
    changes = audit.diff(before, _stored(programme, PROGRAMME_FIELDS))
    if changes:
        _record(actor, "programme.updated", programme, changes, programme=programme)
    return programme


@transaction.atomic
def programme_text_save(*, actor, programme: Programme, language: str, data: Mapping[str, Any]) -> ProgrammeText:
    policy.require(actor, "programme.change", programme)
    if language not in programme.languages:
        raise DomainError(_("%(lang)s is not in the programme's language policy; add it first.") % {"lang": language})
    text = ProgrammeText.objects.filter(programme=programme, language=language).first() or ProgrammeText(
        programme=programme, language=language
    )
    before = audit.snapshot(text, TEXT_FIELDS)
    for field in TEXT_FIELDS:
        if field in data:
            setattr(text, field, data[field])
    _save(text)
    _touch(Programme, programme.pk)
    changes = audit.diff(before, _stored(text, TEXT_FIELDS))
    if changes:
        _record(
            actor,
            "programme.texts_saved",
            programme,
            {"language": language, "fields": sorted(changes)},
            programme=programme,
        )
    return text


@transaction.atomic
def outcome_add(*, actor, programme: Programme, category: str, text: str, esco_uri: str = "") -> LearningOutcome:
    policy.require(actor, "programme.change", programme)
    position = programme.outcomes.count()
    outcome = LearningOutcome(programme=programme, category=category, text=text, esco_uri=esco_uri, position=position)
    _save(outcome)
    _touch(Programme, programme.pk)
    _record(actor, "programme.outcome_added", programme, {"category": category, "text": text}, programme=programme)
    return outcome


@transaction.atomic
def outcome_remove(*, actor, outcome: LearningOutcome) -> None:
    programme = outcome.programme
    policy.require(actor, "programme.change", programme)
    _record(actor, "programme.outcome_removed", programme, {"text": outcome.text}, programme=programme)
    outcome.delete()
    _touch(Programme, programme.pk)


def _partner_add(programme: Programme, institution: Institution) -> ProgrammePartner:
    membership = Membership.objects.filter(
        consortium_id=programme.consortium_id, institution=institution, left_on__isnull=True
    ).first()
    if membership is None:
        raise DomainError(_("%(name)s is not an active member of the consortium.") % {"name": institution.short_name})
    partner, _created = ProgrammePartner.objects.get_or_create(
        programme=programme, institution=institution, defaults={"role": _partner_role(programme, institution)}
    )
    _touch(Programme, programme.pk)
    return partner


def _partner_role(programme: Programme, institution: Institution) -> str:
    if institution.id == programme.lead_institution_id:
        return MembershipRole.LEAD
    return MembershipRole.PARTNER if institution.is_university else MembershipRole.ASSOCIATED


@transaction.atomic
def partner_add(*, actor, programme: Programme, institution: Institution) -> ProgrammePartner:
    policy.require(actor, "programme.change", programme)
    if programme.partners.filter(institution=institution).exists():
        raise DomainError(_("%(name)s already participates.") % {"name": institution.short_name})
    partner = _partner_add(programme, institution)
    _record(actor, "programme.partner_added", programme, {"institution": institution.short_name}, programme=programme)
    return partner


@transaction.atomic
def partner_remove(*, actor, partner: ProgrammePartner) -> None:
    programme = partner.programme
    policy.require(actor, "programme.change", programme)
    if partner.institution_id in (programme.lead_institution_id, programme.issuing_institution_id):
        raise DomainError(_("The lead and the issuing institution cannot be removed."))
    if Course.objects.filter(version__programme=programme, provider=partner.institution).exists():
        raise DomainError(
            _("%(name)s provides courses in a curriculum version; those stay as they are.")
            % {"name": partner.institution.short_name}
        )
    _record(
        actor,
        "programme.partner_removed",
        programme,
        {"institution": partner.institution.short_name},
        programme=programme,
    )
    partner.delete()
    _touch(Programme, programme.pk)


@transaction.atomic
def stacking_set(
    *, actor, programme: Programme, targets: Iterable[Programme], stand_alone: bool, external: str = ""
) -> Programme:
    policy.require(actor, "programme.change", programme)
    targets = [t for t in targets if t.pk != programme.pk]
    if stand_alone and (targets or external.strip()):
        raise DomainError(_("A stand-alone programme does not stack towards other programmes or degrees."))
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    programme.stand_alone = stand_alone
    programme.external_stacking = external
    programme.save(update_fields=["stand_alone", "external_stacking", "updated_at"])
    programme.stacks_into.exclude(target__in=targets).delete()
    for target in targets:
        StackingLink.objects.get_or_create(programme=programme, target=target)
    _record(
        actor,
        "programme.stacking_set",
        programme,
        {"stand_alone": stand_alone, "targets": [t.code for t in targets], "external": external},
        programme=programme,
    )
    return programme


# --- Publication -------------------------------------------------------------------------------------


def checklist(programme: Programme, language: str | None = None) -> list[tuple[str, bool]]:
    """The communication checklist (D3) for the public page: each item and whether it has content."""
    text = programme.text(language)
    has_text = lambda field: bool(text and getattr(text, field).strip())  # noqa: E731
    approved = programme.curricula.filter(status=CurriculumStatus.APPROVED).exists()
    return [
        (_("Target group and objectives"), has_text("target_group") and has_text("objectives")),
        (_("Learning outcomes"), programme.outcomes.exists()),
        (_("Prerequisites"), has_text("prerequisites")),
        (_("Mode of delivery"), bool(programme.delivery_mode)),
        (_("Duration and pacing"), bool(programme.duration_weeks and programme.pacing)),
        (_("Language"), bool(programme.languages)),
        (_("Assessment"), has_text("assessment")),
        (_("Enrolment procedure and deadlines"), has_text("enrolment_procedure")),
        (_("Fees and discounts"), has_text("fees_and_discounts")),
        (_("Partners"), programme.partners.exists()),
        (_("Contact"), bool(programme.contact_email)),
        (_("Success requirements and workload"), has_text("success_requirements")),
        (_("Industry relevance"), has_text("industry_relevance")),
        (
            _("Complementary micro-credentials / stackability"),
            programme.stand_alone or programme.stacks_into.exists() or bool(programme.external_stacking.strip()),
        ),
        (_("Credit transfer"), has_text("credit_transfer")),
        (_("Terms and conditions"), has_text("terms_and_conditions")),
        (_("Resources available"), has_text("resources")),
        (_("Quality assurance"), bool(programme.qa_scheme.strip())),
        (_("An approved curriculum"), approved),
    ]


def publication_problems(programme: Programme) -> list[str]:
    missing = [str(label) for label, present in checklist(programme) if not present]
    problems = []
    if missing:
        problems.append(_("Missing for the public page: %(items)s.") % {"items": ", ".join(missing)})
    field_problems = programme_problems(programme)
    problems += [p for messages in field_problems.values() for p in messages]
    return problems


@transaction.atomic
def programme_publish(*, actor, programme: Programme) -> Programme:
    policy.require(actor, "programme.publish", programme)
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    if programme.status == ProgrammeStatus.PUBLISHED:
        raise TransitionError(_("The programme is already published."))
    problems = publication_problems(programme)
    if problems:
        raise DomainError(_("The programme cannot be published yet."), details=problems)
    before = programme.status
    programme.status = ProgrammeStatus.PUBLISHED
    programme.save(update_fields=["status", "updated_at"])
    _record(actor, "programme.published", programme, {"status": [before, programme.status]}, programme=programme)
    return programme


@transaction.atomic
def programme_archive(*, actor, programme: Programme) -> Programme:
    policy.require(actor, "programme.publish", programme)
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    if programme.status == ProgrammeStatus.ARCHIVED:
        raise TransitionError(_("The programme is already archived."))
    if programme.editions.filter(status__in=[EditionStatus.OPEN, EditionStatus.RUNNING]).exists():
        raise TransitionError(_("Close its open and running editions first."))
    before = programme.status
    programme.status = ProgrammeStatus.ARCHIVED
    programme.save(update_fields=["status", "updated_at"])
    _record(actor, "programme.archived", programme, {"status": [before, programme.status]}, programme=programme)
    return programme


@transaction.atomic
def programme_clone(*, actor, programme: Programme, code: str) -> Programme:
    """A draft copy (texts, outcomes, partners, stacking, the latest approved curriculum as a draft)."""
    policy.require(actor, "programme.change", programme)
    policy.require(actor, "programme.create", programme.consortium)
    source = Programme.objects.get(pk=programme.pk)
    clone = Programme.objects.get(pk=programme.pk)
    clone.pk = None
    clone.id = None
    clone.code = code
    clone.status = ProgrammeStatus.DRAFT
    # A copy has not started any phase yet; the planned dates stay as a starting point.
    clone.design_started_on = clone.development_started_on = clone.implementation_started_on = None
    clone._state.adding = True
    try:
        clone.full_clean()
    except ValidationError as exc:
        raise ValidationError({"code": exc.message_dict.get("code", exc.messages)}) from exc
    clone.save()
    for text in source.texts.all():
        text.pk = text.id = None
        text.programme = clone
        text._state.adding = True
        text.save()
    LearningOutcome.objects.bulk_create(
        [
            LearningOutcome(programme=clone, category=o.category, text=o.text, esco_uri=o.esco_uri, position=o.position)
            for o in source.outcomes.all()
        ]
    )
    ProgrammePartner.objects.bulk_create(
        [ProgrammePartner(programme=clone, institution_id=p.institution_id, role=p.role) for p in source.partners.all()]
    )
    StackingLink.objects.bulk_create(
        [StackingLink(programme=clone, target_id=s.target_id) for s in source.stacks_into.all()]
    )
    approved = source.curricula.filter(status=CurriculumStatus.APPROVED).order_by("-number").first()
    version = CurriculumVersion.objects.create(
        programme=clone, number=1, required_elective_ects=approved.required_elective_ects if approved else Decimal("0")
    )
    if approved:
        _copy_courses(approved, version)
    if isinstance(actor, User):
        _team_add(actor, clone, actor, TeamRole.LEADER)
    _record(actor, "programme.cloned", clone, {"from": source.code}, programme=clone)
    return clone


# --- Course team ---------------------------------------------------------------------------------------

TEAM_ROLE_GRANTS = {TeamRole.LEADER: Role.TEAM_LEADER, TeamRole.MEMBER: Role.TEAM_MEMBER}


def _team_add(actor, programme: Programme, user: User, role: str) -> TeamMember:
    profile = StaffProfile.objects.filter(user=user).select_related("institution").first()
    institution = profile.institution if profile else None
    partner_ids = set(programme.partners.values_list("institution_id", flat=True))
    if role == TeamRole.LEADER:
        if institution is None or institution.id != programme.lead_institution_id:
            raise DomainError(_("The team leader must be a staff member of the lead institution."))
        if programme.team.filter(role=TeamRole.LEADER).exists():
            raise DomainError(_("The programme already has a team leader; remove them first."))
    elif role == TeamRole.MEMBER:
        if institution is None or institution.id not in partner_ids:
            raise DomainError(
                _("Team members represent a participating institution; %(email)s is not staff of one.")
                % {"email": user.email}
            )
    elif role == TeamRole.STAKEHOLDER and institution is not None and institution.id not in partner_ids:
        raise DomainError(_("External stakeholders come from an associated partner of the programme."))
    if programme.team.filter(user=user).exists():
        raise DomainError(_("%(email)s is already in the team.") % {"email": user.email})
    member = TeamMember(programme=programme, user=user, role=role, institution=institution)
    _save(member)
    if role in TEAM_ROLE_GRANTS:
        role_grant(
            actor=actor,
            user=user,
            role=TEAM_ROLE_GRANTS[role],
            institution=institution,
            target_id=programme.id,
            check_policy=False,
        )
    _record(actor, "programme.team_member_added", programme, {"user": user.email, "role": role}, programme=programme)
    return member


@transaction.atomic
def team_member_add(*, actor, programme: Programme, email: str, role: str) -> TeamMember:
    policy.require(actor, "programme.manage_team", programme)
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        raise DomainError(_("No account uses %(email)s; the person must have an account first.") % {"email": email})
    return _team_add(actor, programme, user, role)


@transaction.atomic
def team_member_remove(*, actor, member: TeamMember) -> None:
    programme = member.programme
    policy.require(actor, "programme.manage_team", programme)
    if member.role == TeamRole.LEADER and not policy.can(actor, "programme.appoint_board", programme):
        raise DomainError(_("Only a consortium administrator can remove the team leader."))
    if member.role in TEAM_ROLE_GRANTS:
        role_revoke_assignment(
            actor=actor, user=member.user, role=TEAM_ROLE_GRANTS[member.role], target_id=programme.id
        )
    _record(
        actor,
        "programme.team_member_removed",
        programme,
        {"user": member.user.email, "role": member.role},
        programme=programme,
    )
    member.delete()


@transaction.atomic
def board_member_appoint(*, actor, programme: Programme, email: str, role: str) -> None:
    """Programme board and examination board members are appointed by the consortium administrators."""
    policy.require(actor, "programme.appoint_board", programme)
    if role not in (Role.PROGRAMME_BOARD, Role.EXAM_BOARD):
        raise DomainError(_("Choose the programme board or the examination board."))
    user = User.objects.filter(email__iexact=email.strip()).first()
    profile = StaffProfile.objects.filter(user=user).first() if user else None
    if profile is None:
        raise DomainError(_("Board members are staff of a partner institution; %(email)s is not.") % {"email": email})
    if not programme.partners.filter(institution=profile.institution).exists():
        raise DomainError(_("Board members are staff of a participating institution."))
    role_grant(
        actor=actor, user=user, role=role, institution=profile.institution, target_id=programme.id, check_policy=False
    )
    _record(actor, "programme.board_appointed", programme, {"user": user.email, "role": role}, programme=programme)


@transaction.atomic
def task_add(
    *, actor, programme: Programme, title: str, phase: str, owner: User | None = None, due_on: dt.date | None = None
) -> TeamTask:
    policy.require(actor, "programme.change", programme)
    if owner is not None and not programme.team.filter(user=owner).exists():
        raise DomainError(_("The owner must be a member of the course team."))
    task = TeamTask(programme=programme, title=title, phase=phase, owner=owner, due_on=due_on)
    _save(task)
    _record(actor, "programme.task_added", programme, {"title": title, "phase": phase}, programme=programme)
    return task


@transaction.atomic
def task_complete(*, actor, task: TeamTask, done_on: dt.date | None = None) -> TeamTask:
    policy.require(actor, "programme.change", task.programme)
    task = TeamTask.objects.select_for_update().get(pk=task.pk)
    if task.done_on is not None:
        raise TransitionError(_("This task was already done on %(date)s.") % {"date": task.done_on})
    task.done_on = done_on or timezone.localdate()
    task.save(update_fields=["done_on", "updated_at"])
    _record(actor, "programme.task_done", task.programme, {"title": task.title}, programme=task.programme)
    return task


def timeline(programme: Programme) -> list[dict[str, Any]]:
    """Planned vs actual phases, with the minimum durations of D2 (design ≥ 3 months, development ≥ 6)."""
    rows = []
    phases = [
        (
            "design",
            _("Design"),
            programme.design_starts_on,
            programme.development_starts_on,
            programme.design_started_on,
            3,
        ),
        (
            "development",
            _("Development"),
            programme.development_starts_on,
            programme.implementation_starts_on,
            programme.development_started_on,
            6,
        ),
        (
            "implementation",
            _("Implementation"),
            programme.implementation_starts_on,
            None,
            programme.implementation_started_on,
            None,
        ),
    ]
    for key, label, start, end, actual, minimum in phases:
        months = None
        if start and end:
            months = (end.year - start.year) * 12 + (end.month - start.month) - (1 if end.day < start.day else 0)
        warning = ""
        if minimum and months is not None and months < minimum:
            warning = _("Planned %(months)s months; at least %(minimum)s are recommended.") % {
                "months": months,
                "minimum": minimum,
            }
        rows.append(
            {
                "key": key,
                "label": label,
                "planned_start": start,
                "planned_end": end,
                "actual_start": actual,
                "months": months,
                "warning": warning,
            }
        )
    return rows


# --- Curriculum --------------------------------------------------------------------------------------

CURRICULUM_TRANSITIONS: dict[str, set[str]] = {
    CurriculumStatus.DRAFT: {CurriculumStatus.SUBMITTED},
    CurriculumStatus.RETURNED: {CurriculumStatus.SUBMITTED},
    CurriculumStatus.SUBMITTED: {CurriculumStatus.APPROVED, CurriculumStatus.RETURNED},
    CurriculumStatus.APPROVED: set(),
}


def _locked_curriculum(version: CurriculumVersion) -> CurriculumVersion:
    return CurriculumVersion.objects.select_for_update().select_related("programme").get(pk=version.pk)


def _move_curriculum(actor, version: CurriculumVersion, target: str, changes: Mapping[str, Any] | None = None) -> None:
    source = version.status
    if target not in CURRICULUM_TRANSITIONS[source]:
        raise TransitionError(
            _("Curriculum v%(n)s is %(source)s; it cannot become %(target)s.")
            % {"n": version.number, "source": CurriculumStatus(source).label, "target": CurriculumStatus(target).label}
        )
    version.status = target
    version.save()
    _record(
        actor,
        f"curriculum.{target}",
        version,
        {"status": [source, target], **(changes or {})},
        programme=version.programme,
    )


def _require_editable(version: CurriculumVersion) -> None:
    if not version.is_editable:
        raise TransitionError(
            _("Curriculum v%(n)s is %(status)s and frozen; start a new version to change it.")
            % {"n": version.number, "status": version.get_status_display()}
        )


def curriculum_totals(version: CurriculumVersion, courses: Iterable[Course] | None = None) -> dict[str, Decimal]:
    courses = list(courses if courses is not None else version.courses.all())
    mandatory = sum((c.ects for c in courses if c.mandatory), Decimal("0"))
    elective = sum((c.ects for c in courses if not c.mandatory), Decimal("0"))
    return {
        "mandatory": mandatory,
        "elective_offered": elective,
        "elective_required": version.required_elective_ects,
        "total": mandatory + version.required_elective_ects,
        "target": version.programme.ects,
    }


def curriculum_problems(version: CurriculumVersion) -> list[str]:
    """Why the curriculum cannot be submitted (shown in the editor before submission)."""
    courses = list(version.courses.select_related("provider"))
    problems = []
    if not courses:
        problems.append(_("Add at least one course."))
        return problems
    totals = curriculum_totals(version, courses)
    if totals["total"] != totals["target"]:
        problems.append(
            _(
                "Mandatory ECTS (%(m)s) plus required elective ECTS (%(e)s) make %(t)s; the programme "
                "has %(target)s ECTS."
            )
            % {
                "m": totals["mandatory"],
                "e": totals["elective_required"],
                "t": totals["total"],
                "target": totals["target"],
            }
        )
    if totals["elective_offered"] < totals["elective_required"]:
        problems.append(
            _("Electives offer %(o)s ECTS but %(r)s are required.")
            % {"o": totals["elective_offered"], "r": totals["elective_required"]}
        )
    partner_ids = set(version.programme.partners.values_list("institution_id", flat=True))
    outsiders = sorted({c.provider.short_name for c in courses if c.provider_id not in partner_ids})
    if outsiders:
        problems.append(
            _("Courses provided by non-participating institutions: %(names)s.") % {"names": ", ".join(outsiders)}
        )
    return problems


@transaction.atomic
def course_save(*, actor, version: CurriculumVersion, data: Mapping[str, Any], course: Course | None = None) -> Course:
    policy.require(actor, "programme.change", version.programme)
    version = _locked_curriculum(version)
    _require_editable(version)
    if course is not None and course.version_id != version.pk:
        raise DomainError(_("The course belongs to another curriculum version."))
    # An existing course is read again: the caller's copy may be stale or already modified.
    course = (
        Course.objects.get(pk=course.pk)
        if course is not None
        else Course(version=version, position=version.courses.count())
    )
    before = {} if course._state.adding else audit.snapshot(course, COURSE_FIELDS)
    for field in COURSE_FIELDS:
        if field in data:
            setattr(course, field, data[field])
    course.isced_f = course.isced_f or version.programme.isced_f  # a course is in its programme's field by default
    if not version.programme.partners.filter(institution=course.provider_id).exists():
        raise ValidationError({"provider": [_("The provider must be a participating institution.")]})
    _save(course)
    _touch(CurriculumVersion, version.pk)
    changes = audit.diff(before, _stored(course, COURSE_FIELDS))
    _record(actor, "curriculum.course_saved", version, {"course": course.code, **changes}, programme=version.programme)
    return course


@transaction.atomic
def course_remove(*, actor, course: Course) -> None:
    version = _locked_curriculum(course.version)
    policy.require(actor, "programme.change", version.programme)
    _require_editable(version)
    _record(actor, "curriculum.course_removed", version, {"course": course.code}, programme=version.programme)
    _touch(CurriculumVersion, version.pk)
    course_id = course.pk
    course.delete()
    # A tombstone for the partners' feed, as the last write (the course leaves the courses list); its audience is
    # who lists the programme's courses: the programme's partner institutions (programme.view).
    programme = version.programme
    feed.record("course.deleted", None, resource_id=str(course_id), consortium_id=programme.consortium_id,
                institution_ids=programme.partners.values_list("institution_id", flat=True),
                data={"curriculum_version": version.pk, "code": course.code})


@transaction.atomic
def curriculum_elective_set(*, actor, version: CurriculumVersion, required_elective_ects: Decimal) -> CurriculumVersion:
    policy.require(actor, "programme.change", version.programme)
    version = _locked_curriculum(version)
    _require_editable(version)
    if required_elective_ects < 0:
        raise ValidationError({"required_elective_ects": [_("Cannot be negative.")]})
    before = version.required_elective_ects
    version.required_elective_ects = required_elective_ects
    _save(version)
    _record(
        actor,
        "curriculum.elective_set",
        version,
        {"required_elective_ects": [before, required_elective_ects]},
        programme=version.programme,
    )
    return version


@transaction.atomic
def curriculum_submit(*, actor, version: CurriculumVersion) -> CurriculumVersion:
    policy.require(actor, "curriculum.submit", version.programme)
    version = _locked_curriculum(version)
    if version.is_editable:
        problems = curriculum_problems(version)
        if problems:
            raise DomainError(_("The curriculum cannot be submitted yet."), details=problems)
    version.submitted_at = timezone.now()
    _move_curriculum(actor, version, CurriculumStatus.SUBMITTED)
    return version


@transaction.atomic
def curriculum_approve(*, actor, version: CurriculumVersion, comment: str = "") -> CurriculumVersion:
    """The programme board approves: the version is frozen and editions can run it."""
    policy.require(actor, "curriculum.decide", version.programme)
    version = _locked_curriculum(version)
    version.decided_at = timezone.now()
    version.decided_by = actor if isinstance(actor, User) else None
    version.decision_comment = comment
    _move_curriculum(actor, version, CurriculumStatus.APPROVED, {"comment": comment})
    return version


@transaction.atomic
def curriculum_return(*, actor, version: CurriculumVersion, comment: str) -> CurriculumVersion:
    policy.require(actor, "curriculum.decide", version.programme)
    if not comment.strip():
        raise DomainError(_("Say what must change: comments are required when returning a curriculum."))
    version = _locked_curriculum(version)
    version.decided_at = timezone.now()
    version.decided_by = actor if isinstance(actor, User) else None
    version.decision_comment = comment
    _move_curriculum(actor, version, CurriculumStatus.RETURNED, {"comment": comment})
    return version


def _copy_courses(source: CurriculumVersion, target: CurriculumVersion) -> None:
    Course.objects.bulk_create(
        [
            Course(
                version=target,
                **{f: getattr(c, f) for f in COURSE_FIELDS if f != "provider"},
                provider_id=c.provider_id,
            )
            for c in source.courses.all()
        ]
    )


@transaction.atomic
def curriculum_version_start(*, actor, programme: Programme) -> CurriculumVersion:
    """A new draft version, copied from the last approved one."""
    policy.require(actor, "programme.change", programme)
    Programme.objects.select_for_update().get(pk=programme.pk)
    open_version = programme.curricula.exclude(status=CurriculumStatus.APPROVED).first()
    if open_version is not None:
        raise TransitionError(
            _("Curriculum v%(n)s is still %(status)s; finish it first.")
            % {"n": open_version.number, "status": open_version.get_status_display()}
        )
    latest = programme.curricula.order_by("-number").first()
    approved = programme.curricula.filter(status=CurriculumStatus.APPROVED).order_by("-number").first()
    version = CurriculumVersion.objects.create(
        programme=programme,
        number=(latest.number + 1) if latest else 1,
        based_on=approved,
        required_elective_ects=approved.required_elective_ects if approved else Decimal("0"),
    )
    if approved:
        _copy_courses(approved, version)
    _record(
        actor,
        "curriculum.version_started",
        version,
        {"based_on": approved.number if approved else None},
        programme=programme,
    )
    return version


def curriculum_diff(old: CurriculumVersion, new: CurriculumVersion) -> dict[str, Any]:
    """Courses added, removed and changed (field by field) between two versions, matched by code."""
    fields = [f for f in COURSE_FIELDS if f != "position"]
    before = {c.code: c for c in old.courses.select_related("provider")}
    after = {c.code: c for c in new.courses.select_related("provider")}
    changed = []
    for code in sorted(before.keys() & after.keys()):
        a, b = before[code], after[code]
        diffs = {f: (str(getattr(a, f)), str(getattr(b, f))) for f in fields if getattr(a, f) != getattr(b, f)}
        if diffs:
            changed.append({"code": code, "title": b.title, "fields": diffs})
    return {
        "added": [after[c] for c in sorted(after.keys() - before.keys())],
        "removed": [before[c] for c in sorted(before.keys() - after.keys())],
        "changed": changed,
        "elective": (old.required_elective_ects, new.required_elective_ects)
        if old.required_elective_ects != new.required_elective_ects
        else None,
    }


def overlaps(programme: Programme) -> list[dict[str, Any]]:
    """Programmes sharing a course (same provider and code) or a learning outcome (same ESCO URI or text)."""
    mine_courses = set(Course.objects.filter(version__programme=programme).values_list("provider_id", "code"))
    mine_uris = set(programme.outcomes.exclude(esco_uri="").values_list("esco_uri", flat=True))
    mine_texts = {t.strip().lower() for t in programme.outcomes.values_list("text", flat=True)}
    found = []
    others = Programme.objects.filter(consortium_id=programme.consortium_id).exclude(pk=programme.pk)
    for other in others.prefetch_related("outcomes", "texts"):
        courses = set(Course.objects.filter(version__programme=other).values_list("provider_id", "code"))
        shared_courses = sorted(code for _p, code in mine_courses & courses)
        shared_outcomes = sorted(
            {
                o.text
                for o in other.outcomes.all()
                if (o.esco_uri and o.esco_uri in mine_uris) or o.text.strip().lower() in mine_texts
            }
        )
        if shared_courses or shared_outcomes:
            found.append({"programme": other, "courses": shared_courses, "outcomes": shared_outcomes})
    return found


# --- Editions ----------------------------------------------------------------------------------------

EDITION_TRANSITIONS: dict[str, set[str]] = {
    EditionStatus.PLANNED: {EditionStatus.OPEN, EditionStatus.CLOSED},
    EditionStatus.OPEN: {EditionStatus.RUNNING, EditionStatus.CLOSED},
    EditionStatus.RUNNING: {EditionStatus.CLOSED},
    EditionStatus.CLOSED: set(),
}


def _check_edition(edition: Edition) -> None:
    """The edition's own rules, with messages on the fields (before ``full_clean``, whose constraint
    messages only name the constraint)."""
    problems: dict[str, list[str]] = {}
    if edition.curriculum_id and (
        edition.curriculum.programme_id != edition.programme_id
        or edition.curriculum.status != CurriculumStatus.APPROVED
    ):
        problems["curriculum"] = [_("An edition runs an approved curriculum version of its programme.")]
    zone = None
    try:
        zone = zoneinfo.ZoneInfo(edition.time_zone) if edition.time_zone else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems["time_zone"] = [_("Unknown time zone %(tz)s.") % {"tz": edition.time_zone}]
    opens, closes = edition.application_opens_at, edition.application_closes_at
    if opens and closes and closes <= opens:
        problems["application_closes_at"] = [_("Applications must close after they open.")]
    elif (
        closes
        and edition.starts_on
        and (timezone.localtime(closes, zone) if timezone.is_aware(closes) else closes).date() > edition.starts_on
    ):
        problems["application_closes_at"] = [_("Applications must close before the edition starts.")]
    if edition.starts_on and edition.ends_on and edition.ends_on < edition.starts_on:
        problems["ends_on"] = [_("The edition cannot end before it starts.")]
    if edition.capacity == 0:
        problems["capacity"] = [_("Leave empty for no limit; a capacity of 0 admits nobody.")]
    if problems:
        raise ValidationError(problems)


@transaction.atomic
def edition_save(*, actor, programme: Programme, data: Mapping[str, Any], edition: Edition | None = None) -> Edition:
    policy.require(actor, "edition.manage", programme)
    edition = edition or Edition(programme=programme)
    is_new = edition._state.adding  # (a new row already has its UUID: ``pk`` does not tell)
    if not is_new:
        edition = Edition.objects.select_for_update().get(pk=edition.pk)
        if edition.programme_id != programme.pk:
            raise DomainError(_("The edition belongs to another programme."))
        if edition.status == EditionStatus.CLOSED:
            raise TransitionError(_("A closed edition cannot be changed."))
    before = {} if is_new else audit.snapshot(edition, EDITION_FIELDS)
    for field in EDITION_FIELDS:
        if field in data:
            setattr(edition, field, data[field])
    if (
        not is_new
        and edition.status != EditionStatus.PLANNED
        and "curriculum" in audit.diff(before, audit.snapshot(edition, EDITION_FIELDS))
    ):
        raise TransitionError(_("The curriculum of an edition that has opened cannot change."))
    _check_edition(edition)
    _save(edition)
    changes = audit.diff(before, _stored(edition, EDITION_FIELDS))
    _record(actor, "edition.saved", edition, changes, programme=programme)
    return edition


@transaction.atomic
def edition_transition(*, actor, edition: Edition, target: str) -> Edition:
    policy.require(actor, "edition.manage", edition.programme)
    edition = Edition.objects.select_for_update().select_related("programme").get(pk=edition.pk)
    source = edition.status
    if target not in EDITION_TRANSITIONS[source]:
        raise TransitionError(
            _("The edition is %(source)s; it cannot become %(target)s.")
            % {"source": EditionStatus(source).label, "target": EditionStatus(target).label}
        )
    if target == EditionStatus.OPEN and edition.programme.status != ProgrammeStatus.PUBLISHED:
        raise TransitionError(_("Publish the programme before opening an edition for applications."))
    edition.status = target
    edition.save(update_fields=["status", "updated_at"])
    _record(actor, f"edition.{target}", edition, {"status": [source, target]}, programme=edition.programme)
    return edition


@transaction.atomic
def edition_clone(*, actor, edition: Edition, intake_code: str, shift_days: int = 365) -> Edition:
    """The same edition a year later (dates shifted), planned, on the newest approved curriculum."""
    policy.require(actor, "edition.manage", edition.programme)
    delta = dt.timedelta(days=shift_days)
    approved = edition.programme.curricula.filter(status=CurriculumStatus.APPROVED).order_by("-number").first()
    data = {f: getattr(edition, f) for f in EDITION_FIELDS}
    data.update(
        intake_code=intake_code,
        application_opens_at=edition.application_opens_at + delta,
        application_closes_at=edition.application_closes_at + delta,
        starts_on=edition.starts_on + delta,
        ends_on=edition.ends_on + delta,
        curriculum=approved or edition.curriculum,
    )
    return edition_save(actor=actor, programme=edition.programme, data=data)


def accepts_applications(edition: Edition, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return (
        edition.status == EditionStatus.OPEN
        and edition.programme.status == ProgrammeStatus.PUBLISHED
        and edition.application_opens_at <= now < edition.application_closes_at
    )

"""Who sets the examination rules, enters grades and decides on results (see docs/privacy.md).

Draft grades are private to the examiners of the course (staff of the providing institution); the
examination board sees submitted results and decides; learners see approved results only. Approved results of
a joint programme are shared with the team and boards and with the systems of the universities that run the
programme (lead and partners; associated partners such as employers do not read learners' grades).
"""

from django.db.models import Q

from consortium.api import MembershipRole, Role, policy
from programmes.api import Programme, ProgrammePartner

from .models import Grade, ResultSheet, SheetStatus

Actor = policy.Actor
#: Partner roles whose institutions run the programme (and so read its approved results).
RUNS_THE_PROGRAMME = (MembershipRole.LEAD, MembershipRole.PARTNER)


def _programme(obj) -> Programme | None:
    if obj is None or isinstance(obj, Programme):
        return obj
    if isinstance(obj, ResultSheet):
        return obj.edition.programme
    edition = getattr(obj, "edition", None)
    return edition.programme if edition is not None else getattr(obj, "programme", None)


def _leads(actor: Actor, programme: Programme) -> bool:
    return actor.has_role(Role.TEAM_LEADER, target=programme.id) or actor.has_role(
        Role.CONSORTIUM_ADMIN, consortium=programme.consortium_id
    )


@policy.rule("regulation.edit")
def _regulation_edit(actor: Actor, obj) -> bool:
    programme = _programme(obj)
    if programme is None:
        return bool(actor.targets_with_role(Role.TEAM_LEADER) or actor.consortia_with_role(Role.CONSORTIUM_ADMIN))
    return _leads(actor, programme)


@policy.rule("regulation.approve")
def _regulation_approve(actor: Actor, obj) -> bool:
    programme = _programme(obj)
    return programme is not None and actor.has_role(Role.EXAM_BOARD, target=programme.id)


@policy.rule("assessment.configure")
def _configure(actor: Actor, obj) -> bool:
    return _regulation_edit(actor, obj)


@policy.rule("grades.enter", api_scope="results:write")
def _enter(actor: Actor, sheet) -> bool:
    """Examiners of the course; a partner system of the providing institution with results:write."""
    if sheet is None:
        return bool(actor.targets_with_role(Role.EXAMINER)) or actor.is_partner_system
    if actor.is_partner_system:
        return sheet.course.provider_id in actor.institution_ids
    return actor.has_role(Role.EXAMINER, target=sheet.course_id)


@policy.rule("grades.view", api_scope="results:read")
def _view(actor: Actor, sheet) -> bool:
    if sheet is None:
        return _enter(actor, None) or bool(actor.targets_with_role(Role.EXAM_BOARD, Role.TEAM_LEADER))
    if _enter(actor, sheet):
        return True
    programme = sheet.edition.programme
    if sheet.status == SheetStatus.DRAFT:
        return False  # draft grades are private to the providing institution's examiners
    if actor.is_partner_system:
        # A partner institution's system reads the approved (locked) results of the programmes it takes part in.
        return sheet.status == SheetStatus.APPROVED and any(
            p.institution_id in actor.institution_ids and p.role in RUNS_THE_PROGRAMME for p in programme.partners.all()
        )
    return actor.has_role(Role.EXAM_BOARD, target=programme.id) or (
        sheet.status == SheetStatus.APPROVED and _leads(actor, programme)
    )


@policy.scope("grades.view")
def _view_scope(actor: Actor, qs):
    """The rows of ``grades.view`` as one query: result sheets, or grades (through their sheet)."""
    p = "sheet__" if qs.model is Grade else ""
    approved = Q(**{f"{p}status": SheetStatus.APPROVED})
    if actor.is_partner_system:
        institutions = actor.institution_ids
        partner_of = ProgrammePartner.objects.filter(
            institution_id__in=institutions, role__in=RUNS_THE_PROGRAMME
        ).values("programme_id")
        return qs.filter(
            Q(**{f"{p}course__provider_id__in": institutions})
            | (approved & Q(**{f"{p}edition__programme_id__in": partner_of}))
        )
    examines = Q(**{f"{p}course_id__in": actor.targets_with_role(Role.EXAMINER)})
    board = Q(**{f"{p}edition__programme_id__in": actor.targets_with_role(Role.EXAM_BOARD)}) & ~Q(
        **{f"{p}status": SheetStatus.DRAFT}
    )
    leads = Q(**{f"{p}edition__programme_id__in": actor.targets_with_role(Role.TEAM_LEADER)}) | Q(
        **{f"{p}edition__programme__consortium_id__in": actor.consortia_with_role(Role.CONSORTIUM_ADMIN)}
    )
    return qs.filter(examines | board | (approved & leads))


@policy.rule("results.decide")
def _decide(actor: Actor, sheet) -> bool:
    if sheet is None:
        return bool(actor.targets_with_role(Role.EXAM_BOARD))
    return actor.has_role(Role.EXAM_BOARD, target=sheet.edition.programme_id)


@policy.rule("results.own")
def _own(actor: Actor, enrolment) -> bool:
    return enrolment is not None and actor.user is not None and enrolment.learner_id == getattr(actor.user, "pk", None)

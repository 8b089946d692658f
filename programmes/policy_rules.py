"""Policy rules for programmes: who may draft, edit, approve and publish (see docs/privacy.md)."""

from django.db.models import Q

from consortium.api import ExternalIdKind, Membership, MembershipRole, Role, identifiers, policy

from .models import Course, Programme

Actor = policy.Actor

CA = Role.CONSORTIUM_ADMIN
TEAM = (Role.TEAM_LEADER, Role.TEAM_MEMBER)


def _programme(obj) -> Programme | None:
    if obj is None or isinstance(obj, Programme):
        return obj
    return getattr(obj, "programme", None) or getattr(getattr(obj, "version", None), "programme", None)


def _is_consortium_admin(actor: Actor, programme: Programme) -> bool:
    return actor.has_role(CA, consortium=programme.consortium_id)


@policy.rule("programme.create")
def _create(actor: Actor, consortium) -> bool:
    """Staff of a lead or partner university of the consortium draft programmes; so do its administrators."""
    if actor.is_partner_system:
        return False
    memberships = Membership.objects.filter(
        institution_id__in=actor.institution_ids,
        left_on__isnull=True,
        role__in=[MembershipRole.LEAD, MembershipRole.PARTNER],
    )
    if consortium is None:
        return memberships.exists() or bool(actor.consortia_with_role(CA))
    return memberships.filter(consortium_id=consortium.id).exists() or actor.has_role(CA, consortium=consortium.id)


@policy.rule("programme.view", api_scope="programmes:read")
def _view(actor: Actor, obj) -> bool:
    programme = _programme(obj)
    if programme is None:
        return actor.is_staff_member or actor.is_partner_system or bool(actor.assignments)
    if programme.id in actor.targets_with_role(*TEAM, Role.PROGRAMME_BOARD, Role.EXAM_BOARD):
        return True
    if _is_consortium_admin(actor, programme):
        return True
    return programme.partners.filter(institution_id__in=actor.institution_ids).exists()


@policy.scope("programme.view")
def _view_scope(actor: Actor, qs):
    targets = actor.targets_with_role(*TEAM, Role.PROGRAMME_BOARD, Role.EXAM_BOARD)
    condition = (
        Q(partners__institution_id__in=actor.institution_ids)
        | Q(id__in=targets)
        | Q(consortium_id__in=actor.consortia_with_role(CA))
    )
    field = {
        "Programme": "",
        "Edition": "programme__",
        "Course": "version__programme__",
        "CurriculumVersion": "programme__",
    }.get(qs.model.__name__, "programme__")
    if field:
        condition = Q(**{f"{field}in": Programme.objects.filter(condition).values("id")})
    return qs.filter(condition).distinct()


@policy.rule("programme.change")
def _change(actor: Actor, obj) -> bool:
    programme = _programme(obj)
    if programme is None:
        return bool(actor.targets_with_role(*TEAM) or actor.consortia_with_role(CA))
    return actor.has_role(*TEAM, target=programme.id) or _is_consortium_admin(actor, programme)


@policy.rule("programme.manage_team")
def _manage_team(actor: Actor, obj) -> bool:
    programme = _programme(obj)
    if programme is None:
        return False
    return actor.has_role(Role.TEAM_LEADER, target=programme.id) or _is_consortium_admin(actor, programme)


@policy.rule("programme.publish")
def _publish(actor: Actor, obj) -> bool:
    return _manage_team(actor, obj)


@policy.rule("programme.appoint_board")
def _appoint_board(actor: Actor, obj) -> bool:
    programme = _programme(obj)
    return programme is not None and _is_consortium_admin(actor, programme)


@policy.rule("curriculum.submit")
def _submit(actor: Actor, obj) -> bool:
    return _manage_team(actor, obj)


@policy.rule("curriculum.decide")
def _decide(actor: Actor, obj) -> bool:
    """Only the programme board decides; team leaders do not approve their own curriculum."""
    programme = _programme(obj)
    if programme is None:
        return bool(actor.targets_with_role(Role.PROGRAMME_BOARD))
    # A team leader also appointed to the board still does not decide on their own curriculum.
    return actor.has_role(Role.PROGRAMME_BOARD, target=programme.id) and not actor.has_role(
        Role.TEAM_LEADER, target=programme.id
    )


@policy.rule("edition.manage")
def _edition_manage(actor: Actor, obj) -> bool:
    return _manage_team(actor, obj)


@policy.rule("edition.view", api_scope="editions:read")
def _edition_view(actor: Actor, obj) -> bool:
    return _view(actor, obj)


@policy.scope("edition.view")
def _edition_view_scope(actor: Actor, qs):
    return _view_scope(actor, qs)


# Partners attach their own ids to the courses of the programmes they may see (consortium.identifiers).
identifiers.register_kind(
    ExternalIdKind.COURSE, visible=lambda user: policy.filter(user, "programme.view", Course.objects.all())
)

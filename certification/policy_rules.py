"""Who decides awards and who may download issued documents (verification itself is public)."""

from django.db.models import Q

from consortium.api import MembershipRole, Role, policy
from programmes.api import Edition, ProgrammePartner

Actor = policy.Actor


def _programme(obj):
    if isinstance(obj, Edition):
        return obj.programme
    edition = getattr(obj, "edition", None)
    return edition.programme if edition is not None else None


@policy.rule("award.decide", api_scope="awards:write")
def _decide(actor: Actor, obj) -> bool:
    """The examination board decides awards (partner systems only with a board-scoped token: none today)."""
    if actor.is_partner_system:
        return False
    if obj is None:
        return bool(actor.targets_with_role(Role.EXAM_BOARD))
    programme = _programme(obj)
    return programme is not None and actor.has_role(Role.EXAM_BOARD, target=programme.id)


@policy.rule("award.view", api_scope="awards:read")
def _view(actor: Actor, obj) -> bool:
    if obj is None:
        return actor.is_partner_system or bool(actor.targets_with_role(Role.EXAM_BOARD, Role.TEAM_LEADER)
                                               or actor.institutions_with_role(Role.STUDENT_ADMIN))
    enrolment = getattr(obj, "enrolment", obj)
    if actor.user is not None and getattr(enrolment, "learner_id", None) == getattr(actor.user, "pk", None):
        return True
    programme = _programme(enrolment)
    if programme is None:
        return False
    if actor.has_role(Role.EXAM_BOARD, Role.TEAM_LEADER, target=programme.id):
        return True
    institutions = actor.institutions_with_role(Role.STUDENT_ADMIN) | (
        set(actor.institution_ids) if actor.is_partner_system else set())
    return programme.partners.filter(institution_id__in=institutions).exists()


@policy.scope("award.view")
def _view_scope(actor: Actor, queryset):
    """The awards ``_view`` allows, as one filter (lists and the API): the learner's own, the programmes where the
    actor sits on the exam board or leads the team, and the programmes its institution takes part in (student
    administrators; a partner system with ``awards:read``)."""
    allowed = Q(pk__in=[])
    if actor.user is not None and not actor.is_partner_system:
        allowed |= Q(enrolment__learner_id=actor.user.pk)
    programmes = actor.targets_with_role(Role.EXAM_BOARD, Role.TEAM_LEADER)
    if programmes:
        allowed |= Q(enrolment__edition__programme_id__in=programmes)
    institutions = actor.institutions_with_role(Role.STUDENT_ADMIN) | (
        set(actor.institution_ids) if actor.is_partner_system else set())
    if institutions:
        allowed |= Q(enrolment__edition__programme_id__in=ProgrammePartner.objects.filter(
            institution_id__in=institutions).values("programme_id"))
    return queryset.filter(allowed)


# --- The per-partner export of an edition (bulk exchange) ---------------------------------------------------------

#: The universities that run the programme receive its export (associated partners do not read learners' grades).
EXPORT_ROLES = (MembershipRole.LEAD, MembershipRole.PARTNER)
#: What a partner system needs: the export holds enrolments, results and awards.
EXPORT_SCOPES = frozenset({"enrolments:read", "results:read", "awards:read"})


def export_institution_ids(actor: Actor, edition: Edition) -> set:
    """The partner institutions whose file of ``edition`` the actor may download: every university running the
    programme for those who see the programme's approved results (its team leader, its examination board, the
    consortium's administrators), and its own for a partner system holding the three scopes (as ``grades.view``
    lets it read them). Student administrators see enrolments and awards but not grades, so they get no file."""
    programme = edition.programme
    running = {p.institution_id for p in programme.partners.all() if p.role in EXPORT_ROLES}
    if (actor.is_superuser or actor.has_role(Role.TEAM_LEADER, Role.EXAM_BOARD, target=programme.id)
            or actor.has_role(Role.CONSORTIUM_ADMIN, consortium=programme.consortium_id)):
        return running
    if actor.is_partner_system:
        return running & set(actor.institution_ids) if actor.scopes >= EXPORT_SCOPES else set()
    return set()


@policy.rule("edition.export", api_scope="enrolments:read")
def _export(actor: Actor, obj) -> bool:
    """An edition's enrolments, approved results and awards, for one partner institution, its grades on that
    partner's own scale (certification.exchange). Partner systems need ``results:read`` and ``awards:read`` too."""
    if obj is None:
        return actor.is_partner_system or bool(actor.targets_with_role(Role.TEAM_LEADER, Role.EXAM_BOARD)
                                               or actor.consortia_with_role(Role.CONSORTIUM_ADMIN))
    edition = obj if isinstance(obj, Edition) else getattr(obj, "edition", None)
    return edition is not None and bool(export_institution_ids(actor, edition))

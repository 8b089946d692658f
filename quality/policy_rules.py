"""Who may do what with the quality app's records (registered at start-up by ``QualityConfig.ready``).

* ``segment.manage`` — a consortium's learner target segments: its consortium administrators;
* ``recruitment.manage`` — a programme's campaigns: its team leader and the consortium's administrators;
* ``recruitment.view`` — a programme's campaigns and funnels: its team (leader and members) and the consortium's
  administrators (with a list scope);
* ``quality.view`` — a programme's feedback results, quality reviews and sustainability dashboard: its team, the
  consortium's administrators and the quality-assurance officers of its lead institution (with a list scope);
* ``quality.manage`` — a programme's questions, stakeholder invitations, surveys' closing, reviews (findings and
  improvement actions) and partners' commitments: its team leader, the consortium's administrators and the lead
  institution's quality-assurance officers. Team members see the evidence but do not sign off the review;
* ``review.view`` — a programme's quality reviews and their reports: ``quality.view`` and the programme board;
* ``review.decide`` — approve or return a submitted review: the programme board, never the programme's team leader;
* ``review.published`` — an APPROVED review through the API (scope ``quality:read``): the partner systems of the
  programme's lead and partner institutions, and whoever may see the review in the browser (``review.view``).
"""

from django.db.models import Q

from consortium.api import MembershipRole, Role, policy
from programmes.api import Programme

from .models import Segment

Actor = policy.Actor

CA = Role.CONSORTIUM_ADMIN
QO = Role.QUALITY_OFFICER
#: The partnership roles of the institutions that run a programme (associated partners, e.g. employers, do not).
RUN_BY = (MembershipRole.LEAD, MembershipRole.PARTNER)
TEAM = (Role.TEAM_LEADER, Role.TEAM_MEMBER)


#: How a quality record leads to its programme: the first of these attributes it has, followed until a programme.
PARENTS = ("programme", "question_set", "survey", "review")


def programme_of(obj) -> Programme | None:
    """The programme a quality record belongs to (a programme, edition, campaign, survey, question set, question,
    invitation, review, finding, action, commitment), or None for anything else."""
    for _depth in range(3):
        if obj is None or isinstance(obj, Programme):
            return obj
        parent = next((name for name in PARENTS if hasattr(obj, name)), None)
        if parent is None:
            return None
        obj = getattr(obj, parent)
    return obj if isinstance(obj, Programme) else None


def _quality_staff(actor: Actor, programme: Programme, *roles: str) -> bool:
    return (actor.has_role(*roles, target=programme.pk)
            or actor.has_role(CA, consortium=programme.consortium_id)
            or actor.has_role(QO, institution=programme.lead_institution_id))


@policy.rule("segment.manage")
def _segment_manage(actor: Actor, obj) -> bool:
    """A consortium's segments: its administrators."""
    if obj is None:
        return bool(actor.consortia_with_role(CA))
    consortium_id = obj.consortium_id if isinstance(obj, Segment) else getattr(obj, "pk", None)
    return actor.has_role(CA, consortium=consortium_id)


@policy.rule("recruitment.manage")
def _manage(actor: Actor, obj) -> bool:
    """A programme's campaigns: its team leader and the consortium's administrators."""
    if obj is None:
        return bool(actor.targets_with_role(Role.TEAM_LEADER) or actor.consortia_with_role(CA))
    programme = programme_of(obj)
    if programme is None:
        return False
    return actor.has_role(Role.TEAM_LEADER, target=programme.pk) or actor.has_role(
        CA, consortium=programme.consortium_id)


@policy.rule("recruitment.view")
def _view(actor: Actor, obj) -> bool:
    """A programme's campaigns and funnels: its team (leader and members) and the consortium's administrators."""
    if obj is None:
        return bool(actor.targets_with_role(*TEAM) or actor.consortia_with_role(CA))
    programme = programme_of(obj)
    if programme is None:
        return False
    return actor.has_role(*TEAM, target=programme.pk) or actor.has_role(CA, consortium=programme.consortium_id)


@policy.scope("recruitment.view")
def _view_scope(actor: Actor, queryset):
    """Programmes, editions or campaigns whose recruitment the actor may see."""
    prefix = "" if queryset.model is Programme else "programme__"
    return queryset.filter(Q(**{f"{prefix}pk__in": actor.targets_with_role(*TEAM)})
                           | Q(**{f"{prefix}consortium_id__in": actor.consortia_with_role(CA)}))


@policy.rule("quality.view")
def _quality_view(actor: Actor, obj) -> bool:
    """A programme's feedback results, reviews and dashboard: its team, the consortium's administrators, the lead
    institution's quality-assurance officers."""
    if obj is None:
        return bool(actor.targets_with_role(*TEAM) or actor.consortia_with_role(CA)
                    or actor.institutions_with_role(QO))
    programme = programme_of(obj)
    return programme is not None and _quality_staff(actor, programme, *TEAM)


@policy.scope("quality.view")
def _quality_view_scope(actor: Actor, queryset):
    """Programmes (or records with a ``programme``) whose quality the actor may see."""
    prefix = "" if queryset.model is Programme else "programme__"
    return queryset.filter(Q(**{f"{prefix}pk__in": actor.targets_with_role(*TEAM)})
                           | Q(**{f"{prefix}consortium_id__in": actor.consortia_with_role(CA)})
                           | Q(**{f"{prefix}lead_institution_id__in": actor.institutions_with_role(QO)}))


@policy.rule("quality.manage")
def _quality_manage(actor: Actor, obj) -> bool:
    """A programme's questions, invitations, reviews and commitments: its team leader, the consortium's
    administrators, the lead institution's quality-assurance officers."""
    if obj is None:
        return bool(actor.targets_with_role(Role.TEAM_LEADER) or actor.consortia_with_role(CA)
                    or actor.institutions_with_role(QO))
    programme = programme_of(obj)
    return programme is not None and _quality_staff(actor, programme, Role.TEAM_LEADER)


def _programme_board(actor: Actor, programme: Programme) -> bool:
    """A member of the programme's board who is not its team leader (the board decides on the team's work)."""
    return actor.has_role(Role.PROGRAMME_BOARD, target=programme.pk) and not actor.has_role(
        Role.TEAM_LEADER, target=programme.pk)


@policy.rule("review.view")
def _review_view(actor: Actor, obj) -> bool:
    """A programme's quality reviews: whoever sees its quality (``quality.view``), and its programme board, which
    decides on them."""
    if obj is None:
        return _quality_view(actor, None) or bool(actor.targets_with_role(Role.PROGRAMME_BOARD))
    programme = programme_of(obj)
    return programme is not None and (_quality_staff(actor, programme, *TEAM)
                                      or actor.has_role(Role.PROGRAMME_BOARD, target=programme.pk))


@policy.rule("review.decide")
def _review_decide(actor: Actor, obj) -> bool:
    """Approve or return a submitted quality review: the programme board, never the programme's team leader."""
    if obj is None:
        return bool(actor.targets_with_role(Role.PROGRAMME_BOARD))
    programme = programme_of(obj)
    return programme is not None and _programme_board(actor, programme)


@policy.rule("review.published", api_scope="quality:read")
def _review_published(actor: Actor, obj) -> bool:
    """An approved review, for the partner systems of the institutions running the programme (and the people who
    see it in the browser)."""
    if obj is None:
        return actor.is_partner_system or _review_view(actor, None)
    if getattr(obj, "status", None) != "approved":
        return False
    if actor.is_partner_system:
        programme = programme_of(obj)
        return programme is not None and programme.partners.filter(
            institution_id__in=actor.institution_ids, role__in=RUN_BY).exists()
    return _review_view(actor, obj)


@policy.scope("review.published")
def _review_published_scope(actor: Actor, queryset):
    """Approved reviews of the programmes the partner system's institution takes part in (lead or partner), or
    those the person may see."""
    approved = queryset.filter(status="approved")
    if actor.is_partner_system:
        return approved.filter(programme__in=Programme.objects.filter(
            partners__institution_id__in=actor.institution_ids, partners__role__in=RUN_BY))
    board = actor.targets_with_role(Role.PROGRAMME_BOARD)
    return approved.filter(Q(programme_id__in=actor.targets_with_role(*TEAM) | board)
                           | Q(programme__consortium_id__in=actor.consortia_with_role(CA))
                           | Q(programme__lead_institution_id__in=actor.institutions_with_role(QO)))

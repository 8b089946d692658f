"""Who sees and handles money. Finance officers act for their institution (role scope: institution):

* ``finance.view`` — an edition's finances (fee table, income, settlement): the finance officers of the
  programme's partner institutions and the programme's team leaders;
* ``finance.invoice_view`` / ``finance.invoice_manage`` — an invoice: the learner it is for (view), the finance
  officers of the issuing institution (view, record payments, credit notes); a partner system of the issuing
  institution with ``finance:read`` (view);
* ``finance.costs_view`` — another partner's cost lines: only when the agreement in force shares costs
  (``costs_shared``); each partner always sees its own;
* ``finance.edition_manage`` — an edition's financial set-up (terms, fee table, discounts, sponsors, grants,
  budget versions): the issuing institution's finance officers and the programme's team leaders;
* ``finance.cost_enter`` — a cost line: the finance officers of the institution bearing it, the team leaders.
"""

from django.db.models import Q

from consortium.api import AgreementStatus, Role, policy
from programmes.api import Edition, Programme, ProgrammePartner

Actor = policy.Actor


def _edition(obj) -> Edition | None:
    if isinstance(obj, Edition):
        return obj
    return getattr(obj, "edition", None)


def _partner_institutions(edition: Edition | Programme) -> set:
    programme_id = edition.pk if isinstance(edition, Programme) else edition.programme_id
    return set(ProgrammePartner.objects.filter(programme_id=programme_id).values_list("institution_id", flat=True))


@policy.rule("finance.view", api_scope="finance:read")
def _view(actor: Actor, obj) -> bool:
    """``obj``: an edition (or a row of one), or a programme (its business plan)."""
    if obj is None:
        return bool(actor.institutions_with_role(Role.FINANCE_OFFICER) or actor.targets_with_role(Role.TEAM_LEADER)
                    or actor.is_partner_system)
    target = obj if isinstance(obj, Programme) else _edition(obj)
    if target is None:
        return False
    programme_id = target.pk if isinstance(target, Programme) else target.programme_id
    if actor.has_role(Role.TEAM_LEADER, target=programme_id):
        return True
    mine = actor.institutions_with_role(Role.FINANCE_OFFICER) | (
        set(actor.institution_ids) if actor.is_partner_system else set())
    return bool(mine & _partner_institutions(target))


@policy.scope("finance.view")
def _view_scope(actor: Actor, queryset):
    """Editions (or rows with an ``edition``) the actor may see the finances of."""
    prefix = "" if queryset.model is Edition else "edition__"
    allowed = Q(pk__in=[])
    leading = actor.targets_with_role(Role.TEAM_LEADER)
    if leading:
        allowed |= Q(**{f"{prefix}programme_id__in": leading})
    mine = actor.institutions_with_role(Role.FINANCE_OFFICER) | (
        set(actor.institution_ids) if actor.is_partner_system else set())
    if mine:
        allowed |= Q(**{f"{prefix}programme_id__in": ProgrammePartner.objects.filter(
            institution_id__in=mine).values("programme_id")})
    return queryset.filter(allowed)


def _issuer_officer(actor: Actor, invoice) -> bool:
    return invoice.issuer_id in actor.institutions_with_role(Role.FINANCE_OFFICER)


@policy.rule("finance.invoice_view", api_scope="finance:read")
def _invoice_view(actor: Actor, obj) -> bool:
    if obj is None:
        return actor.is_authenticated
    if actor.user is not None and not actor.is_partner_system and obj.application.applicant_id == actor.user.pk:
        return True
    if actor.is_partner_system:
        return obj.issuer_id in actor.institution_ids
    return _issuer_officer(actor, obj)


@policy.scope("finance.invoice_view")
def _invoice_scope(actor: Actor, queryset):
    allowed = Q(pk__in=[])
    if actor.is_partner_system:
        return queryset.filter(issuer_id__in=actor.institution_ids)
    if actor.user is not None:
        allowed |= Q(application__applicant_id=actor.user.pk)
    officers = actor.institutions_with_role(Role.FINANCE_OFFICER)
    if officers:
        allowed |= Q(issuer_id__in=officers)
    return queryset.filter(allowed)


@policy.rule("finance.invoice_manage")
def _invoice_manage(actor: Actor, obj) -> bool:
    if actor.is_partner_system:
        return False
    if obj is None:
        return bool(actor.institutions_with_role(Role.FINANCE_OFFICER))
    return _issuer_officer(actor, obj)


@policy.rule("finance.costs_view", api_scope="finance:read")
def _costs_view(actor: Actor, obj) -> bool:
    """``obj`` is a cost line: its own institution's officers always; other partners' only when costs are shared."""
    if obj is None:
        return False
    mine = actor.institutions_with_role(Role.FINANCE_OFFICER) | (
        set(actor.institution_ids) if actor.is_partner_system else set())
    if obj.borne_by_id in mine:
        return True
    edition = obj.budget.edition
    if not (mine & _partner_institutions(edition)) and not actor.has_role(Role.TEAM_LEADER,
                                                                           target=edition.programme_id):
        return False
    agreement = edition.programme.agreement
    version = agreement.versions.filter(status=AgreementStatus.IN_FORCE).order_by("-number").first() \
        if agreement else None
    return bool(version and version.costs_shared)


def _may_act_on_finances(actor: Actor) -> bool:
    """Changing finances needs a person (never a token) who is a finance officer or leads a programme."""
    return not actor.is_partner_system and bool(actor.institutions_with_role(Role.FINANCE_OFFICER)
                                                or actor.targets_with_role(Role.TEAM_LEADER))


@policy.rule("finance.edition_manage")
def _edition_manage(actor: Actor, obj) -> bool:
    if not _may_act_on_finances(actor):
        return False
    if obj is None:
        return True
    edition = _edition(obj)
    if edition is None:
        return False
    if actor.has_role(Role.TEAM_LEADER, target=edition.programme_id):
        return True
    return edition.programme.issuing_institution_id in actor.institutions_with_role(Role.FINANCE_OFFICER)


@policy.rule("finance.cost_enter")
def _cost_enter(actor: Actor, obj) -> bool:
    if not _may_act_on_finances(actor):
        return False
    if obj is None:
        return True
    edition = obj.budget.edition
    if actor.has_role(Role.TEAM_LEADER, target=edition.programme_id):
        return True
    return obj.borne_by_id in actor.institutions_with_role(Role.FINANCE_OFFICER)


@policy.rule("finance.plan_manage")
def _plan_manage(actor: Actor, obj) -> bool:
    """A programme's business plan: its team leaders and the issuing institution's finance officers."""
    if not _may_act_on_finances(actor):
        return False
    if obj is None:
        return True
    return actor.has_role(Role.TEAM_LEADER, target=obj.pk) or (
        obj.issuing_institution_id in actor.institutions_with_role(Role.FINANCE_OFFICER))

"""Policy rules for the consortium domain (institutions, consortia, agreements, tokens, audit).

What is joint and what is private is written down in docs/privacy.md; these rules implement it.
"""

from django.db.models import Q

from . import policy
from .models import (
    Agreement,
    AgreementParty,
    AgreementVersion,
    ApiToken,
    Consortium,
    Institution,
    Membership,
    Role,
)
from .policy import Actor

CA = Role.CONSORTIUM_ADMIN
IA = Role.INSTITUTION_ADMIN


def _consortium_id(obj) -> object:
    if isinstance(obj, Consortium):
        return obj.id
    if isinstance(obj, (Membership, Agreement)):
        return obj.consortium_id
    if isinstance(obj, AgreementVersion):
        return obj.agreement.consortium_id
    if isinstance(obj, AgreementParty):
        return obj.version.agreement.consortium_id
    return None


def _administers_institution(actor: Actor, institution_id) -> bool:
    """Institution admins of it, and consortium admins of a consortium it is an active member of."""
    if actor.has_role(IA, institution=institution_id):
        return True
    return institution_id in actor.administered_member_ids


# --- Institutions: the public profile is joint; contacts, signature and staff are private ------------


@policy.rule("institution.view", api_scope="institutions:read")
def _institution_view(actor: Actor, obj) -> bool:
    return actor.is_staff_member or actor.is_partner_system or bool(actor.assignments)


@policy.scope("institution.view")
def _institution_view_scope(actor: Actor, qs):
    return qs if _institution_view(actor, None) else qs.none()


@policy.rule("institution.view_private", api_scope="institutions:read")
def _institution_view_private(actor: Actor, obj: Institution | None) -> bool:
    if obj is None:
        return False
    return obj.id in actor.institution_ids or (not actor.is_partner_system and _administers_institution(actor, obj.id))


@policy.rule("institution.create")
def _institution_create(actor: Actor, obj) -> bool:
    return bool(actor.consortia_with_role(CA))


@policy.rule("institution.change", api_scope="institutions:write")
def _institution_change(actor: Actor, obj: Institution | None) -> bool:
    if actor.is_partner_system:
        return obj is not None and obj.id in actor.institution_ids
    if obj is None:
        return bool(actor.institutions_with_role(IA) or actor.consortia_with_role(CA))
    return _administers_institution(actor, obj.id)


# --- Consortia and memberships: visible to members, managed by consortium administrators -------------


@policy.rule("consortium.view", api_scope="consortia:read")
def _consortium_view(actor: Actor, obj) -> bool:
    if obj is None:
        return bool(actor.member_consortium_ids)
    return _consortium_id(obj) in actor.member_consortium_ids


@policy.scope("consortium.view")
def _consortium_view_scope(actor: Actor, qs):
    return qs.filter(id__in=actor.member_consortium_ids)


@policy.rule("consortium.create")
def _consortium_create(actor: Actor, obj) -> bool:
    return False  # platform superusers create consortia and appoint their administrators


@policy.rule("consortium.change", api_scope="consortia:write")
def _consortium_change(actor: Actor, obj) -> bool:
    if obj is None:
        return bool(actor.consortia_with_role(CA))
    return actor.has_role(CA, consortium=_consortium_id(obj))


@policy.rule("membership.view", api_scope="memberships:read")
def _membership_view(actor: Actor, obj) -> bool:
    return _consortium_view(actor, obj)


@policy.scope("membership.view")
def _membership_view_scope(actor: Actor, qs):
    return qs.filter(consortium_id__in=actor.member_consortium_ids)


@policy.rule("membership.manage", api_scope="memberships:write")
def _membership_manage(actor: Actor, obj) -> bool:
    return _consortium_change(actor, obj)


# --- Agreements: joint between the consortium's members; managed by consortium administrators --------


@policy.rule("agreement.view", api_scope="agreements:read")
def _agreement_view(actor: Actor, obj) -> bool:
    return _consortium_view(actor, obj)


@policy.scope("agreement.view")
def _agreement_view_scope(actor: Actor, qs):
    if qs.model is Agreement:
        return qs.filter(consortium_id__in=actor.member_consortium_ids)
    return qs.filter(agreement__consortium_id__in=actor.member_consortium_ids)


@policy.rule("agreement.manage", api_scope="agreements:write")
def _agreement_manage(actor: Actor, obj) -> bool:
    return _consortium_change(actor, obj)


@policy.rule("agreement.sign")
def _agreement_sign(actor: Actor, party: AgreementParty | None) -> bool:
    """Record a party's signature: its institution administrators, or the consortium administrators."""
    if party is None:
        return bool(actor.institutions_with_role(IA) or actor.consortia_with_role(CA))
    return actor.has_role(IA, institution=party.institution_id) or actor.has_role(CA, consortium=_consortium_id(party))


# --- API tokens: private to the institution, managed by its administrators ---------------------------


@policy.rule("apitoken.manage")
def _apitoken_manage(actor: Actor, obj) -> bool:
    if obj is None:
        return bool(actor.institutions_with_role(IA))
    institution_id = obj.institution_id if isinstance(obj, ApiToken) else obj.id
    return actor.has_role(IA, institution=institution_id)


@policy.scope("apitoken.manage")
def _apitoken_scope(actor: Actor, qs):
    return qs.filter(institution_id__in=actor.institutions_with_role(IA))


# --- Staff of an institution: private to it ------------------------------------------------------------


@policy.rule("staff.manage")
def _staff_manage(actor: Actor, obj) -> bool:
    if obj is None:
        return bool(actor.institutions_with_role(IA))
    return actor.has_role(IA, institution=obj.id)


@policy.scope("staff.manage")
def _staff_scope(actor: Actor, qs):
    return qs.filter(institution_id__in=actor.institutions_with_role(IA))


# --- Audit trail: consortium administrators see their consortium's, institution admins their own ----


@policy.rule("audit.view")
def _audit_view(actor: Actor, obj) -> bool:
    if obj is None:
        return bool(actor.consortia_with_role(CA) or actor.institutions_with_role(IA))
    return obj.consortium_id in actor.consortia_with_role(CA) or obj.institution_id in (
        actor.institutions_with_role(IA)
    )


@policy.scope("audit.view")
def _audit_scope(actor: Actor, qs):
    return qs.filter(
        Q(consortium_id__in=actor.consortia_with_role(CA)) | Q(institution_id__in=actor.institutions_with_role(IA))
    )


# --- Personal data: erasure requests and the record of processing activities --------------------------------------


@policy.rule("privacy.manage")
def _privacy_manage(actor: Actor, obj) -> bool:
    """Platform superusers only (``policy.can`` lets them through before any rule): learners belong to no
    institution, and an erasure reaches every app's records, so no institution or consortium role decides it."""
    return False


@policy.scope("privacy.manage")
def _privacy_scope(actor: Actor, qs):
    return qs.none()


# --- External ids: private to the institution that attached them ----------------------------------------------------


def _external_id_institution(actor: Actor):
    """The institution whose external ids the actor manages: its token's, or its own as a student administrator or
    institution administrator (staff have one institution)."""
    if actor.is_partner_system:
        return actor.token.institution_id
    own = set(actor.institution_ids) & actor.institutions_with_role(IA, Role.STUDENT_ADMIN)
    return next(iter(own)) if len(own) == 1 else None


@policy.rule("external_id.view", api_scope="external-ids:read")
def _external_id_view(actor: Actor, obj) -> bool:
    institution_id = _external_id_institution(actor)
    return institution_id is not None and (obj is None or obj.institution_id == institution_id)


@policy.scope("external_id.view")
def _external_id_view_scope(actor: Actor, qs):
    institution_id = _external_id_institution(actor)
    return qs.filter(institution_id=institution_id) if institution_id is not None else qs.none()


@policy.rule("external_id.manage", api_scope="external-ids:write")
def _external_id_manage(actor: Actor, obj) -> bool:
    """Attach, replace and remove the institution's own external ids (on records it may see: the services check)."""
    return _external_id_view(actor, obj)


@policy.scope("external_id.manage")
def _external_id_manage_scope(actor: Actor, qs):
    return _external_id_view_scope(actor, qs)

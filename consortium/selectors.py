"""Reads for the consortium domain: querysets with their joins done once, filtered by the policy."""

from datetime import date

from django.db.models import Count, Prefetch, Q, QuerySet

from . import policy
from .models import (
    Agreement,
    AgreementParty,
    AgreementStatus,
    AgreementVersion,
    ApiToken,
    AuditEvent,
    Consortium,
    Institution,
    Membership,
    StaffProfile,
)


def institution_list(*, user, search: str = "", country: str = "", kind: str = "") -> QuerySet[Institution]:
    qs = policy.filter(user, "institution.view", Institution.objects.all())
    if search:
        qs = qs.filter(Q(legal_name__icontains=search) | Q(short_name__icontains=search) | Q(city__icontains=search))
    if country:
        qs = qs.filter(country=country.upper())
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("short_name")


def consortium_list(*, user) -> QuerySet[Consortium]:
    # Meta.ordering is not applied to GROUP BY queries; the list is paginated and needs a stable order.
    return (
        policy.filter(user, "consortium.view", Consortium.objects.all())
        .annotate(member_count=Count("memberships", filter=Q(memberships__left_on__isnull=True)))
        .order_by("acronym")
    )


def consortium_memberships(consortium: Consortium) -> QuerySet[Membership]:
    return consortium.memberships.select_related("institution").order_by("left_on", "role", "institution__short_name")


def membership_list(*, user) -> QuerySet[Membership]:
    return policy.filter(user, "membership.view", Membership.objects.select_related("institution", "consortium"))


def agreement_list(*, user, consortium: Consortium | None = None) -> QuerySet[Agreement]:
    qs = policy.filter(user, "agreement.view", Agreement.objects.select_related("consortium"))
    if consortium is not None:
        qs = qs.filter(consortium=consortium)
    return qs.prefetch_related(Prefetch("versions", queryset=AgreementVersion.objects.order_by("-number")))


def agreement_version_detail(version_id) -> AgreementVersion:
    return (
        AgreementVersion.objects.select_related("agreement__consortium", "collecting_institution")
        .prefetch_related(
            Prefetch("parties", queryset=AgreementParty.objects.select_related("institution")),
            "signatures__institution",
            "revenue_shares__institution",
            "addenda__institution",
        )
        .get(pk=version_id)
    )


def agreements_awaiting_signature(*, user) -> QuerySet[AgreementVersion]:
    """Versions under signature where one of the user's administered institutions has not signed."""
    actor = policy.actor_for(user)
    institutions = actor.institutions_with_role("institution_admin")
    consortia = actor.consortia_with_role("consortium_admin")
    return (
        AgreementVersion.objects.filter(status=AgreementStatus.UNDER_SIGNATURE)
        .filter(Q(parties__institution_id__in=institutions) | Q(agreement__consortium_id__in=consortia))
        .exclude(signatures__institution_id__in=institutions)
        .select_related("agreement")
        .distinct()
    )


def apitoken_list(*, user) -> QuerySet[ApiToken]:
    return policy.filter(user, "apitoken.manage", ApiToken.objects.select_related("institution", "created_by"))


def staff_list(*, user) -> QuerySet[StaffProfile]:
    return policy.filter(
        user, "staff.manage", StaffProfile.objects.select_related("user", "institution")
    ).prefetch_related("user__role_assignments")


def audit_list(
    *,
    user,
    action: str = "",
    actor: str = "",
    via: str = "",
    obj: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEvent]:
    """The audit trail the user may read, filtered: action prefix, actor, interface, object (its id, or words of
    its name or type) and a date range (inclusive)."""
    qs = policy.filter(user, "audit.view", AuditEvent.objects.all())
    if action:
        qs = qs.filter(action__startswith=action)
    if actor:
        qs = qs.filter(actor_label__icontains=actor)
    if via:
        qs = qs.filter(via=via)
    if obj:
        qs = qs.filter(Q(object_id=obj) | Q(object_repr__icontains=obj) | Q(object_type=obj))
    if since:
        qs = qs.filter(at__date__gte=since)
    if until:
        qs = qs.filter(at__date__lte=until)
    return qs


def erasure_request_list(*, user, status: str = "", search: str = "") -> QuerySet:
    """Erasure requests for platform administrators (``privacy.manage``), open ones first."""
    from .models import ErasureRequest

    qs = policy.filter(user, "privacy.manage", ErasureRequest.objects.select_related("user", "requested_by",
                                                                                    "completed_by"))
    if status:
        qs = qs.filter(status=status)
    if search:
        qs = qs.filter(Q(user__email__icontains=search) | Q(user__full_name__icontains=search))
    return qs.order_by("-status", "-requested_at")  # "requested" > "refused" > "completed": open ones first


def own_erasure_requests(*, user) -> QuerySet:
    from .models import ErasureRequest

    return ErasureRequest.objects.filter(user=user).order_by("-requested_at")

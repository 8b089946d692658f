"""Reads for programme management: policy-filtered querysets with their joins done once."""

from django.db.models import Prefetch, Q, QuerySet

from consortium.api import policy

from .models import CurriculumStatus, CurriculumVersion, Edition, Programme, ProgrammePartner


def programme_list(*, user, search: str = "", status: str = "") -> QuerySet[Programme]:
    qs = policy.filter(user, "programme.view", Programme.objects.all())
    if search:
        qs = qs.filter(Q(code__icontains=search) | Q(texts__title__icontains=search)).distinct()
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("consortium", "lead_institution").prefetch_related("texts").order_by("code")


def partnership_institution_ids(programme: Programme) -> set:
    """The ids of the institutions in the programme's partnership: its lead and every ``ProgrammePartner``
    (partners and associated partners alike)."""
    return {programme.lead_institution_id,
            *ProgrammePartner.objects.filter(programme=programme).values_list("institution_id", flat=True)}


def in_partnership(programme: Programme, institution) -> bool:
    """Whether ``institution`` (an ``Institution`` or its id) is the lead or a partner of ``programme``."""
    institution_id = getattr(institution, "pk", institution)
    return institution_id == programme.lead_institution_id or ProgrammePartner.objects.filter(
        programme=programme, institution_id=institution_id).exists()


def programme_detail(programme_id) -> Programme:
    return (
        Programme.objects.select_related("consortium", "agreement", "lead_institution", "issuing_institution")
        .prefetch_related(
            "texts",
            "outcomes",
            Prefetch("partners", queryset=ProgrammePartner.objects.select_related("institution")),
            "stacks_into__target__texts",
            "stacked_from__programme__texts",
            Prefetch("curricula", queryset=CurriculumVersion.objects.order_by("-number")),
        )
        .get(pk=programme_id)
    )


def board_queue(*, user) -> QuerySet[CurriculumVersion]:
    """Submitted versions this user may decide on: a team leader on the board does not decide on their own."""
    actor = policy.actor_for(user)
    programmes = actor.targets_with_role("programme_board") - actor.targets_with_role("team_leader")
    qs = CurriculumVersion.objects.filter(status=CurriculumStatus.SUBMITTED)
    if not actor.is_superuser:
        qs = qs.filter(programme_id__in=programmes)
    return qs.select_related("programme").prefetch_related("programme__texts").order_by("submitted_at")


def edition_list(*, user) -> QuerySet[Edition]:
    return policy.filter(user, "edition.view", Edition.objects.select_related("programme", "curriculum"))

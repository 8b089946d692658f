"""Reads for the staff pages of admissions: policy-filtered querysets with their joins done once.

The review queue is built to render with a constant number of queries whatever the number of
applications: criterion results are annotated (counts) and prefetched (per criterion) for the page only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Case, Count, F, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Lower

from consortium.api import policy
from programmes.api import Edition

from .models import (
    PLACE_HOLDING,
    Application,
    ApplicationMessage,
    ApplicationStatus,
    Assessment,
    Criterion,
    CriterionAssessment,
    ExemptionRequest,
    ExemptionStatus,
    InstitutionRegistration,
)

S = ApplicationStatus

#: Review queue orderings offered to the user (``-`` prefix for descending).
SORTS = {
    "submitted": ("submitted_at", "created_at"),
    "name": (Lower("family_names"), Lower("given_names")),
    "status": ("status_rank", "submitted_at"),
}


def _edition_base() -> QuerySet[Edition]:
    return Edition.objects.select_related(
        "programme", "admission_framework__reviewing_institution"
    ).prefetch_related("programme__texts", "programme__partners")


def visible_editions(*, user) -> QuerySet[Edition]:
    """Editions whose applications ``user`` follows (policy ``application.view``)."""
    visible = policy.filter(user, "application.view", Edition.objects.all())
    return _edition_base().filter(pk__in=visible.values("pk"))


def edition_list(*, user, search: str = "", status: str = "") -> QuerySet[Edition]:
    qs = visible_editions(user=user)
    if search:
        qs = qs.filter(
            Q(intake_code__icontains=search)
            | Q(programme__code__icontains=search)
            | Q(programme__texts__title__icontains=search)
        ).distinct()
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-starts_on", "programme__code", "intake_code")


def status_counts(edition_ids: Iterable) -> dict:
    """``{edition_id: {status: n}}`` in one query."""
    counts: dict = defaultdict(dict)
    rows = (
        Application.objects.filter(edition_id__in=list(edition_ids))
        .order_by()
        .values_list("edition_id", "status")
        .annotate(n=Count("id"))
    )
    for edition_id, status, n in rows:
        counts[edition_id][status] = n
    return counts


@dataclass
class EditionFigures:
    """Counts per status and places taken for one edition."""

    by_status: dict
    capacity: int | None

    @property
    def taken(self) -> int:
        return sum(self.by_status.get(s, 0) for s in PLACE_HOLDING)

    @property
    def free(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.taken, 0)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    def get(self, status: str) -> int:
        return self.by_status.get(status, 0)

    @property
    def rows(self) -> list[tuple[str, str, int]]:
        """``(status, label, count)`` for every status, in the order of the lifecycle."""
        return [(value, label, self.by_status.get(value, 0)) for value, label in S.choices]


def edition_figures(edition: Edition) -> EditionFigures:
    return EditionFigures(status_counts([edition.pk]).get(edition.pk, {}), edition.capacity)


# --- Review queue ----------------------------------------------------------------------------------------


@dataclass
class QueueFilters:
    status: str = ""
    search: str = ""
    nationality: str = ""
    route: str = ""
    duplicate: bool = False
    criterion: Criterion | None = None
    assessment: str = ""
    sort: str = "submitted"


def _status_rank() -> Case:
    return Case(
        *[When(status=value, then=Value(i)) for i, value in enumerate(S.values)],
        default=Value(len(S.values)),
        output_field=IntegerField(),
    )


def review_queue(*, edition: Edition, filters: QueueFilters, criteria_count: int) -> QuerySet[Application]:
    """The applications of ``edition`` matching ``filters``: drafts only when asked for by status."""
    qs = Application.objects.filter(edition=edition)
    qs = qs.filter(status=filters.status) if filters.status else qs.exclude(status=S.DRAFT)
    for term in filters.search.split():
        qs = qs.filter(
            Q(given_names__icontains=term) | Q(family_names__icontains=term) | Q(email__icontains=term)
            | Q(applicant__esi__icontains=term)
        )
    if filters.nationality:
        qs = qs.filter(nationality=filters.nationality)
    if filters.route:
        qs = qs.filter(route=filters.route)
    if filters.duplicate:
        qs = qs.filter(possible_duplicate=True)
    if filters.criterion is not None and filters.assessment:
        assessed = CriterionAssessment.objects.filter(criterion=filters.criterion).exclude(result=Assessment.UNKNOWN)
        if filters.assessment == Assessment.UNKNOWN:
            qs = qs.exclude(pk__in=assessed.values("application_id"))
        else:
            qs = qs.filter(pk__in=assessed.filter(result=filters.assessment).values("application_id"))
    qs = qs.annotate(
        n_met=Count("criterion_assessments", filter=Q(criterion_assessments__result=Assessment.MET)),
        n_not_met=Count("criterion_assessments", filter=Q(criterion_assessments__result=Assessment.NOT_MET)),
        status_rank=_status_rank(),
    )
    if filters.criterion is None and filters.assessment:
        if filters.assessment == Assessment.MET:  # every criterion met
            qs = qs.filter(n_met__gte=criteria_count)
        elif filters.assessment == Assessment.NOT_MET:  # at least one not met
            qs = qs.filter(n_not_met__gt=0)
        else:  # at least one not assessed yet
            qs = qs.filter(n_met__lt=criteria_count - F("n_not_met"))
    descending = filters.sort.startswith("-")
    keys = SORTS.get(filters.sort.lstrip("-"), SORTS["submitted"])
    ordering = [(k.desc() if hasattr(k, "desc") else f"-{k}") if descending else k for k in keys]
    return qs.order_by(*ordering, "pk")


def with_assessments(applications: list[Application], criteria: list[Criterion]) -> list[Application]:
    """Attach ``results`` (one entry per criterion: met / not_met / unknown) to each row, in one query."""
    by_app: dict = defaultdict(dict)
    rows = CriterionAssessment.objects.filter(application__in=[a.pk for a in applications]).values_list(
        "application_id", "criterion_id", "result"
    )
    for application_id, criterion_id, result in rows:
        by_app[application_id][criterion_id] = result
    for application in applications:
        application.results = [by_app[application.pk].get(c.pk, Assessment.UNKNOWN) for c in criteria]
    return applications


def queue_nationalities(edition: Edition) -> list:
    """The nationalities present among the edition's applications (for the filter)."""
    from django_countries import countries

    codes = (
        Application.objects.filter(edition=edition)
        .exclude(nationality="")
        .order_by()
        .values_list("nationality", flat=True)
        .distinct()
    )
    return sorted(((code, countries.name(code)) for code in codes), key=lambda pair: pair[1])


# --- One application -------------------------------------------------------------------------------------


def visible_applications(*, user) -> QuerySet[Application]:
    visible = policy.filter(user, "application.view", Application.objects.all())
    return Application.objects.filter(pk__in=visible.values("pk")).select_related(
        "applicant", "edition__programme", "edition__admission_framework__reviewing_institution", "edition__curriculum"
    ).prefetch_related("edition__programme__texts", "edition__programme__partners")


def application_detail(application: Application) -> Application:
    """The application with everything the detail page shows."""
    return (
        Application.objects.select_related(
            "applicant", "edition__programme", "edition__admission_framework__reviewing_institution"
        )
        .prefetch_related(
            "edition__programme__texts",
            "edition__programme__partners",
            "documents__criterion",
            Prefetch("messages", queryset=ApplicationMessage.objects.select_related("author")),
            Prefetch("exemptions", queryset=ExemptionRequest.objects.select_related("course", "decided_by")),
        )
        .get(pk=application.pk)
    )


def possible_duplicates(application: Application) -> QuerySet[Application]:
    """Other applications of the same edition with the same email, or the same name and date of birth."""
    same_person = Q(email__iexact=application.email)
    if application.date_of_birth:
        same_person |= Q(
            given_names__iexact=application.given_names,
            family_names__iexact=application.family_names,
            date_of_birth=application.date_of_birth,
        )
    return (
        Application.objects.filter(edition_id=application.edition_id)
        .exclude(pk=application.pk)
        .exclude(status=S.DRAFT)
        .filter(same_person)
        .order_by("submitted_at")
    )


def registrations(enrolment) -> QuerySet[InstitutionRegistration]:
    return enrolment.registrations.select_related("institution").order_by("institution__short_name")


# --- Dashboard -------------------------------------------------------------------------------------------


def editions_to_review(*, user) -> list[Edition]:
    """Editions reviewed by an institution where ``user`` is a student administrator, with open work counts."""
    actor = policy.actor_for(user)
    institutions = actor.institutions_with_role("student_admin")
    if not institutions:
        return []
    return list(
        Edition.objects.filter(admission_framework__reviewing_institution_id__in=institutions)
        .annotate(
            n_submitted=Count("applications", filter=Q(applications__status=S.SUBMITTED)),
            n_under_review=Count("applications", filter=Q(applications__status=S.UNDER_REVIEW)),
        )
        .filter(Q(n_submitted__gt=0) | Q(n_under_review__gt=0) | Q(status="open"))
        .select_related("programme")
        .prefetch_related("programme__texts")
        .order_by("-n_submitted", "-starts_on")[:20]
    )


def exemptions_to_decide(*, user) -> list[ExemptionRequest]:
    """Open exemption requests of the programmes (exam board) or courses (examiner) of ``user``."""
    actor = policy.actor_for(user)
    programmes = actor.targets_with_role("exam_board")
    courses = actor.targets_with_role("examiner")
    if not programmes and not courses:
        return []
    return list(
        ExemptionRequest.objects.filter(status=ExemptionStatus.REQUESTED)
        .filter(Q(application__edition__programme_id__in=programmes) | Q(course_id__in=courses))
        .select_related("application", "course")
        .order_by("created_at")[:20]
    )

"""Recruitment (D9): target segments, campaigns and their tracked links, page visits, and the funnel per edition.

Attribution is by campaign code, the same way everywhere. A campaign's tracked link opens the public programme
page with ``utm_campaign=<code>``; the page counts the visit under that campaign (``quality.middleware``) and
carries the parameters onto its Apply link (``programmes.views_public``); admissions stores them on the application
it starts (``Application.utm_campaign``). A code is matched without regard to case and only among the campaigns of
the programme whose page was visited or whose edition was applied to; anything else (no code, an unknown code, a
code of another programme's campaign) counts as "no campaign / direct".

The funnel of an edition, per segment (through its campaigns), plus "direct" and a total:

visits
    views of the programme page on the days of the edition's application window (``application_opens_at`` to
    ``application_closes_at``, as dates in ``settings.TIME_ZONE``; visits are counted per day, so both boundary
    days count in full, and editions whose windows overlap share those days' visits);
started
    applications to the edition, in any status (drafts and withdrawn ones included);
submitted
    applications with ``submitted_at`` set;
admitted
    applications that were admitted at some point: their status is one that only an admission leads to
    (``EVER_ADMITTED``, derived from ``APPLICATION_TRANSITIONS``), or they have an enrolment. An application
    withdrawn after its offer but before enrolment is not recognisable any more and is not counted;
enrolled
    applications with an ``Enrolment``;
awarded
    enrolments with an ``Award`` (certification), revoked or not.

Each stage implies the ones before it (an application imported as enrolled without a submission date counts as
submitted too), so stage counts never grow along the funnel, except visits → started: an application may start
without a counted visit (a bot-like browser, a direct link to the Apply page, a bulk import).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from admissions.api import APPLICATION_TRANSITIONS, Application, ApplicationStatus, Enrolment
from certification.api import Award
from consortium.api import Consortium, DomainError, audit, policy, save_validated
from programmes.api import Edition, Programme

from .models import CAMPAIGN_CODE_MAX, CAMPAIGN_CODE_MIN, CAMPAIGN_CODE_PATTERN, Campaign, PageVisit, Segment
from .saving import record, save_checked

Actor = policy.Actor
S = ApplicationStatus

# --- Segments --------------------------------------------------------------------------------------------------

#: The segments a consortium starts with (D9), created the first time its segments are asked for.
DEFAULT_SEGMENTS: tuple[tuple[str, str], ...] = (
    ("Senior Expert", "Experienced professionals deepening or updating their expertise in their own field, often "
                      "sponsored by their employer."),
    ("Senior Explorer", "Experienced professionals moving into a new field or role, building on what they already "
                        "know."),
    ("Junior Starter", "Recent graduates and early-career learners acquiring the skills to enter the field."),
)
SEGMENT_FIELDS = ("name", "description", "position", "active")


def _segment_defaults_create(consortium_id) -> None:
    """Create the default segments of a consortium that has none (safe when two requests do it at once: the
    unique name per consortium lets one win and the other read its rows)."""
    with transaction.atomic():
        if Segment.objects.filter(consortium_id=consortium_id).exists():
            return
        for position, (name, description) in enumerate(DEFAULT_SEGMENTS):
            try:
                with transaction.atomic():
                    Segment.objects.create(consortium_id=consortium_id, name=name, description=description,
                                           position=position)
            except IntegrityError:
                continue  # created by a concurrent first use


def segments(*, consortium: Consortium, include_archived: bool = False) -> list[Segment]:
    """The consortium's segments in their order; the defaults (``DEFAULT_SEGMENTS``) are created on first use,
    i.e. when the consortium has no segment at all (archived ones count, so archiving every default does not
    bring them back)."""
    _segment_defaults_create(consortium.pk)
    queryset = Segment.objects.filter(consortium=consortium)
    if not include_archived:
        queryset = queryset.filter(active=True)
    return list(queryset.order_by("position", "name"))


@transaction.atomic
def segment_create(*, actor, consortium: Consortium, data: Mapping[str, Any]) -> Segment:
    policy.require(actor, "segment.manage", consortium)
    _segment_defaults_create(consortium.pk)  # the defaults come first, whatever the first action is
    segment = Segment(consortium=consortium)
    if "position" not in data:
        last = Segment.objects.filter(consortium=consortium).order_by("-position").values_list("position", flat=True)
        segment.position = (last.first() or 0) + 1
    for name in SEGMENT_FIELDS:
        if name in data:
            setattr(segment, name, data[name])
    save_validated(segment)
    audit.record(actor, "segment.created", segment, audit.snapshot(segment, SEGMENT_FIELDS),
                 consortium_id=consortium.pk)
    return segment


@transaction.atomic
def segment_update(*, actor, segment: Segment, data: Mapping[str, Any]) -> Segment:
    """Change a segment's name, description, position, or archive it (``active`` False) or bring it back."""
    segment = Segment.objects.select_for_update().select_related("consortium").get(pk=segment.pk)
    policy.require(actor, "segment.manage", segment)
    before = audit.snapshot(segment, SEGMENT_FIELDS)
    for name in SEGMENT_FIELDS:
        if name in data:
            setattr(segment, name, data[name])
    save_validated(segment)
    changes = audit.diff(before, audit.snapshot(segment, SEGMENT_FIELDS))
    if changes:
        audit.record(actor, "segment.updated", segment, changes, consortium_id=segment.consortium_id)
    return segment


# --- Campaigns -------------------------------------------------------------------------------------------------

CAMPAIGN_FIELDS = ("name", "code", "segment", "channel", "source", "edition", "description")
CAMPAIGN_CHANGEABLE = ("name", "segment", "channel", "source", "edition", "description")


def _campaign_errors(campaign: Campaign, *, segment_chosen: bool) -> dict[str, list[str]]:
    """The checks with a message for a person, before the model's own validation (``segment_chosen``: the
    segment is being set now, so it must be active)."""
    errors: dict[str, list[str]] = {}
    code = campaign.code or ""
    if len(code) < CAMPAIGN_CODE_MIN:
        errors["code"] = [_("The code needs at least %(n)d characters.") % {"n": CAMPAIGN_CODE_MIN}]
    elif len(code) > CAMPAIGN_CODE_MAX:
        errors["code"] = [_("The code has at most %(n)d characters.") % {"n": CAMPAIGN_CODE_MAX}]
    elif not CAMPAIGN_CODE_PATTERN.match(code):
        errors["code"] = [_("Use lower-case letters, digits and single hyphens between them (e.g. "
                            "'spring-2027-linkedin'), no spaces or other characters.")]
    if segment_chosen and Segment.objects.filter(pk=campaign.segment_id, active=False).exists():
        errors["segment"] = [_("This segment is archived; choose an active one.")]
    return errors


def _campaign_save(campaign: Campaign, *, segment_chosen: bool) -> None:
    save_checked(campaign, _campaign_errors(campaign, segment_chosen=segment_chosen))


def _snapshot(campaign: Campaign) -> dict[str, Any]:
    return {**audit.snapshot(campaign, ("name", "code", "channel", "source", "description")),
            "segment": str(campaign.segment_id) if campaign.segment_id else None,
            "edition": str(campaign.edition_id) if campaign.edition_id else None}


@transaction.atomic
def campaign_create(*, actor, programme: Programme, data: Mapping[str, Any]) -> Campaign:
    """A campaign of ``programme``. ``data``: ``name``, ``code``, ``segment`` (of the programme's consortium),
    ``channel`` (``Channel``), optionally ``source``, ``edition`` (of the programme) and ``description``."""
    policy.require(actor, "recruitment.manage", programme)
    campaign = Campaign(programme=programme)
    for name in CAMPAIGN_FIELDS:
        if name in data:
            setattr(campaign, name, data[name])
    campaign.code = (campaign.code or "").strip()
    campaign.source = (campaign.source or "").strip()
    _campaign_save(campaign, segment_chosen=True)
    record(actor, "campaign.created", campaign, campaign.programme, _snapshot(campaign))
    return campaign


@transaction.atomic
def campaign_update(*, actor, campaign: Campaign, data: Mapping[str, Any]) -> Campaign:
    """Change what a campaign is (name, segment, channel, source, edition, description). Its code never changes:
    its links are out there, and its visits and applications are attributed by it."""
    campaign = Campaign.objects.select_for_update().select_related("programme", "segment").get(pk=campaign.pk)
    policy.require(actor, "recruitment.manage", campaign)
    if "code" in data and (data["code"] or "").strip() != campaign.code:
        raise DomainError(_("The code of a campaign cannot change: its links are already published and its visits "
                            "and applications are counted by it. Create a new campaign instead."))
    before, previous_segment = _snapshot(campaign), campaign.segment_id
    for name in CAMPAIGN_CHANGEABLE:
        if name in data:
            setattr(campaign, name, data[name])
    campaign.source = (campaign.source or "").strip()
    _campaign_save(campaign, segment_chosen=campaign.segment_id != previous_segment)
    changes = audit.diff(before, _snapshot(campaign))
    if changes:
        record(actor, "campaign.updated", campaign, campaign.programme, changes)
    return campaign


def campaign_link(campaign: Campaign, *, absolute: bool = True) -> str:
    """The campaign's tracked link: the public programme page with ``utm_source`` (the source, else the channel),
    ``utm_medium`` (the channel) and ``utm_campaign`` (the code), the parameters the page passes to its Apply
    link. Absolute (``settings.PUBLIC_BASE_URL``) unless ``absolute`` is False."""
    path = reverse("programme-public", args=[campaign.programme.code])
    query = urlencode([("utm_source", campaign.utm_source), ("utm_medium", campaign.utm_medium),
                       ("utm_campaign", campaign.code)])
    return f"{settings.PUBLIC_BASE_URL if absolute else ''}{path}?{query}"


def campaigns(*, programme: Programme) -> list[Campaign]:
    return list(Campaign.objects.filter(programme=programme).select_related("segment", "edition")
                .order_by("segment__position", "code"))


# --- Page visits -----------------------------------------------------------------------------------------------


def campaign_code_from(value: str | None) -> str | None:
    """A ``utm_campaign`` value as a campaign code to look up, or None when it cannot be one (empty, too long,
    not in the code format): arbitrary input never reaches the database."""
    code = (value or "").strip().lower()
    if not code or len(code) > CAMPAIGN_CODE_MAX or not CAMPAIGN_CODE_PATTERN.match(code):
        return None
    return code


def _increment(*, programme_id, campaign_id, day: dt.date) -> None:
    """One more visit on the counter row, in the database (``count = count + 1``), so that concurrent increments
    never lose one. The first visit of the day creates the row; when another request created it in the meantime
    the unique constraint refuses ours and we increment theirs."""
    key = {"programme_id": programme_id, "campaign_id": campaign_id, "day": day}
    with transaction.atomic():
        if PageVisit.objects.filter(**key).update(count=F("count") + 1):
            return
        try:
            with transaction.atomic():
                PageVisit.objects.create(**key, count=1)
        except IntegrityError:
            PageVisit.objects.filter(**key).update(count=F("count") + 1)


def visit_record(*, programme_code: str, utm_campaign: str | None = None, day: dt.date | None = None) -> bool:
    """Count one visit of the public page of the programme ``programme_code`` (today unless ``day``), under the
    programme's campaign whose code is ``utm_campaign``, else under no campaign. False when there is no such
    programme. Two queries: the look-up (programme and campaign together) and the increment."""
    code = campaign_code_from(utm_campaign)
    programmes = Programme.objects.filter(code=programme_code)
    if code is None:
        programme_id, campaign_id = programmes.values_list("pk", flat=True).first(), None
    else:
        campaign = Campaign.objects.filter(programme=OuterRef("pk"), code=code).values("pk")[:1]
        programme_id, campaign_id = (programmes.annotate(campaign_pk=Subquery(campaign))
                                     .values_list("pk", "campaign_pk").first() or (None, None))
    if programme_id is None:
        return False
    _increment(programme_id=programme_id, campaign_id=campaign_id, day=day or timezone.localdate())
    return True


def visits_by_day(*, programme: Programme, first: dt.date, last: dt.date) -> list[tuple[dt.date, int]]:
    """Visits of the programme's page per day from ``first`` to ``last`` (every day, zeros included)."""
    counts = dict(PageVisit.objects.filter(programme=programme, day__range=(first, last)).order_by()
                  .values("day").annotate(n=Sum("count")).values_list("day", "n"))
    days = (last - first).days + 1
    return [(first + dt.timedelta(days=i), counts.get(first + dt.timedelta(days=i), 0)) for i in range(max(days, 0))]


# --- The funnel ------------------------------------------------------------------------------------------------


def _implied_by(status: str, transitions: Mapping[str, set[str]], start: str) -> frozenset[str]:
    """The statuses that only a passage through ``status`` leads to from ``start``: every status minus those
    reachable from ``start`` when ``status`` is taken out of the graph."""
    seen, todo = {start}, [start]
    while todo:
        for following in transitions.get(todo.pop(), ()):
            if following != status and following not in seen:
                seen.add(following)
                todo.append(following)
    return frozenset(set(transitions) - seen)


#: Statuses that say an application was admitted at some point: admitted, then offer accepted / declined / lapsed,
#: awaiting payment, enrolled, suspended, completed. Not withdrawn (also reachable without an admission) nor
#: waitlisted or rejected (decisions of their own). Derived from the transition table, so it follows its changes.
EVER_ADMITTED: frozenset[str] = _implied_by(S.ADMITTED, APPLICATION_TRANSITIONS, S.DRAFT)

STAGES: tuple[tuple[str, Any], ...] = (
    ("visits", gettext_lazy("Page visits")),
    ("started", gettext_lazy("Started applications")),
    ("submitted", gettext_lazy("Submitted")),
    ("admitted", gettext_lazy("Admitted")),
    ("enrolled", gettext_lazy("Enrolled")),
    ("awarded", gettext_lazy("Awarded")),
)
STAGE_KEYS = tuple(key for key, _label in STAGES)


def rate(part: int, whole: int) -> float | None:
    """``part / whole``, or None when ``whole`` is 0 (no rate rather than a division by zero)."""
    return part / whole if whole else None


@dataclass(frozen=True)
class Stage:
    key: str
    label: str
    count: int
    #: This stage's count over the previous stage's (None for the visits, or when the previous stage is 0).
    rate_from_previous: float | None
    #: This stage's count over the visits (None for the visits themselves, or when there were none).
    rate_from_visits: float | None


@dataclass(frozen=True)
class FunnelRow:
    """One line of the funnel: a segment (with its campaigns), a campaign, "no campaign / direct", or the total."""

    kind: str  # "segment", "campaign", "direct" or "total"
    label: str
    stages: tuple[Stage, ...]
    segment: Segment | None = None
    campaign: Campaign | None = None
    campaigns: tuple[FunnelRow, ...] = ()

    def __getitem__(self, key: str) -> Stage:
        return self.stages[STAGE_KEYS.index(key)]

    @property
    def counts(self) -> dict[str, int]:
        return {stage.key: stage.count for stage in self.stages}


@dataclass(frozen=True)
class Funnel:
    """The recruitment funnel of one edition: a row per segment of the consortium (active ones, and archived ones
    that have campaigns for this programme), "no campaign / direct", and the total."""

    edition: Edition
    first_day: dt.date
    last_day: dt.date
    segments: tuple[FunnelRow, ...]
    direct: FunnelRow
    total: FunnelRow
    stage_labels: tuple[tuple[str, str], ...] = field(
        default_factory=lambda: tuple((key, str(label)) for key, label in STAGES))

    @property
    def rows(self) -> tuple[FunnelRow, ...]:
        return (*self.segments, self.direct, self.total)


def _stages(counts: Mapping[str, int]) -> tuple[Stage, ...]:
    result, previous = [], None
    visits = counts.get("visits", 0)
    for key, label in STAGES:
        count = counts.get(key, 0)
        result.append(Stage(
            key=key, label=str(label), count=count,
            rate_from_previous=None if previous is None else rate(count, previous),
            rate_from_visits=None if key == "visits" else rate(count, visits)))
        previous = count
    return tuple(result)


def _add(*counts: Mapping[str, int]) -> dict[str, int]:
    return {key: sum(c.get(key, 0) for c in counts) for key in STAGE_KEYS}


def window_days(edition: Edition) -> tuple[dt.date, dt.date]:
    """The days of the edition's application window, in ``settings.TIME_ZONE`` (the days visits are counted on)."""
    return timezone.localdate(edition.application_opens_at), timezone.localdate(edition.application_closes_at)


def _application_counts(edition: Edition) -> dict[Any, dict[str, int]]:
    """Per campaign id (None: no campaign), the applications to ``edition`` at each stage: one query."""
    campaign = Campaign.objects.filter(programme_id=edition.programme_id,
                                       code=Lower(OuterRef("utm_campaign"))).values("pk")[:1]
    enrolled = Q(has_enrolment=True) | Q(has_award=True)
    admitted = Q(status__in=EVER_ADMITTED) | enrolled
    submitted = Q(submitted_at__isnull=False) | admitted
    rows = (
        Application.objects.filter(edition_id=edition.pk)
        .annotate(campaign_pk=Subquery(campaign),
                  has_enrolment=Exists(Enrolment.objects.filter(application=OuterRef("pk"))),
                  has_award=Exists(Award.objects.filter(enrolment__application=OuterRef("pk"))))
        .order_by()
        .values("campaign_pk")
        .annotate(started=Count("pk"), submitted=Count("pk", filter=submitted),
                  admitted=Count("pk", filter=admitted), enrolled=Count("pk", filter=enrolled),
                  awarded=Count("pk", filter=Q(has_award=True)))
    )
    return {row["campaign_pk"]: {key: row[key] for key in STAGE_KEYS[1:]} for row in rows}


def funnel(*, edition: Edition) -> Funnel:
    """The edition's funnel (see the module's docstring for each stage). Four queries, whatever the number of
    visits, applications, campaigns or segments: segments, visits per campaign, applications per campaign (counted
    by the database), campaigns.

    The campaigns listed are the programme's campaigns for any edition or for this one, and a campaign for another
    edition only when it brought this edition visits or applications (so that no count goes missing from its
    segment and the total): the table does not grow with every edition's campaigns."""
    first, last = window_days(edition)
    segment_list = list(
        Segment.objects.filter(consortium__programmes=edition.programme_id)
        .order_by("position", "name"))
    visits = dict(
        PageVisit.objects.filter(programme_id=edition.programme_id, day__range=(first, last)).order_by()
        .values("campaign_id").annotate(n=Sum("count")).values_list("campaign_id", "n"))
    applications = _application_counts(edition)
    counted = {pk for pk in (*visits, *applications) if pk is not None}
    campaign_list = list(
        Campaign.objects.filter(Q(edition__isnull=True) | Q(edition_id=edition.pk) | Q(pk__in=counted),
                                programme_id=edition.programme_id)
        .order_by("code"))

    def counts_of(campaign_id) -> dict[str, int]:
        return {"visits": visits.get(campaign_id, 0), **applications.get(campaign_id, {})}

    by_segment: dict[Any, list[Campaign]] = defaultdict(list)
    for campaign in campaign_list:
        by_segment[campaign.segment_id].append(campaign)
    segment_rows = []
    for segment in segment_list:
        mine = by_segment.get(segment.pk, [])
        if not segment.active and not mine:
            continue
        campaign_rows = []
        for campaign in mine:
            campaign.segment = segment
            counts = counts_of(campaign.pk)
            campaign_rows.append(FunnelRow(kind="campaign", label=campaign.name, stages=_stages(counts),
                                           segment=segment, campaign=campaign))
        total = _add(*(row.counts for row in campaign_rows))
        segment_rows.append(FunnelRow(kind="segment", label=segment.name, stages=_stages(total), segment=segment,
                                      campaigns=tuple(campaign_rows)))
    direct = FunnelRow(kind="direct", label=_("No campaign / direct"), stages=_stages(_add(counts_of(None))))
    total = FunnelRow(kind="total", label=_("Total"),
                      stages=_stages(_add(direct.counts, *(row.counts for row in segment_rows))))
    return Funnel(edition=edition, first_day=first, last_day=last, segments=tuple(segment_rows), direct=direct,
                  total=total)


# --- What the recruitment pages read ---------------------------------------------------------------------------


def segment_list(*, consortium: Consortium) -> list[Segment]:
    """Every segment of the consortium, archived ones included, each with ``campaign_count`` (the campaigns that
    aim at it, in any programme): one query after the defaults' first creation."""
    _segment_defaults_create(consortium.pk)
    return list(Segment.objects.filter(consortium=consortium).annotate(campaign_count=Count("campaigns"))
                .order_by("position", "name"))


def funnel_editions(programme: Programme) -> list[Edition]:
    """The programme's editions, the latest application window first (the funnel's default edition)."""
    return list(Edition.objects.filter(programme=programme).order_by("-application_opens_at", "-starts_on"))


def visit_days(edition: Edition, *, today: dt.date | None = None) -> tuple[dt.date, dt.date] | None:
    """The days of the edition's application window on which visits can have been counted so far: the whole
    window once it has closed, up to ``today`` while it is open, None before it opens (no day has come yet)."""
    first, last = window_days(edition)
    today = today or timezone.localdate()
    if today < first:
        return None
    return first, min(last, today)


def campaign_rows(result: Funnel) -> dict[Any, FunnelRow]:
    """The funnel's campaign rows by campaign id."""
    return {row.campaign.pk: row for segment in result.segments for row in segment.campaigns}


def _rate_cell(value: float | None) -> float | str:
    return "" if value is None else round(value, 4)


def funnel_csv_rows(result: Funnel) -> list[list[Any]]:
    """The funnel as a table, the header first: one row per segment, then its campaigns, then "no campaign /
    direct" and the total; each stage's count, then each stage's rate from the stage before, then from the visits
    (from "submitted" on: the started applications' rate from the visits is their rate from the stage before);
    rates are fractions rounded to 4 decimals, empty where there is no rate."""
    labels = [str(label) for _key, label in STAGES]
    header = [_("Row"), _("Segment"), _("Campaign"), _("Code"), _("Channel"), _("Source"), *labels,
              *(_("%(stage)s / %(previous)s") % {"stage": stage, "previous": previous}
                for previous, stage in pairwise(labels)),
              *(_("%(stage)s / %(visits)s") % {"stage": stage, "visits": labels[0]} for stage in labels[2:])]

    def line(kind: str, row: FunnelRow, segment: str = "", campaign: Campaign | None = None) -> list[Any]:
        return [kind, segment, campaign.name if campaign else "", campaign.code if campaign else "",
                campaign.get_channel_display() if campaign else "", campaign.utm_source if campaign else "",
                *(stage.count for stage in row.stages),
                *(_rate_cell(stage.rate_from_previous) for stage in row.stages[1:]),
                *(_rate_cell(stage.rate_from_visits) for stage in row.stages[2:])]

    rows = [header]
    for segment in result.segments:
        rows.append(line(_("Segment"), segment, segment.label))
        rows += [line(_("Campaign"), row, segment.label, row.campaign) for row in segment.campaigns]
    rows.append(line(_("No campaign / direct"), result.direct))
    rows.append(line(_("Total"), result.total))
    return rows

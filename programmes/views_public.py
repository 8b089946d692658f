"""The public programme catalogue (D3): the list of published programmes and each programme's public page.

Anyone may read these pages (``policy.PUBLIC``); only programmes whose status is "published" are shown.
The page of a programme shows every item of the communication checklist (``services.checklist``), in the
visitor's language when a translation exists, else in the programme's primary language.
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.conf import settings
from django.db.models import Prefetch, Q
from django.http import Http404
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from consortium.api import Institution, MembershipRole, policy
from consortium.web import PaginatedListView, PolicyTemplateView

from .models import (
    Course,
    CurriculumStatus,
    DeliveryMode,
    Edition,
    EditionStatus,
    OutcomeCategory,
    Programme,
    ProgrammePartner,
    ProgrammeStatus,
    ProgrammeText,
    StackingLink,
)
from .services import accepts_applications

#: Query-string parameters of a campaign, carried from the programme page onto the apply link.
CAMPAIGN_PARAMETERS = ("utm_source", "utm_medium", "utm_campaign")
CAMPAIGN_VALUE_MAX = 200
#: Editions shown on the public page (and looked at in the catalogue).
UPCOMING_EDITIONS = (EditionStatus.PLANNED, EditionStatus.OPEN)


def _visitor_language(request) -> str:
    return getattr(request, "LANGUAGE_CODE", None) or get_language() or settings.LANGUAGE_CODE


def _language_name(code: str) -> str:
    return str(dict(settings.LANGUAGES).get(code, code))


def _display_zone(name: str) -> str:
    """The edition's time zone when it is a known IANA name, else UTC (a typo must not break the page)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return "UTC"
    return name


def _partners_in_order(programme: Programme) -> list[ProgrammePartner]:
    """Lead institution first, then partners, then associated partners; by short name within a role."""
    rank = {role: n for n, role in enumerate(MembershipRole.values)}
    return sorted(programme.partners.all(), key=lambda p: (rank.get(p.role, len(rank)), p.institution.short_name))


def _published():
    return Programme.objects.filter(status=ProgrammeStatus.PUBLISHED)


# --- Catalogue ----------------------------------------------------------------------------------------


class CatalogueFilterForm(forms.Form):
    """The catalogue's search and filters. Invalid values are ignored (and said so), never an error page."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Title, code or qualification")}),
    )
    eqf = forms.TypedChoiceField(
        label=_("EQF level"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any")), *[(n, str(n)) for n in range(5, 9)]],
    )
    ects_min = forms.DecimalField(
        label=_("ECTS from"),
        required=False,
        min_value=Decimal("0"),
        max_value=Decimal("999"),
        widget=forms.NumberInput(attrs={"step": "0.1"}),
    )
    ects_max = forms.DecimalField(
        label=_("ECTS to"),
        required=False,
        min_value=Decimal("0"),
        max_value=Decimal("999"),
        widget=forms.NumberInput(attrs={"step": "0.1"}),
    )
    mode = forms.ChoiceField(
        label=_("Mode of delivery"), required=False, choices=[("", _("Any")), *DeliveryMode.choices]
    )
    lang = forms.ChoiceField(label=_("Language"), required=False, choices=[("", _("Any")), *settings.LANGUAGES])
    partner = forms.UUIDField(label=_("Partner institution"), required=False, widget=forms.Select)

    def __init__(self, *args, partners=(), **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["partner"].widget.choices = [("", _("Any")), *[(str(i.pk), i.short_name) for i in partners]]

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("ects_min"), cleaned.get("ects_max")
        if low is not None and high is not None and low > high:
            self.add_error("ects_max", _("The upper bound is below the lower bound."))
        return cleaned


class CatalogueView(PaginatedListView):
    """Published programmes, searchable and filterable, 24 per page, in a constant number of queries."""

    policy_action = policy.PUBLIC
    template_name = "programmes/public/catalogue.html"
    paginate_by = 24

    def get_form(self) -> CatalogueFilterForm:
        if not hasattr(self, "_form"):
            partners = (
                Institution.objects.filter(programme_partnerships__programme__status=ProgrammeStatus.PUBLISHED)
                .distinct()
                .order_by("short_name")
                .only("id", "short_name")
            )
            self._form = CatalogueFilterForm(self.request.GET or None, partners=partners)
            self._form.is_valid()
        return self._form

    def filters(self) -> dict:
        """The filters that passed validation (an invalid one is left out)."""
        form = self.get_form()
        data = getattr(form, "cleaned_data", {}) if form.is_bound else {}
        return {k: v for k, v in data.items() if v not in (None, "")}

    def get_queryset(self):
        f = self.filters()
        qs = _published()
        if f.get("q"):
            q = f["q"].strip()
            texts = ProgrammeText.objects.filter(Q(title__icontains=q) | Q(qualification_name__icontains=q))
            qs = qs.filter(Q(code__icontains=q) | Q(id__in=texts.values("programme_id")))
        if f.get("eqf"):
            qs = qs.filter(eqf_level=f["eqf"])
        if f.get("ects_min") is not None:
            qs = qs.filter(ects__gte=f["ects_min"])
        if f.get("ects_max") is not None:
            qs = qs.filter(ects__lte=f["ects_max"])
        if f.get("mode"):
            qs = qs.filter(delivery_mode=f["mode"])
        if f.get("lang"):
            # ``languages`` is a JSON list of codes; its text holds each code in double quotes, both on SQLite
            # and on PostgreSQL (jsonb::text), so the quoted code matches exactly one element, not a substring.
            qs = qs.filter(languages__icontains=f'"{f["lang"]}"')
        if f.get("partner"):
            qs = qs.filter(id__in=ProgrammePartner.objects.filter(institution_id=f["partner"]).values("programme_id"))
        return qs.order_by("code").prefetch_related(
            "texts",
            Prefetch("partners", queryset=ProgrammePartner.objects.select_related("institution")),
            Prefetch(
                "editions",
                queryset=Edition.objects.filter(status__in=UPCOMING_EDITIONS).order_by("application_opens_at"),
                to_attr="upcoming_editions",
            ),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        language = _visitor_language(self.request)
        now = timezone.now()
        for programme in context["object_list"]:
            text = programme.text(language)
            programme.display_title = text.title if text else programme.code
            programme.display_qualification = text.qualification_name if text else ""
            programme.display_language = text.language if text else programme.primary_language
            programme.is_open = any(accepts_applications(e, now) for e in programme.upcoming_editions)
            programme.next_opening = next(
                (e.application_opens_at for e in programme.upcoming_editions if e.application_opens_at > now), None
            )
            programme.partner_names = [p.institution.short_name for p in _partners_in_order(programme)]
        form = self.get_form()
        context.update(
            form=form,
            filtered=bool(self.filters()),
            ignored=[
                (form.fields[name].label if name in form.fields else "", errors) for name, errors in form.errors.items()
            ]
            if form.is_bound
            else [],
            visitor_language=language,
        )
        return context


# --- Public page of a programme ------------------------------------------------------------------------


class ProgrammePublicView(PolicyTemplateView):
    """A published programme's information page: every item of the communication checklist (D3)."""

    policy_action = policy.PUBLIC
    template_name = "programmes/public/detail.html"

    def get_programme(self) -> Programme:
        queryset = (
            _published()
            .select_related("issuing_institution", "lead_institution")
            .prefetch_related(
                "texts",
                Prefetch("partners", queryset=ProgrammePartner.objects.select_related("institution")),
                "outcomes",
            )
        )
        programme = queryset.filter(code=self.kwargs["code"]).first()
        if programme is None:
            raise Http404(_("No published programme with this code."))
        return programme

    def campaign_query(self) -> str:
        """The campaign parameters of this page's query string, url-encoded (empty when there are none)."""
        found = []
        for name in CAMPAIGN_PARAMETERS:
            value = self.request.GET.get(name, "").strip()
            if value:
                found.append((name, value[:CAMPAIGN_VALUE_MAX]))
        return urlencode(found)

    def editions(self, programme: Programme) -> list[Edition]:
        now = timezone.now()
        editions = list(
            Edition.objects.filter(programme=programme, status__in=UPCOMING_EDITIONS).order_by(
                "starts_on", "intake_code"
            )
        )
        for edition in editions:
            edition.programme = programme  # accepts_applications reads the programme's status
            edition.accepting = accepts_applications(edition, now)
            edition.opens_later = not edition.accepting and edition.application_opens_at > now
            edition.display_zone = _display_zone(edition.time_zone)
        return editions

    @staticmethod
    def stacking(programme: Programme, language: str) -> tuple[list[dict], list[dict]]:
        """Published programmes this one stacks into, and published programmes that stack into this one."""
        into = (
            StackingLink.objects.filter(programme=programme, target__status=ProgrammeStatus.PUBLISHED)
            .select_related("target")
            .prefetch_related("target__texts")
            .order_by("target__code")
        )
        from_ = (
            StackingLink.objects.filter(target=programme, programme__status=ProgrammeStatus.PUBLISHED)
            .select_related("programme")
            .prefetch_related("programme__texts")
            .order_by("programme__code")
        )

        def row(other: Programme) -> dict:
            text = other.text(language)
            return {"code": other.code, "title": text.title if text else other.code, "ects": other.ects}

        return [row(link.target) for link in into], [row(link.programme) for link in from_]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        programme = self.get_programme()
        language = _visitor_language(self.request)
        text = programme.text(language)
        text_language = text.language if text else programme.primary_language
        curriculum = programme.curricula.filter(status=CurriculumStatus.APPROVED).order_by("-number").first()
        courses: list[Course] = (
            list(curriculum.courses.select_related("provider").order_by("position", "code")) if curriculum else []
        )
        outcomes = list(programme.outcomes.all())
        outcome_groups = [
            {"category": category, "label": label, "items": [o for o in outcomes if o.category == category]}
            for category, label in OutcomeCategory.choices
        ]
        stacks_into, stacked_from = self.stacking(programme, language)
        editions = self.editions(programme)
        provider = getattr(settings, "PROGRAMME_FEE_TABLES", "")
        fee_tables = import_string(provider)([e.pk for e in editions]) if provider else {}
        for edition in editions:
            edition.fee_table = fee_tables.get(edition.pk)
        low, high = programme.workload_hours
        context.update(
            programme=programme,
            text=text,
            title=text.title if text else programme.code,
            text_language=text_language,
            text_language_name=_language_name(text_language),
            visitor_language=language,
            visitor_language_name=_language_name(language),
            fallback=text_language != language,
            languages=[{"code": code, "name": _language_name(code)} for code in programme.languages or []],
            outcome_groups=[g for g in outcome_groups if g["items"]],
            has_outcomes=bool(outcomes),
            curriculum=curriculum,
            courses=courses,
            mandatory_ects=sum((c.ects for c in courses if c.mandatory), Decimal("0")),
            elective_courses=[c for c in courses if not c.mandatory],
            editions=editions,
            has_fee_tables=bool(fee_tables),
            partners=_partners_in_order(programme),
            stacks_into=stacks_into,
            stacked_from=stacked_from,
            external_degrees=[line.strip() for line in programme.external_stacking.splitlines() if line.strip()],
            workload_low=low,
            workload_high=high,
            hours_per_week=_hours_per_week(low, high, programme.duration_weeks),
            campaign_query=self.campaign_query(),
        )
        return context


def _hours_per_week(low: int, high: int, weeks: int | None) -> tuple[int, int] | None:
    """The notional weekly study time (range), from the workload spread over the duration."""
    if not weeks:
        return None
    return round(low / weeks), round(high / weeks)

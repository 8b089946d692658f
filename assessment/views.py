"""Assessment staff pages (D5): examination regulations and conversion tables, the assessments and examiners of
an edition, the examiners' grade grid and CSV upload, and the examination board's review, corrections, resits
and appeals.

Thin: each page loads its object through the programmes the user may see (404 otherwise), checks its policy
action on that object (403), and hands the work to one service. Refusals (``DomainError``, ``TransitionError``,
``ValidationError``) become messages or form errors; nothing half-done is saved.
"""

from __future__ import annotations

import secrets
import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from consortium.api import DomainError, Institution, audit
from consortium.web import (
    PaginatedListView,
    PolicyMixin,
    PolicyTemplateView,
    ServiceActionView,
    ServiceFormView,
    csv_download,
)
from programmes.api import Course, Edition, Programme

from . import exchange, forms, selectors, services
from .grading import proportional_mapping
from .models import (
    Appeal,
    AppealStatus,
    Assessment,
    EditionRegulation,
    ExamRegulation,
    Grade,
    GradingScale,
    RegulationStatus,
    ResultSheet,
    SheetStatus,
)

OPEN_SHEET = (SheetStatus.DRAFT, SheetStatus.RETURNED)


class AssessmentObjectMixin:
    """Loads the URL's object through the programmes the user may see (404 when invisible); the policy action is
    checked on ``policy_target()`` (the programme unless a view says otherwise)."""

    object_model = Programme
    #: How to get from the object to its programme.
    programme_path = ""
    related: tuple[str, ...] = ()

    def get_policy_object(self):
        if getattr(self, "object", None) is None:
            self.load_object()
        return self.policy_target()

    def load_object(self) -> None:
        visible = selectors.visible_programmes(self.request.user).values("pk")
        lookup = f"{self.programme_path}__in" if self.programme_path else "pk__in"
        queryset = self.object_model.objects.filter(**{lookup: visible})
        related = self.related or ((self.programme_path,) if self.programme_path else ())
        if related:
            queryset = queryset.select_related(*related)
        queryset = queryset.prefetch_related(f"{self.programme_path}__texts" if self.programme_path else "texts")
        self.object = get_object_or_404(queryset, pk=self.kwargs["pk"])
        self.programme = self.object
        for part in filter(None, self.programme_path.split("__")):
            self.programme = getattr(self.programme, part)

    def policy_target(self):
        return self.programme


class SheetMixin(AssessmentObjectMixin):
    object_model = ResultSheet
    programme_path = "edition__programme"
    related = ("edition__programme", "course__provider")

    def policy_target(self):
        return self.object

    def grid_url(self) -> str:
        return reverse("sheet-grid", args=[self.object.pk])


class EditionCourseMixin(AssessmentObjectMixin):
    """An edition and one course of its curriculum (``course_pk``; 404 when not in the curriculum)."""

    object_model = Edition
    programme_path = "programme"
    related = ("programme", "curriculum")

    def load_object(self) -> None:
        super().load_object()
        self.course = get_object_or_404(
            Course.objects.select_related("provider"), pk=self.kwargs["course_pk"], version_id=self.object.curriculum_id
        )

    def edition_url(self, *_args) -> str:
        return reverse("edition-assessments", args=[self.object.pk])

    def get_cancel_url(self) -> str:
        return self.edition_url()


class ActionView(ServiceActionView):
    """A POST button whose refusals, including validation errors, are shown as messages."""

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return HttpResponseRedirect(self.get_redirect_url())


# --- Home -------------------------------------------------------------------------------------------


class HomeView(PolicyTemplateView):
    """Where examiners, team leaders and board members start: their programmes, editions and the board queue."""

    policy_action = "programme.view"
    template_name = "assessment/staff/home.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        can_decide = self.can("results.decide")
        return {
            **super().get_context_data(**kwargs),
            "programmes": selectors.assessment_programmes(user),
            "can_decide": can_decide,
            "queue_count": selectors.board_queue(user).count() if can_decide else 0,
            "appeal_count": selectors.board_appeals(user).count() if can_decide else 0,
        }


# --- Regulations -------------------------------------------------------------------------------------


class RegulationListView(AssessmentObjectMixin, PolicyTemplateView):
    policy_action = "programme.view"
    template_name = "assessment/staff/regulations.html"

    def get_context_data(self, **kwargs):
        programme = self.programme
        can_edit = self.can("regulation.edit", programme)
        regulations = list(programme.exam_regulations.select_related("joint_scale"))
        approved = [r for r in regulations if r.status == RegulationStatus.APPROVED]
        editions = []
        for edition in selectors.regulation_editions(programme):
            link = getattr(edition, "exam_regulation", None)
            form = None
            if can_edit:
                form = forms.EditionRegulationForm(
                    programme=programme,
                    approved=approved,
                    initial={"regulation": link.regulation_id if link else None},
                    auto_id=f"id_{edition.pk}_%s",
                )
            editions.append((edition, link.regulation if link else None, form))
        return {
            **super().get_context_data(**kwargs),
            "programme": programme,
            "regulations": regulations,
            "has_draft": any(r.status == RegulationStatus.DRAFT for r in regulations),
            "editions": editions,
            "can_edit": can_edit,
        }


class RegulationCreateView(AssessmentObjectMixin, ServiceFormView):
    policy_action = "regulation.edit"
    form_class = forms.RegulationForm
    title = _("New version of the examination regulations")
    intro = _(
        "A new draft starts from the latest version, with its conversion tables; the exam board approves it "
        "before editions can run it."
    )
    success_message = _("Draft regulations created.")

    def get_initial(self):
        latest = self.programme.exam_regulations.order_by("-number").first()
        if latest is None:
            return {}
        return {name: getattr(latest, name) for name in services.REGULATION_FIELDS}

    def get_cancel_url(self) -> str:
        return reverse("regulation-list", args=[self.programme.pk])

    def perform(self, form):
        return services.regulation_create(actor=self.request.user, programme=self.programme, data=form.cleaned_data)

    def get_success_url_for(self, result):
        return reverse("regulation-detail", args=[result.pk])


class RegulationMixin(AssessmentObjectMixin):
    object_model = ExamRegulation
    programme_path = "programme"
    related = ("programme", "joint_scale")

    def regulation_url(self, *_args) -> str:
        return reverse("regulation-detail", args=[self.object.pk])

    def page_context(self, settings_form=None) -> dict:
        regulation, programme = self.object, self.programme
        draft = regulation.status == RegulationStatus.DRAFT
        can_edit = draft and self.can("regulation.edit", programme)
        tables = {t.institution_id: t for t in regulation.conversions.select_related("national_scale")}
        conversions = []
        for partner in programme.partners.select_related("institution").order_by("institution__short_name"):
            table = tables.get(partner.institution_id)
            rows = []
            if table:
                scale = table.national_scale.scale
                rows = [(g, table.mapping.get(g, "—"), scale.passes(g)) for g in scale.grades]
            conversions.append((partner.institution, table, rows))
        if settings_form is None and can_edit:
            settings_form = forms.RegulationForm(instance=regulation)
        return {
            "programme": programme,
            "regulation": regulation,
            "versions": programme.exam_regulations.all(),
            "form": settings_form,
            "conversions": conversions,
            "problems": services.regulation_problems(regulation) if draft else [],
            "can_edit": can_edit,
            "can_approve": draft and self.can("regulation.approve", programme),
            "editions": regulation.editions.select_related("edition"),
        }


class RegulationDetailView(RegulationMixin, PolicyTemplateView):
    policy_action = "programme.view"
    template_name = "assessment/staff/regulation.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **self.page_context()}


class RegulationUpdateView(RegulationMixin, ServiceFormView):
    policy_action = "regulation.edit"
    template_name = "assessment/staff/regulation.html"
    form_class = forms.RegulationForm
    success_message = _("Settings saved.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": ExamRegulation.objects.get(pk=self.object.pk)}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        return {**context, **self.page_context(settings_form=context["form"])}

    def perform(self, form):
        return services.regulation_update(actor=self.request.user, regulation=self.object, data=form.cleaned_data)

    def get_success_url_for(self, result):
        return self.regulation_url()


def _scale(value) -> GradingScale | None:
    try:
        return GradingScale.objects.filter(pk=uuid.UUID(str(value))).first()
    except ValueError:
        return None


class ConversionView(RegulationMixin, PolicyTemplateView):
    """One partner's conversion table: choose its national scale, prefill proportionally, edit, save."""

    policy_action = "regulation.edit"
    template_name = "assessment/staff/conversion.html"

    def setup_page(self) -> HttpResponse | None:
        self.institution = get_object_or_404(
            Institution.objects.filter(programme_partnerships__programme=self.programme),
            pk=self.kwargs["institution_pk"],
        )
        self.table = self.object.conversions.filter(institution=self.institution).select_related("national_scale")
        self.table = self.table.first()
        if self.object.status != RegulationStatus.DRAFT:
            messages.info(self.request, _("Approved regulations are frozen; start a new version to change them."))
            return HttpResponseRedirect(self.regulation_url())
        return None

    def get(self, request, *args, **kwargs):
        refused = self.setup_page()
        if refused:
            return refused
        national = _scale(request.GET.get("scale")) if request.GET.get("scale") else None
        if national is None and self.table is not None:
            national = self.table.national_scale
        if national is None:
            national = GradingScale.objects.filter(country=self.institution.country).order_by("name").first()
        initial, prefill_error = {}, ""
        if national is not None:
            joint = self.object.joint_scale.scale
            mapping = {}
            if request.GET.get("prefill"):
                try:
                    mapping = proportional_mapping(national.scale, joint)
                except ValueError as exc:
                    prefill_error = str(exc)
            elif self.table is not None and self.table.national_scale_id == national.pk:
                mapping = self.table.mapping
            initial = {f"g{i}": mapping.get(g, "") for i, g in enumerate(national.scale.grades)}
        form = self.mapping_form(national, initial=initial) if national else None
        context = self.get_context_data(form=form, national=national, prefill_error=prefill_error, **kwargs)
        return self.render_to_response(context)

    def post(self, request, *args, **kwargs):
        refused = self.setup_page()
        if refused:
            return refused
        national = _scale(request.POST.get("national_scale"))
        if national is None:
            messages.error(request, _("Choose the national grading scale first."))
            return HttpResponseRedirect(request.path)
        form = self.mapping_form(national, data=request.POST)
        if form.is_valid():
            try:
                services.conversion_set(
                    actor=request.user,
                    regulation=self.object,
                    institution=self.institution,
                    national_scale=national,
                    mapping=form.mapping(),
                )
            except (DomainError, ValidationError) as exc:
                _form_errors(form, exc)
            else:
                messages.success(
                    request, _("Conversion table of %(name)s saved.") % {"name": self.institution.short_name}
                )
                return HttpResponseRedirect(self.regulation_url() + "#conversions")
        return self.render_to_response(self.get_context_data(form=form, national=national, **kwargs))

    def mapping_form(self, national, **kwargs):
        return forms.ConversionForm(national=national, joint=self.object.joint_scale.scale, **kwargs)

    def get_context_data(self, **kwargs):
        national = kwargs.get("national")
        return {
            **super().get_context_data(**kwargs),
            "programme": self.programme,
            "regulation": self.object,
            "institution": self.institution,
            "table": self.table,
            "scale_form": forms.ScaleChoiceForm(initial={"scale": national.pk if national else None}),
        }


def _form_errors(form, exc: Exception) -> None:
    """A service refusal as errors of ``form`` (the fields it names, else the whole form)."""
    if isinstance(exc, DomainError):
        form.add_error(None, exc.message)
        details = exc.details.values() if isinstance(exc.details, dict) else [exc.details]
        for group in details:
            for reason in group:
                form.add_error(None, reason)
        return
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


class RegulationApproveView(RegulationMixin, ActionView):
    policy_action = "regulation.approve"
    success_message = _("Regulations approved: they are frozen and editions can run them.")

    def perform(self):
        services.regulation_approve(actor=self.request.user, regulation=self.object)

    def get_redirect_url(self):
        return self.regulation_url()


class EditionRegulationView(AssessmentObjectMixin, ServiceFormView):
    policy_action = "regulation.edit"
    object_model = Edition
    programme_path = "programme"
    form_class = forms.EditionRegulationForm
    success_message = _("The edition runs these regulations.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "programme": self.programme}

    def get_initial(self):
        link = EditionRegulation.objects.filter(edition=self.object).first()
        return {"regulation": link.regulation_id} if link else {}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "title": _("Regulations of %(e)s") % {"e": self.object}}

    def get_cancel_url(self) -> str:
        return self._safe_next() or reverse("regulation-list", args=[self.programme.pk])

    def perform(self, form):
        return services.edition_regulation_set(
            actor=self.request.user, edition=self.object, regulation=form.cleaned_data["regulation"]
        )

    def get_success_url_for(self, result):
        return self.get_cancel_url()


# --- Assessments of an edition ---------------------------------------------------------------------


class EditionAssessmentsView(AssessmentObjectMixin, PolicyTemplateView):
    policy_action = "programme.view"
    object_model = Edition
    programme_path = "programme"
    related = ("programme", "curriculum", "exam_regulation__regulation__joint_scale")
    template_name = "assessment/staff/edition.html"

    def get_context_data(self, **kwargs):
        edition, programme = self.object, self.programme
        can_configure = self.can("assessment.configure", programme)
        plans = selectors.edition_plan(edition)
        for plan in plans:
            plan.can_open = not plan.sheets and self.can(
                "grades.enter", ResultSheet(edition=edition, course=plan.course)
            )
            plan.sheet_rows = [
                (sheet, self.can("grades.enter", sheet), self.can("grades.view", sheet)) for sheet in plan.sheets
            ]
            latest = plan.sheets[-1] if plan.sheets else None
            plan.can_resit = bool(can_configure and latest and latest.status == SheetStatus.APPROVED)
            plan.resit_sheet = latest
        return {
            **super().get_context_data(**kwargs),
            "edition": edition,
            "programme": programme,
            "link": getattr(edition, "exam_regulation", None),
            "plans": plans,
            "weight_problems": services.weight_problems(edition),
            "can_configure": can_configure,
            "can_edit_regulation": self.can("regulation.edit", programme),
            "can_export": self.can("edition.export", edition),
        }


class AssessmentCreateView(EditionCourseMixin, ServiceFormView):
    policy_action = "assessment.configure"
    form_class = forms.AssessmentForm
    success_message = _("Component added.")

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "title": _("Add a component to %(course)s") % {"course": self.course},
        }

    def perform(self, form):
        return services.assessment_save(
            actor=self.request.user, edition=self.object, course=self.course, data=form.cleaned_data
        )

    def get_success_url_for(self, result):
        return self.edition_url() + f"#course-{self.course.pk}"


class AssessmentEditView(AssessmentObjectMixin, ServiceFormView):
    policy_action = "assessment.configure"
    object_model = Assessment
    programme_path = "edition__programme"
    related = ("edition__programme", "course")
    form_class = forms.AssessmentForm
    success_message = _("Component saved.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": Assessment.objects.get(pk=self.object.pk)}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "title": _("Edit %(a)s") % {"a": self.object}}

    def get_cancel_url(self) -> str:
        return reverse("edition-assessments", args=[self.object.edition_id])

    def perform(self, form):
        return services.assessment_save(
            actor=self.request.user,
            edition=self.object.edition,
            course=self.object.course,
            data=form.cleaned_data,
            assessment=Assessment.objects.get(pk=self.object.pk),
        )

    def get_success_url_for(self, result):
        return self.get_cancel_url() + f"#course-{self.object.course_id}"


class ExaminerAppointView(EditionCourseMixin, ServiceFormView):
    policy_action = "assessment.configure"
    form_class = forms.ExaminerForm
    success_message = _("Examiner appointed.")

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "title": _("Appoint an examiner for %(course)s") % {"course": self.course},
            "intro": _("Examiners of this course are staff of %(provider)s; they enter its results.")
            % {"provider": self.course.provider.short_name},
        }

    def perform(self, form):
        return services.examiner_appoint(actor=self.request.user, course=self.course, user=form.cleaned_data["email"])

    def get_success_url_for(self, result):
        return self.edition_url() + f"#course-{self.course.pk}"


class SheetOpenView(EditionCourseMixin, ActionView):
    """The course's examiners open its result sheet (first attempt) to enter grades."""

    policy_action = "grades.enter"

    def policy_target(self):
        return ResultSheet(edition=self.object, course=self.course)

    def perform(self):
        self.sheet = services.sheet_for(edition=self.object, course=self.course)

    def get_redirect_url(self):
        sheet = getattr(self, "sheet", None)
        return reverse("sheet-grid", args=[sheet.pk]) if sheet else self.edition_url()


# --- Grade grid, submission, CSV upload and class list ----------------------------------------------


class SheetGridView(SheetMixin, PolicyTemplateView):
    """Learners × components, one input per cell; saving sends every changed cell to ``grades_enter``."""

    policy_action = "grades.enter"
    template_name = "assessment/staff/grid.html"

    def get_context_data(self, grid=None, errors=(), **kwargs):
        sheet = self.object
        grid = grid or selectors.sheet_grid(sheet, self.request.GET.get("page"))
        editable = sheet.status in OPEN_SHEET and grid.table is not None
        missing = []
        if editable:
            try:
                missing = services.sheet_missing(sheet)
            except DomainError as exc:
                missing = [exc.message]
        return {
            **super().get_context_data(**kwargs),
            "sheet": sheet,
            "programme": self.programme,
            "grid": grid,
            "editable": editable,
            "missing": missing,
            "errors": list(errors),
        }

    def post(self, request, *args, **kwargs):
        sheet = self.object
        grid = selectors.sheet_grid(sheet, request.POST.get("page"))
        rows, cells = forms.read_grid(request.POST, grid.rows)
        editable = sheet.status in OPEN_SHEET
        local = [f"{r.enrolment.application.full_name}: {e}" for r in grid.rows for e in r.errors]
        if editable and local:
            return self.render_to_response(self.get_context_data(grid=grid, errors=local))
        if editable and not rows:
            messages.info(request, _("No grade changed."))
            return HttpResponseRedirect(self._page_url(grid))
        try:
            services.grades_enter(actor=request.user, sheet=sheet, rows=rows)
        except ValidationError as exc:
            by_row, other = forms.row_errors(exc)
            errors = list(other)
            for number, message in sorted(by_row.items()):
                cell = cells[number - 1]
                cell.error = message
                errors.append(f"{self._learner(grid, cell)}: {cell.assessment.title}: {message}")
            return self.render_to_response(self.get_context_data(grid=grid, errors=errors))
        except DomainError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(self._page_url(grid))
        messages.success(request, ngettext("%(n)s grade saved.", "%(n)s grades saved.", len(rows)) % {"n": len(rows)})
        return HttpResponseRedirect(self._page_url(grid))

    def _page_url(self, grid) -> str:
        url = self.grid_url()
        if grid.page is not None and grid.page.number > 1:
            url += f"?page={grid.page.number}"
        return url

    @staticmethod
    def _learner(grid, cell) -> str:
        for row in grid.rows:
            if cell in row.cells:
                return row.enrolment.application.full_name
        return ""


class SheetSubmitView(SheetMixin, ActionView):
    policy_action = "grades.enter"
    success_message = _("Submitted to the examination board.")

    def perform(self):
        services.sheet_submit(actor=self.request.user, sheet=self.object)

    def get_redirect_url(self):
        return self.grid_url()


def _upload_key(sheet) -> str:
    return f"assessment-upload-{sheet.pk}"


class SheetUploadView(SheetMixin, PolicyTemplateView):
    """Upload grades as CSV: every row's outcome is previewed; nothing is saved until the examiner confirms.

    The preview is ``exchange.results_import`` as a dry run (the API's import does the same). It keeps the parsed
    rows (line, learner id, assessment id, grade) in the session under a one-time token, so confirming neither
    re-sends nor re-parses the file; the rows are checked again when they are saved, all or nothing.
    """

    policy_action = "grades.enter"
    template_name = "assessment/staff/upload.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", forms.GradeUploadForm())
        return {**super().get_context_data(**kwargs), "sheet": self.object, "programme": self.programme}

    def post(self, request, *args, **kwargs):
        sheet = self.object
        request.session.pop(_upload_key(sheet), None)
        form = forms.GradeUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        try:
            report = exchange.results_import(actor=request.user, sheet=sheet, rows=form.cleaned_data["file"])
        except DomainError as exc:
            form.add_error(None, exc.message)
            return self.render_to_response(self.get_context_data(form=form))
        token = ""
        if report.ok:
            token = secrets.token_urlsafe(16)
            request.session[_upload_key(sheet)] = {
                "token": token,
                "file": request.FILES["file"].name,
                "rows": [[r.line, str(r.enrolment.pk), str(r.assessment.pk), r.grade] for r in report.ready],
            }
        return self.render_to_response(
            self.get_context_data(
                rows=report.rows,
                failed=report.failed,
                general=report.problems,
                ready=report.ready,
                skipped=[r for r in report.rows if r.skipped],
                token=token,
                file_name=request.FILES["file"].name,
            )
        )


class SheetUploadConfirmView(SheetMixin, PolicyMixin, View):
    policy_action = "grades.enter"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        sheet = self.object
        stored = request.session.pop(_upload_key(sheet), None)
        upload_url = reverse("sheet-upload", args=[sheet.pk])
        if not stored or not secrets.compare_digest(stored["token"], request.POST.get("token", "")):
            messages.error(request, _("There is no previewed file to save; upload it again."))
            return HttpResponseRedirect(upload_url)
        rows = [
            forms.UploadRow(line=line, enrolment_ref=enrolment, email="", assessment_title=assessment, grade=grade)
            for line, enrolment, assessment, grade in stored["rows"]
        ]
        try:
            report = exchange.results_import(actor=request.user, sheet=sheet, rows=rows, dry_run=False)
        except DomainError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(upload_url)
        if not report.committed:
            reasons = [*report.problems, *(f"{_('Line')} {r.line}: {r.error}" for r in report.failed)]
            messages.error(request, _("Nothing was saved: %(reasons)s") % {"reasons": " ".join(reasons[:10])})
            return HttpResponseRedirect(upload_url)
        n = len(report.ready)
        messages.success(request, ngettext("%(n)s grade saved.", "%(n)s grades saved.", n) % {"n": n})
        return HttpResponseRedirect(self.grid_url())


class ClassListView(SheetMixin, PolicyMixin, View):
    """The learners of the edition as CSV (UTF-8 with a byte order mark so spreadsheets read accents)."""

    policy_action = "grades.view"

    def get(self, request, *args, **kwargs):
        sheet = self.object
        exempted = services.exempted_enrolment_ids(sheet.edition, sheet.course)
        learners = list(selectors.class_list(sheet))
        rows = [["enrolment_id", "email", "family_names", "given_names", "track", "exempted"]]
        for e in learners:
            a = e.application
            rows.append(
                [e.pk, a.email, a.family_names, a.given_names, a.track, _("exempted") if e.pk in exempted else ""]
            )
        audit.record(
            request.user,
            "results.class_list_exported",
            sheet,
            {"rows": len(learners)},
            consortium_id=self.programme.consortium_id,
            institution_id=sheet.course.provider_id,
        )
        filename = f"class-list-{self.programme.code}-{sheet.edition.intake_code}-{sheet.course.code}.csv"
        return csv_download(rows, filename)


# --- Examination board ------------------------------------------------------------------------------


class BoardQueueView(PaginatedListView):
    """Submitted result sheets awaiting the board, and appeals awaiting a decision."""

    policy_action = "results.decide"
    template_name = "assessment/staff/board.html"

    def get_queryset(self):
        return selectors.board_queue(self.request.user)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "appeals": selectors.board_appeals(self.request.user)}


class ReviewMixin(SheetMixin):
    def review_url(self, *_args) -> str:
        return reverse("sheet-review", args=[self.object.pk])

    def review_context(self, decision_form=None) -> dict:
        sheet, programme = self.object, self.programme
        assessments, rows, history = selectors.sheet_review(sheet)
        approved = sheet.status == SheetStatus.APPROVED
        can_decide = sheet.status == SheetStatus.SUBMITTED and self.can("results.decide", sheet)
        latest = not ResultSheet.objects.filter(
            edition=sheet.edition_id, course=sheet.course_id, attempt__gt=sheet.attempt
        ).exists()
        return {
            "sheet": sheet,
            "programme": programme,
            "assessments": assessments,
            "rows": rows,
            "history": history,
            "can_decide": can_decide,
            "decision_form": decision_form or (forms.SheetDecisionForm() if can_decide else None),
            "can_correct": approved and self.can("results.decide", sheet),
            "can_resit": approved and latest and self.can("assessment.configure", programme),
            "can_enter": self.can("grades.enter", sheet),
            "appeals": Appeal.objects.filter(grade__sheet=sheet).select_related(
                "grade__enrolment__application", "grade__assessment"
            ),
        }


class SheetReviewView(ReviewMixin, PolicyTemplateView):
    policy_action = "grades.view"
    template_name = "assessment/staff/review.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **self.review_context()}


class SheetDecideView(ReviewMixin, ServiceFormView):
    policy_action = "results.decide"
    template_name = "assessment/staff/review.html"
    form_class = forms.SheetDecisionForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        return {**context, **self.review_context(decision_form=context["form"])}

    def perform(self, form):
        comment = form.cleaned_data["comment"]
        if form.cleaned_data["decision"] == "approve":
            sheet = services.sheet_approve(actor=self.request.user, sheet=self.object, comment=comment)
            messages.success(self.request, _("Approved: the results are locked and learners see them."))
        else:
            sheet = services.sheet_return(actor=self.request.user, sheet=self.object, comment=comment)
            messages.success(self.request, _("Returned to the examiners with your comments."))
        return sheet

    def get_success_url_for(self, result):
        return self.review_url()


class ResitOpenView(SheetMixin, ActionView):
    """Open the next attempt of the sheet's course for the learners who failed (the regulations decide)."""

    policy_action = "assessment.configure"

    def policy_target(self):
        return self.programme

    def perform(self):
        sheet = services.resit_open(actor=self.request.user, edition=self.object.edition, course=self.object.course)
        messages.success(
            self.request,
            _("Attempt %(n)s of %(course)s opened for the learners who failed; its examiners enter the grades.")
            % {"n": sheet.attempt, "course": sheet.course.code},
        )

    def get_redirect_url(self):
        return reverse("edition-assessments", args=[self.object.edition_id]) + f"#course-{self.object.course_id}"


class GradeMixin(AssessmentObjectMixin):
    object_model = Grade
    programme_path = "sheet__edition__programme"
    related = (
        "sheet__edition__programme",
        "sheet__course__provider",
        "enrolment__application",
        "assessment",
        "national_scale",
        "entered_by",
    )

    def policy_target(self):
        return self.object.sheet

    def page_context(self, form=None) -> dict:
        grade = self.object
        can_correct = (
            grade.sheet.status == SheetStatus.APPROVED
            and not grade.superseded
            and self.can("results.decide", grade.sheet)
        )
        return {
            "grade": grade,
            "sheet": grade.sheet,
            "programme": self.programme,
            "versions": selectors.grade_versions(grade),
            "appeals": grade.appeals.all(),
            "can_correct": can_correct,
            "form": form or (forms.CorrectionForm() if can_correct else None),
        }


class GradeDetailView(GradeMixin, PolicyTemplateView):
    policy_action = "grades.view"
    template_name = "assessment/staff/grade.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **self.page_context()}


class GradeCorrectView(GradeMixin, ServiceFormView):
    policy_action = "results.decide"
    template_name = "assessment/staff/grade.html"
    form_class = forms.CorrectionForm
    success_message = _("Corrected. The previous version stays on record.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        return {**context, **self.page_context(form=context["form"])}

    def perform(self, form):
        return services.grade_correct(actor=self.request.user, grade=self.object, **form.cleaned_data)

    def get_success_url_for(self, result):
        return reverse("grade-detail", args=[result.pk])


class AppealDecideView(AssessmentObjectMixin, ServiceFormView):
    policy_action = "results.decide"
    object_model = Appeal
    programme_path = "grade__sheet__edition__programme"
    related = (
        "grade__sheet__edition__programme",
        "grade__sheet__course",
        "grade__enrolment__application",
        "grade__assessment",
        "decided_by",
    )
    template_name = "assessment/staff/appeal.html"
    form_class = forms.AppealDecisionForm
    success_message = _("Appeal decided.")

    def policy_target(self):
        return self.object.grade.sheet

    def get_context_data(self, **kwargs):
        appeal = self.object
        return {
            **super().get_context_data(**kwargs),
            "appeal": appeal,
            "grade": appeal.grade,
            "sheet": appeal.grade.sheet,
            "programme": self.programme,
            "deadline": services.appeal_deadline(appeal.grade),
            "lodged": appeal.status == AppealStatus.LODGED,
        }

    def get_cancel_url(self) -> str:
        return reverse("assessment-board")

    def perform(self, form):
        return services.appeal_decide(actor=self.request.user, appeal=self.object, **form.cleaned_data)

    def get_success_url_for(self, result):
        return reverse("assessment-board")

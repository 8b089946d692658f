"""Management pages for programmes: team leaders, team members and boards. Thin: form → service → redirect."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _

from consortium.api import RoleAssignment, policy
from consortium.web import PaginatedListView, PolicyTemplateView, ServiceActionView, ServiceFormView

from . import selectors, services
from .forms import (
    SECTIONS,
    BoardAppointForm,
    CloneForm,
    CourseForm,
    DecisionForm,
    EditionCloneForm,
    EditionForm,
    ElectiveForm,
    OutcomeForm,
    PartnerForm,
    ProgrammeCreateForm,
    ProgrammeSectionForm,
    ProgrammeTextForm,
    StackingForm,
    TaskForm,
    TeamAddForm,
)
from .models import (
    Course,
    CurriculumStatus,
    CurriculumVersion,
    Edition,
    EditionStatus,
    LearningOutcome,
    Programme,
    ProgrammePartner,
    ProgrammeText,
    TeamMember,
    TeamTask,
)


class ProgrammeObjectMixin:
    """Loads the programme behind the URL's object (404 when invisible) and checks the action on it."""

    object_model = Programme
    #: How to get from the object to its programme.
    programme_path = ""

    def get_policy_object(self):
        if getattr(self, "object", None) is None:
            visible = policy.filter(self.request.user, "programme.view", Programme.objects.all())
            lookup = f"{self.programme_path}__in" if self.programme_path else "pk__in"
            queryset = self.object_model.objects.filter(**{lookup: visible.values("pk")})
            self.object = get_object_or_404(queryset, pk=self.kwargs["pk"])
            self.programme = self.object
            for part in filter(None, self.programme_path.split("__")):
                self.programme = getattr(self.programme, part)
        return self.programme

    def back_to_programme(self, *_args) -> str:
        return reverse("programme-manage", args=[self.programme.pk])


# --- Programme ---------------------------------------------------------------------------------------


class ProgrammeListView(PaginatedListView):
    policy_action = "programme.view"
    template_name = "programmes/manage/list.html"

    def get_queryset(self):
        return selectors.programme_list(
            user=self.request.user,
            search=self.request.GET.get("q", "").strip(),
            status=self.request.GET.get("status", ""),
        )

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "can_create": self.can("programme.create")}


class ProgrammeCreateView(ServiceFormView):
    policy_action = "programme.create"
    form_class = ProgrammeCreateForm
    title = _("New joint programme")
    intro = _(
        "Start with the essentials; every other section can be filled in afterwards. You become the team "
        "leader when you are staff of the lead institution; otherwise name its staff member who is."
    )
    success_message = _("Programme drafted. Complete each section, then build the curriculum.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def perform(self, form):
        data = dict(form.cleaned_data)
        consortium, leader = data.pop("consortium"), data.pop("leader")
        data.pop("leader_email")
        title, name, partners = data.pop("title"), data.pop("qualification_name"), data.pop("partners")
        return services.programme_create(
            actor=self.request.user,
            consortium=consortium,
            data=data,
            title=title,
            qualification_name=name,
            partners=partners,
            leader=leader,
        )


class ProgrammeManageView(ProgrammeObjectMixin, PolicyTemplateView):
    policy_action = "programme.view"
    template_name = "programmes/manage/detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        programme = selectors.programme_detail(self.programme.pk)
        texts = {t.language: t for t in programme.texts.all()}
        context.update(
            programme=programme,
            sections=[
                (key, label, [programme._meta.get_field(f) for f in fields])
                for key, (label, fields) in SECTIONS.items()
            ],
            languages=[(code, texts.get(code)) for code in programme.languages],
            checklist=services.checklist(programme),
            publication_problems=services.publication_problems(programme),
            overlaps=services.overlaps(programme),
            curricula=programme.curricula.all(),
            editions=programme.editions.select_related("curriculum"),
            can_change=self.can("programme.change", programme),
            can_publish=self.can("programme.publish", programme),
            can_manage_editions=self.can("edition.manage", programme),
            outcome_form=OutcomeForm(),
            E=EditionStatus,
        )
        return context


class ProgrammeSectionView(ProgrammeObjectMixin, ServiceFormView):
    policy_action = "programme.change"
    success_message = _("Section saved.")

    def dispatch(self, request, *args, **kwargs):
        if kwargs["section"] not in SECTIONS:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_form_class(self):
        return ProgrammeSectionForm.for_section(self.kwargs["section"])

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "section": self.kwargs["section"],
            "instance": Programme.objects.get(pk=self.programme.pk),
        }

    def get_context_data(self, **kwargs):
        label = SECTIONS[self.kwargs["section"]][0]
        return {
            **super().get_context_data(**kwargs),
            "title": f"{self.programme.title}: {label}",
            "cancel_url": self.back_to_programme(),
        }

    def perform(self, form):
        return services.programme_update(actor=self.request.user, programme=self.programme, data=form.cleaned_data)

    def get_success_url_for(self, result):
        return self.back_to_programme()


class ProgrammeTextView(ProgrammeObjectMixin, ServiceFormView):
    policy_action = "programme.change"
    form_class = ProgrammeTextForm
    success_message = _("Texts saved.")

    def get_form_kwargs(self):
        language = self.kwargs["language"]
        if language not in self.programme.languages:
            raise Http404
        instance = ProgrammeText.objects.filter(programme=self.programme, language=language).first()
        return {**super().get_form_kwargs(), "instance": instance}

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "title": _("Texts of %(p)s in %(lang)s") % {"p": self.programme.code, "lang": self.kwargs["language"]},
            "intro": _("Everything a visitor reads on the public page, in this language."),
            "cancel_url": self.back_to_programme(),
        }

    def perform(self, form):
        return services.programme_text_save(
            actor=self.request.user, programme=self.programme, language=self.kwargs["language"], data=form.cleaned_data
        )

    def get_success_url_for(self, result):
        return self.back_to_programme()


class OutcomeAddView(ProgrammeObjectMixin, ServiceFormView):
    policy_action = "programme.change"
    form_class = OutcomeForm
    title = _("Add a learning outcome")
    success_message = _("Learning outcome added.")

    def perform(self, form):
        return services.outcome_add(actor=self.request.user, programme=self.programme, **form.cleaned_data)

    def get_success_url_for(self, result):
        return self.back_to_programme() + "#outcomes"


class OutcomeRemoveView(ProgrammeObjectMixin, ServiceActionView):
    policy_action = "programme.change"
    object_model = LearningOutcome
    programme_path = "programme"
    success_message = _("Learning outcome removed.")

    def perform(self):
        services.outcome_remove(actor=self.request.user, outcome=self.object)

    def get_redirect_url(self):
        return self.back_to_programme() + "#outcomes"


class PartnerAddView(ProgrammeObjectMixin, ServiceFormView):
    policy_action = "programme.change"
    form_class = PartnerForm
    title = _("Add a participating institution")
    success_message = _("Partner added.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "programme": self.programme}

    def perform(self, form):
        return services.partner_add(actor=self.request.user, programme=self.programme, **form.cleaned_data)

    def get_success_url_for(self, result):
        return self.back_to_programme() + "#partners"


class PartnerRemoveView(ProgrammeObjectMixin, ServiceActionView):
    policy_action = "programme.change"
    object_model = ProgrammePartner
    programme_path = "programme"
    success_message = _("Partner removed.")

    def perform(self):
        services.partner_remove(actor=self.request.user, partner=self.object)

    def get_redirect_url(self):
        return self.back_to_programme() + "#partners"


class StackingView(ProgrammeObjectMixin, ServiceFormView):
    policy_action = "programme.change"
    form_class = StackingForm
    title = _("Stackability")
    success_message = _("Stackability saved.")

    def get_form_kwargs(self):
        kwargs = {**super().get_form_kwargs(), "programme": self.programme}
        if self.request.method == "GET":
            kwargs["initial"] = {
                "stand_alone": self.programme.stand_alone,
                "targets": [s.target_id for s in self.programme.stacks_into.all()],
                "external": self.programme.external_stacking,
            }
        return kwargs

    def perform(self, form):
        return services.stacking_set(actor=self.request.user, programme=self.programme, **form.cleaned_data)

    def get_success_url_for(self, result):
        return self.back_to_programme() + "#stacking"


class PublishView(ProgrammeObjectMixin, ServiceActionView):
    policy_action = "programme.publish"
    success_message = _("Published: the programme is in the public catalogue.")

    def perform(self):
        services.programme_publish(actor=self.request.user, programme=self.programme)

    def get_redirect_url(self):
        return self.back_to_programme()


class ArchiveView(ProgrammeObjectMixin, ServiceActionView):
    policy_action = "programme.publish"
    success_message = _("Archived: the programme left the public catalogue.")

    def perform(self):
        services.programme_archive(actor=self.request.user, programme=self.programme)

    def get_redirect_url(self):
        return self.back_to_programme()


class ProgrammeCloneView(ProgrammeObjectMixin, ServiceFormView):
    policy_action = "programme.change"
    form_class = CloneForm
    title = _("Copy this programme")
    intro = _(
        "The copy is a draft with the same texts, outcomes, partners, stacking and the latest approved "
        "curriculum as its first draft version."
    )
    success_message = _("Programme copied.")

    def perform(self, form):
        return services.programme_clone(actor=self.request.user, programme=self.programme, **form.cleaned_data)


# --- Course team ---------------------------------------------------------------------------------------


class TeamView(ProgrammeObjectMixin, PolicyTemplateView):
    policy_action = "programme.view"
    template_name = "programmes/manage/team.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        programme = self.programme
        context.update(
            programme=programme,
            team=programme.team.select_related("user", "institution"),
            tasks=programme.tasks.select_related("owner"),
            timeline=services.timeline(programme),
            boards=RoleAssignment.objects.filter(
                target_id=programme.id, role__in=["programme_board", "exam_board"]
            ).select_related("user", "institution"),
            can_manage_team=self.can("programme.manage_team", programme),
            can_change=self.can("programme.change", programme),
            can_appoint=self.can("programme.appoint_board", programme),
            team_form=TeamAddForm(),
            task_form=TaskForm(programme=programme),
            board_form=BoardAppointForm(),
        )
        return context


class _TeamFormView(ProgrammeObjectMixin, ServiceFormView):
    def get_success_url_for(self, result):
        return reverse("programme-team", args=[self.programme.pk])

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "cancel_url": reverse("programme-team", args=[self.programme.pk])}


class TeamAddView(_TeamFormView):
    policy_action = "programme.manage_team"
    form_class = TeamAddForm
    title = _("Add a team member")
    success_message = _("Added to the course team.")

    def perform(self, form):
        return services.team_member_add(actor=self.request.user, programme=self.programme, **form.cleaned_data)


class BoardAppointView(_TeamFormView):
    policy_action = "programme.appoint_board"
    form_class = BoardAppointForm
    title = _("Appoint a board member")
    success_message = _("Board member appointed.")

    def perform(self, form):
        return services.board_member_appoint(actor=self.request.user, programme=self.programme, **form.cleaned_data)


class TaskAddView(_TeamFormView):
    policy_action = "programme.change"
    form_class = TaskForm
    title = _("Add a task")
    success_message = _("Task added.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "programme": self.programme}

    def perform(self, form):
        return services.task_add(actor=self.request.user, programme=self.programme, **form.cleaned_data)


class TeamRemoveView(ProgrammeObjectMixin, ServiceActionView):
    policy_action = "programme.manage_team"
    object_model = TeamMember
    programme_path = "programme"
    success_message = _("Removed from the team.")

    def perform(self):
        services.team_member_remove(actor=self.request.user, member=self.object)

    def get_redirect_url(self):
        return reverse("programme-team", args=[self.programme.pk])


class TaskDoneView(ProgrammeObjectMixin, ServiceActionView):
    policy_action = "programme.change"
    object_model = TeamTask
    programme_path = "programme"
    success_message = _("Task done.")

    def perform(self):
        services.task_complete(actor=self.request.user, task=self.object)

    def get_redirect_url(self):
        return reverse("programme-team", args=[self.programme.pk])


# --- Curriculum --------------------------------------------------------------------------------------


class CurriculumMixin(ProgrammeObjectMixin):
    object_model = CurriculumVersion
    programme_path = "programme"

    def back_to_curriculum(self, *_args) -> str:
        return reverse("curriculum", args=[self.object.pk])


class CurriculumView(CurriculumMixin, PolicyTemplateView):
    policy_action = "programme.view"
    template_name = "programmes/manage/curriculum.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        version = self.object
        courses = list(version.courses.select_related("provider"))
        context.update(
            programme=self.programme,
            version=version,
            courses=courses,
            totals=services.curriculum_totals(version, courses),
            problems=services.curriculum_problems(version) if version.is_editable else [],
            versions=self.programme.curricula.all(),
            can_edit=version.is_editable and self.can("programme.change", self.programme),
            can_submit=version.is_editable and self.can("curriculum.submit", self.programme),
            can_decide=version.status == CurriculumStatus.SUBMITTED and self.can("curriculum.decide", self.programme),
            course_form=CourseForm(version=version) if version.is_editable else None,
            elective_form=ElectiveForm(instance=version),
            decision_form=DecisionForm(),
        )
        return context


class CourseAddView(CurriculumMixin, ServiceFormView):
    policy_action = "programme.change"
    form_class = CourseForm
    title = _("Add a course")
    success_message = _("Course added.")
    template_name = "programmes/manage/course_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "version": self.object}

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "version": self.object,
            "cancel_url": self.back_to_curriculum(),
            "totals": services.curriculum_totals(self.object),
        }

    def perform(self, form):
        return services.course_save(actor=self.request.user, version=self.object, data=form.cleaned_data)

    def get_success_url_for(self, result):
        return self.back_to_curriculum()


class CourseEditView(ProgrammeObjectMixin, ServiceFormView):
    policy_action = "programme.change"
    object_model = Course
    programme_path = "version__programme"
    form_class = CourseForm
    success_message = _("Course saved.")
    template_name = "programmes/manage/course_form.html"

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "version": self.object.version,
            "instance": Course.objects.get(pk=self.object.pk),
        }

    def get_context_data(self, **kwargs):
        version = self.object.version
        return {
            **super().get_context_data(**kwargs),
            "title": _("Edit %(course)s") % {"course": self.object},
            "version": version,
            "cancel_url": reverse("curriculum", args=[version.pk]),
            "totals": services.curriculum_totals(version),
            "editing": self.object,
        }

    def perform(self, form):
        return services.course_save(
            actor=self.request.user, version=self.object.version, data=form.cleaned_data, course=self.object
        )

    def get_success_url_for(self, result):
        return reverse("curriculum", args=[self.object.version_id])


class CourseRemoveView(ProgrammeObjectMixin, ServiceActionView):
    policy_action = "programme.change"
    object_model = Course
    programme_path = "version__programme"
    success_message = _("Course removed.")

    def perform(self):
        services.course_remove(actor=self.request.user, course=self.object)

    def get_redirect_url(self):
        return reverse("curriculum", args=[self.object.version_id])


class ElectiveView(CurriculumMixin, ServiceFormView):
    policy_action = "programme.change"
    form_class = ElectiveForm
    title = _("Elective ECTS required")
    success_message = _("Saved.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": CurriculumVersion.objects.get(pk=self.object.pk)}

    def perform(self, form):
        return services.curriculum_elective_set(actor=self.request.user, version=self.object, **form.cleaned_data)

    def get_success_url_for(self, result):
        return self.back_to_curriculum()


class CurriculumSubmitView(CurriculumMixin, ServiceActionView):
    policy_action = "curriculum.submit"
    success_message = _("Submitted to the programme board.")

    def perform(self):
        services.curriculum_submit(actor=self.request.user, version=self.object)

    def get_redirect_url(self):
        return self.back_to_curriculum()


class CurriculumDecideView(CurriculumMixin, ServiceFormView):
    policy_action = "curriculum.decide"
    form_class = DecisionForm
    title = _("Board decision")

    def perform(self, form):
        comment = form.cleaned_data["comment"]
        if form.cleaned_data["decision"] == "approve":
            version = services.curriculum_approve(actor=self.request.user, version=self.object, comment=comment)
            messages.success(self.request, _("Approved: the curriculum is frozen and editions can run it."))
        else:
            version = services.curriculum_return(actor=self.request.user, version=self.object, comment=comment)
            messages.success(self.request, _("Returned to the team with your comments."))
        return version

    def get_success_url_for(self, result):
        return self.back_to_curriculum()


class CurriculumDiffView(CurriculumMixin, PolicyTemplateView):
    policy_action = "programme.view"
    template_name = "programmes/manage/diff.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        version = self.object
        others = self.programme.curricula.exclude(pk=version.pk)
        other = others.filter(pk=self.request.GET.get("with")).first() if self._valid_uuid("with") else None
        other = other or version.based_on or others.filter(number__lt=version.number).first()
        context.update(
            programme=self.programme,
            version=version,
            other=other,
            others=others,
            diff=services.curriculum_diff(other, version) if other else None,
        )
        return context

    def _valid_uuid(self, name: str) -> bool:
        import uuid

        try:
            uuid.UUID(self.request.GET.get(name, ""))
        except ValueError:
            return False
        return True


class CurriculumStartView(ProgrammeObjectMixin, ServiceActionView):
    policy_action = "programme.change"

    def perform(self):
        self.version = services.curriculum_version_start(actor=self.request.user, programme=self.programme)
        messages.success(self.request, _("New draft version started from the last approved one."))

    def get_redirect_url(self):
        version = getattr(self, "version", None)
        return reverse("curriculum", args=[version.pk]) if version else self.back_to_programme()


class BoardQueueView(PaginatedListView):
    """Submitted curriculum versions awaiting a decision of a board this user sits on."""

    policy_action = "curriculum.decide"
    template_name = "programmes/manage/board_queue.html"

    def get_queryset(self):
        return selectors.board_queue(user=self.request.user)


# --- Editions ----------------------------------------------------------------------------------------


class EditionCreateView(ProgrammeObjectMixin, ServiceFormView):
    policy_action = "edition.manage"
    form_class = EditionForm
    title = _("New edition")
    success_message = _("Edition planned. Open it for applications when the programme is published.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "programme": self.programme}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "cancel_url": self.back_to_programme()}

    def perform(self, form):
        return services.edition_save(actor=self.request.user, programme=self.programme, data=form.cleaned_data)

    def get_success_url_for(self, result):
        return self.back_to_programme() + "#editions"


class EditionEditView(ProgrammeObjectMixin, ServiceFormView):
    policy_action = "edition.manage"
    object_model = Edition
    programme_path = "programme"
    form_class = EditionForm
    success_message = _("Edition saved.")

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "programme": self.programme,
            "instance": Edition.objects.get(pk=self.object.pk),
        }

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "title": _("Edit %(e)s") % {"e": self.object},
            "cancel_url": self.back_to_programme(),
        }

    def perform(self, form):
        return services.edition_save(
            actor=self.request.user, programme=self.programme, data=form.cleaned_data, edition=self.object
        )

    def get_success_url_for(self, result):
        return self.back_to_programme() + "#editions"


class EditionCloneView(ProgrammeObjectMixin, ServiceFormView):
    policy_action = "edition.manage"
    object_model = Edition
    programme_path = "programme"
    form_class = EditionCloneForm
    title = _("Copy this edition for another intake")
    success_message = _("Edition copied with its dates shifted.")

    def perform(self, form):
        return services.edition_clone(actor=self.request.user, edition=self.object, **form.cleaned_data)

    def get_success_url_for(self, result):
        return self.back_to_programme() + "#editions"


class EditionTransitionView(ProgrammeObjectMixin, ServiceActionView):
    policy_action = "edition.manage"
    object_model = Edition
    programme_path = "programme"
    TARGETS = {"open": EditionStatus.OPEN, "start": EditionStatus.RUNNING, "close": EditionStatus.CLOSED}

    def perform(self):
        target = self.TARGETS.get(self.kwargs["target"])
        if target is None:
            raise Http404
        edition = services.edition_transition(actor=self.request.user, edition=self.object, target=target)
        messages.success(self.request, _("The edition is now %(status)s.") % {"status": edition.get_status_display()})

    def get_redirect_url(self):
        return self.back_to_programme() + "#editions"

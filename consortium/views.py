"""Browser pages of the consortium domain. Thin: a form or a button, one service, a redirect."""

import json
import sys

from django.contrib import messages
from django.db import connection
from django.http import FileResponse, Http404, HttpResponseServerError, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django_countries import countries

from . import audit, policy, selectors, services, unavailable
from .forms import (
    AUDIT_EXPORT_LIMIT,
    AddendumForm,
    AddendumInForceForm,
    AgreementForm,
    AgreementSectionsForm,
    ApiTokenForm,
    AuditFilterForm,
    ConsortiumForm,
    ContactForm,
    FinancialModelForm,
    InstitutionForm,
    MembershipEndForm,
    MembershipForm,
    PartyAddForm,
    RoleGrantForm,
    SignatureForm,
    StaffAddForm,
    TerminateForm,
)
from .models import (
    Addendum,
    Agreement,
    AgreementParty,
    AgreementSignature,
    AgreementStatus,
    AgreementVersion,
    ApiToken,
    Consortium,
    Institution,
    InstitutionContact,
    InstitutionKind,
    Membership,
    RoleAssignment,
    StaffProfile,
)
from .web import PaginatedListView, PolicyTemplateView, ServiceActionView, ServiceFormView, csv_download


@never_cache
@policy.policy(policy.PUBLIC)
def healthz(request):
    """200 only when the database and (when configured) the broker answer."""
    from django.conf import settings

    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {exc.__class__.__name__}"
    if settings.REDIS_URL:
        try:
            import redis

            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
            checks["broker"] = "ok"
        except Exception as exc:
            checks["broker"] = f"error: {exc.__class__.__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503
    )


def not_found(request, exception=None):
    """404: JSON under /api/, the site's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    exception = sys.exc_info()[1]  # handler500 runs while the exception is handled
    if unavailable.is_database_lost(exception):  # raised before any view ran (the session, the user)
        return unavailable.database_unavailable(request, exception)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Server error; nothing was saved. Please try again.")}, status=500)
    # Without the request's context: its processors would query the database, which may be what failed.
    return HttpResponseServerError(render_to_string("500.html"))


@policy.policy(policy.PUBLIC)
def home(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "home.html")


class DashboardView(PolicyTemplateView):
    """What this user can act on, by role."""

    policy_action = policy.AUTHENTICATED
    template_name = "dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        actor = policy.actor_for(user)
        context.update(
            profile=StaffProfile.objects.filter(user=user).select_related("institution").first(),
            assignments=RoleAssignment.objects.filter(user=user).select_related("consortium", "institution"),
            consortia=selectors.consortium_list(user=user),
            awaiting_signature=selectors.agreements_awaiting_signature(user=user)[:20],
            is_learner=not actor.institution_ids and not actor.assignments and not user.is_superuser,
        )
        return context


# --- Institutions --------------------------------------------------------------------------------------


class InstitutionListView(PaginatedListView):
    policy_action = "institution.view"
    template_name = "consortium/institution_list.html"

    def get_queryset(self):
        g = self.request.GET
        return selectors.institution_list(
            user=self.request.user, search=g.get("q", "").strip(), country=g.get("country", ""), kind=g.get("kind", "")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(countries=countries, kinds=InstitutionKind.choices, can_create=self.can("institution.create"))
        return context


class InstitutionDetailView(PolicyTemplateView):
    policy_action = "institution.view"
    visible_action = "institution.view"
    model = Institution
    template_name = "consortium/institution_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        institution = self.object
        private = self.can("institution.view_private", institution)
        context.update(
            institution=institution,
            can_view_private=private,
            can_change=self.can("institution.change", institution),
            contacts=institution.contacts.all() if private else [],
            memberships=institution.memberships.select_related("consortium").filter(
                consortium__in=selectors.consortium_list(user=self.request.user)
            ),
        )
        return context


class InstitutionCreateView(ServiceFormView):
    policy_action = "institution.create"
    form_class = InstitutionForm
    title = _("New institution")
    success_message = _("Institution created.")

    def perform(self, form):
        return services.institution_create(actor=self.request.user, data=form.cleaned_data)

    def get_success_url_for(self, result):
        return reverse("institution-detail", args=[result.pk])


class InstitutionUpdateView(ServiceFormView):
    policy_action = "institution.change"
    visible_action = "institution.view"
    model = Institution
    form_class = InstitutionForm
    success_message = _("Institution saved.")

    def get_form_kwargs(self):
        # The form edits a copy; the service applies the cleaned data to a locked row.
        return {**super().get_form_kwargs(), "instance": Institution.objects.get(pk=self.object.pk)}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "title": _("Edit %(name)s") % {"name": self.object}}

    def perform(self, form):
        return services.institution_update(actor=self.request.user, institution=self.object, data=form.cleaned_data)

    def get_success_url_for(self, result):
        return reverse("institution-detail", args=[result.pk])


class ContactAddView(ServiceFormView):
    policy_action = "institution.change"
    visible_action = "institution.view"
    model = Institution
    form_class = ContactForm
    title = _("Add a support-service contact")
    success_message = _("Contact added.")

    def perform(self, form):
        return services.institution_contact_add(actor=self.request.user, institution=self.object, **form.cleaned_data)

    def get_success_url_for(self, result):
        return reverse("institution-detail", args=[self.object.pk])


class ContactRemoveView(ServiceActionView):
    policy_action = "institution.change"
    success_message = _("Contact removed.")

    def get_policy_object(self):
        self.contact = get_object_or_404(InstitutionContact.objects.select_related("institution"), pk=self.kwargs["pk"])
        return self.contact.institution

    def perform(self):
        services.institution_contact_remove(actor=self.request.user, contact=self.contact)

    def get_redirect_url(self):
        return reverse("institution-detail", args=[self.contact.institution_id])


class SignatureImageView(PolicyTemplateView):
    """The signatory's signature image: private, served only to those who may see private data."""

    policy_action = "institution.view_private"
    visible_action = "institution.view"
    model = Institution

    def get(self, request, *args, **kwargs):
        if not self.object.signatory_signature:
            raise Http404
        return FileResponse(self.object.signatory_signature.open("rb"), as_attachment=False)


@policy.policy(policy.PUBLIC)
def institution_logo(request, pk):
    """Logos are public (catalogue pages, certificates); served by the app so no media server is needed."""
    institution = get_object_or_404(Institution, pk=pk)
    if not institution.logo:
        raise Http404
    response = FileResponse(institution.logo.open("rb"))
    response["Cache-Control"] = "public, max-age=3600"
    return response


# --- Consortia and memberships --------------------------------------------------------------------


class ConsortiumListView(PaginatedListView):
    policy_action = "consortium.view"
    template_name = "consortium/consortium_list.html"

    def get_queryset(self):
        return selectors.consortium_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "can_create": self.can("consortium.create")}


class ConsortiumDetailView(PolicyTemplateView):
    policy_action = "consortium.view"
    visible_action = "consortium.view"
    model = Consortium
    template_name = "consortium/consortium_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        consortium = self.object
        context.update(
            consortium=consortium,
            memberships=selectors.consortium_memberships(consortium),
            agreements=selectors.agreement_list(user=self.request.user, consortium=consortium),
            can_change=self.can("consortium.change", consortium),
            can_manage_members=self.can("membership.manage", consortium),
            can_manage_agreements=self.can("agreement.manage", consortium),
        )
        return context


class ConsortiumCreateView(ServiceFormView):
    policy_action = "consortium.create"
    form_class = ConsortiumForm
    title = _("New consortium")
    success_message = _("Consortium created.")

    def perform(self, form):
        return services.consortium_create(actor=self.request.user, data=form.cleaned_data)

    def get_success_url_for(self, result):
        return reverse("consortium-detail", args=[result.pk])


class ConsortiumUpdateView(ServiceFormView):
    policy_action = "consortium.change"
    visible_action = "consortium.view"
    model = Consortium
    form_class = ConsortiumForm
    success_message = _("Consortium saved.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": Consortium.objects.get(pk=self.object.pk)}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "title": _("Edit %(name)s") % {"name": self.object}}

    def perform(self, form):
        return services.consortium_update(actor=self.request.user, consortium=self.object, data=form.cleaned_data)

    def get_success_url_for(self, result):
        return reverse("consortium-detail", args=[result.pk])


class MembershipAddView(ServiceFormView):
    policy_action = "membership.manage"
    visible_action = "consortium.view"
    model = Consortium
    form_class = MembershipForm
    success_message = _("Member added.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "consortium": self.object}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "title": _("Add a member to %(name)s") % {"name": self.object}}

    def perform(self, form):
        return services.membership_add(actor=self.request.user, consortium=self.object, **form.cleaned_data)

    def get_success_url_for(self, result):
        return reverse("consortium-detail", args=[self.object.pk])


class MembershipEndView(ServiceFormView):
    policy_action = "membership.manage"
    visible_action = "membership.view"
    model = Membership
    form_class = MembershipEndForm
    success_message = _("Membership ended.")

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "title": _("End the membership of %(name)s") % {"name": self.object.institution},
        }

    def perform(self, form):
        return services.membership_end(actor=self.request.user, membership=self.object, **form.cleaned_data)

    def get_success_url_for(self, result):
        return reverse("consortium-detail", args=[self.object.consortium_id])


# --- Agreements ------------------------------------------------------------------------------------


class AgreementCreateView(ServiceFormView):
    policy_action = "agreement.manage"
    visible_action = "consortium.view"
    model = Consortium
    form_class = AgreementForm
    success_message = _("Agreement created as a draft (version 1).")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "consortium": self.object}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "title": _("New agreement in %(name)s") % {"name": self.object}}

    def perform(self, form):
        return services.agreement_create(actor=self.request.user, consortium=self.object, **form.cleaned_data)

    def get_success_url_for(self, result):
        return reverse("agreement-detail", args=[result.pk])


class AgreementDetailView(PolicyTemplateView):
    """An agreement opens on its newest version."""

    policy_action = "agreement.view"
    visible_action = "agreement.view"
    model = Agreement

    def get(self, request, *args, **kwargs):
        version = self.object.versions.order_by("-number").first()
        return redirect("agreement-version", pk=version.pk)


class AgreementVersionDetailView(PolicyTemplateView):
    policy_action = "agreement.view"
    visible_action = "agreement.view"
    model = AgreementVersion
    template_name = "consortium/agreement_version.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        version = selectors.agreement_version_detail(self.object.pk)
        signed = {s.institution_id: s for s in version.signatures.all()}
        manage = self.can("agreement.manage", version.agreement)
        context.update(
            version=version,
            agreement=version.agreement,
            versions=version.agreement.versions.order_by("-number"),
            parties=[(p, signed.get(p.institution_id), self.can("agreement.sign", p)) for p in version.parties.all()],
            can_manage=manage,
            readiness=services.agreement_readiness_problems(version)
            if manage and version.status == AgreementStatus.DRAFT
            else [],
            terminate_form=TerminateForm(),
            S=AgreementStatus,
        )
        return context


class VersionPolicyMixin:
    """Object is the version (for 404), the policy is checked on its agreement."""

    def get_policy_object(self):
        if getattr(self, "object", None) is None:
            queryset = policy.filter(
                self.request.user, "agreement.view", AgreementVersion.objects.select_related("agreement")
            )
            self.object = get_object_or_404(queryset, pk=self.kwargs["pk"])
        return self.object.agreement


class AgreementSectionsView(VersionPolicyMixin, ServiceFormView):
    policy_action = "agreement.manage"
    form_class = AgreementSectionsForm
    success_message = _("Agreement sections saved.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": AgreementVersion.objects.get(pk=self.object.pk)}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "title": _("Edit %(v)s") % {"v": self.object}}

    def perform(self, form):
        return services.agreement_version_update(actor=self.request.user, version=self.object, data=form.cleaned_data)

    def get_success_url_for(self, result):
        return reverse("agreement-version", args=[self.object.pk])


class FinancialModelView(VersionPolicyMixin, ServiceFormView):
    policy_action = "agreement.manage"
    form_class = FinancialModelForm
    success_message = _("Financial model saved.")
    intro = _("Fixed shares must add up to 100 %. With 'each keeps its own', leave the shares empty.")

    def get_form_kwargs(self):
        kwargs = {**super().get_form_kwargs(), "version": self.object}
        if self.request.method == "GET":
            kwargs["initial"] = {
                "revenue_model": self.object.revenue_model,
                "collecting_institution": self.object.collecting_institution_id,
                "sharing_basis": self.object.sharing_basis,
                "costs_shared": self.object.costs_shared,
            }
        return kwargs

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "title": _("Financial model of %(v)s") % {"v": self.object}}

    def perform(self, form):
        data = form.cleaned_data
        return services.agreement_financial_model_set(
            actor=self.request.user,
            version=self.object,
            revenue_model=data["revenue_model"],
            collecting_institution=data["collecting_institution"],
            sharing_basis=data["sharing_basis"],
            shares=form.shares(),
            costs_shared=data["costs_shared"],
        )

    def get_success_url_for(self, result):
        return reverse("agreement-version", args=[self.object.pk])


class PartyAddView(VersionPolicyMixin, ServiceFormView):
    policy_action = "agreement.manage"
    form_class = PartyAddForm
    success_message = _("Party added.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "version": self.object}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "title": _("Add a party to %(v)s") % {"v": self.object}}

    def perform(self, form):
        return services.agreement_party_add(actor=self.request.user, version=self.object, **form.cleaned_data)

    def get_success_url_for(self, result):
        return reverse("agreement-version", args=[self.object.pk])


class PartyRemoveView(ServiceActionView):
    policy_action = "agreement.manage"
    success_message = _("Party removed.")

    def get_policy_object(self):
        queryset = policy.filter(self.request.user, "agreement.view", AgreementVersion.objects.all())
        self.party = get_object_or_404(
            AgreementParty.objects.select_related("version__agreement", "institution").filter(version__in=queryset),
            pk=self.kwargs["pk"],
        )
        return self.party.version.agreement

    def perform(self):
        services.agreement_party_remove(actor=self.request.user, party=self.party)

    def get_redirect_url(self):
        return reverse("agreement-version", args=[self.party.version_id])


class SignView(VersionPolicyMixin, ServiceFormView):
    """Record a party's signature with the signed PDF."""

    policy_action = "agreement.view"
    form_class = SignatureForm
    success_message = _("Signature recorded.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "version": self.object, "user": self.request.user}

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "title": _("Record a signature of %(v)s") % {"v": self.object},
            "multipart": True,
        }

    def perform(self, form):
        return services.agreement_signature_record(actor=self.request.user, version=self.object, **form.cleaned_data)

    def get_success_url_for(self, result):
        return reverse("agreement-version", args=[self.object.pk])


class VersionTransitionView(VersionPolicyMixin, ServiceActionView):
    """The lifecycle buttons: send for signature, back to draft, bring into force, terminate."""

    policy_action = "agreement.manage"

    def perform(self):
        transition = self.kwargs["transition"]
        user = self.request.user
        if transition == "send":
            services.agreement_send_for_signature(actor=user, version=self.object)
            messages.success(self.request, _("Sent for signature."))
        elif transition == "draft":
            services.agreement_return_to_draft(actor=user, version=self.object)
            messages.success(self.request, _("Returned to draft."))
        elif transition == "in-force":
            services.agreement_bring_into_force(actor=user, version=self.object)
            messages.success(self.request, _("The agreement is in force."))
        elif transition == "terminate":
            form = TerminateForm(self.request.POST)
            if not form.is_valid():
                messages.error(self.request, _("Give the reason and date of termination."))
                return
            services.agreement_terminate(actor=user, version=self.object, **form.cleaned_data)
            messages.success(self.request, _("The agreement was terminated."))
        else:
            raise Http404

    def get_redirect_url(self):
        return reverse("agreement-version", args=[self.object.pk])


class VersionStartView(ServiceActionView):
    policy_action = "agreement.manage"
    visible_action = "agreement.view"
    model = Agreement

    def perform(self):
        self.new_version = services.agreement_version_start(actor=self.request.user, agreement=self.object)

    def get_redirect_url(self):
        version = getattr(self, "new_version", None) or self.object.versions.order_by("-number").first()
        return reverse("agreement-version", args=[version.pk])


class AddendumCreateView(VersionPolicyMixin, ServiceFormView):
    policy_action = "agreement.manage"
    form_class = AddendumForm
    success_message = _("Addendum drafted. Record it as in force once it is signed.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "version": self.object}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "title": _("A new partner joins %(v)s") % {"v": self.object}}

    def perform(self, form):
        return services.addendum_create(actor=self.request.user, version=self.object, **form.cleaned_data)

    def get_success_url_for(self, result):
        return reverse("agreement-version", args=[self.object.pk])


class AddendumInForceView(ServiceFormView):
    policy_action = "agreement.manage"
    form_class = AddendumInForceForm
    success_message = _("The addendum is in force; the new partner is a party.")

    def get_policy_object(self):
        if getattr(self, "object", None) is None:
            visible = policy.filter(self.request.user, "agreement.view", AgreementVersion.objects.all())
            self.object = get_object_or_404(
                Addendum.objects.select_related("version__agreement", "institution").filter(version__in=visible),
                pk=self.kwargs["pk"],
            )
        return self.object.version.agreement

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "title": str(self.object), "multipart": True}

    def perform(self, form):
        return services.addendum_bring_into_force(actor=self.request.user, addendum=self.object, **form.cleaned_data)

    def get_success_url_for(self, result):
        return reverse("agreement-version", args=[self.object.version_id])


class SignedPdfView(PolicyTemplateView):
    """A signed agreement or addendum PDF: private, served to those who may see the agreement."""

    policy_action = "agreement.view"

    def get_policy_object(self):
        visible = policy.filter(self.request.user, "agreement.view", AgreementVersion.objects.all())
        models = {"addendum": Addendum, "signature": AgreementSignature}
        if self.kwargs["kind"] not in models:
            raise Http404
        model = models[self.kwargs["kind"]]
        self.document = get_object_or_404(model.objects.filter(version__in=visible), pk=self.kwargs["pk"])
        return self.document.version.agreement

    def get(self, request, *args, **kwargs):
        if not self.document.signed_pdf:
            raise Http404
        return FileResponse(
            self.document.signed_pdf.open("rb"),
            content_type="application/pdf",
            as_attachment=True,
            filename=f"{self.kwargs['kind']}-{self.document.pk}.pdf",
        )


# --- API tokens ------------------------------------------------------------------------------------


class ApiTokenListView(PaginatedListView):
    policy_action = "apitoken.manage"
    template_name = "consortium/token_list.html"

    def get_queryset(self):
        return selectors.apitoken_list(user=self.request.user)


class ApiTokenCreateView(ServiceFormView):
    policy_action = "apitoken.manage"
    form_class = ApiTokenForm
    title = _("New API token")
    intro = _("The key is shown once, right after creation. Store it in the partner system's secrets.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def perform(self, form):
        from datetime import datetime, time

        from django.utils import timezone

        data = form.cleaned_data
        expires = data["expires_on"] and timezone.make_aware(datetime.combine(data["expires_on"], time.min))
        token, key = services.apitoken_create(
            actor=self.request.user,
            institution=data["institution"],
            name=data["name"],
            scopes=data["scopes"],
            expires_at=expires,
        )
        self.created = (token, key)
        return token

    def get_success_url_for(self, result):
        return reverse("token-list")  # not followed: form_valid shows the key once instead

    def form_valid(self, form):
        response = super().form_valid(form)
        if hasattr(self, "created"):
            token, key = self.created
            return render(self.request, "consortium/token_created.html", {"token": token, "key": key})
        return response


class ApiTokenRevokeView(ServiceActionView):
    policy_action = "apitoken.manage"
    model = ApiToken
    success_message = _("Token revoked; calls with it are refused from now on.")

    def get_policy_object(self):
        if getattr(self, "object", None) is None:
            self.object = get_object_or_404(selectors.apitoken_list(user=self.request.user), pk=self.kwargs["pk"])
        return self.object

    def perform(self):
        services.apitoken_revoke(actor=self.request.user, token=self.object)

    def get_redirect_url(self):
        return reverse("token-list")


# --- Staff and roles ----------------------------------------------------------------------------------


class StaffListView(PaginatedListView):
    policy_action = "staff.manage"
    template_name = "consortium/staff_list.html"

    def get_queryset(self):
        qs = selectors.staff_list(user=self.request.user)
        search = self.request.GET.get("q", "").strip()
        if search:
            qs = qs.filter(user__email__icontains=search) | qs.filter(user__full_name__icontains=search)
        return qs

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "grant_form": RoleGrantForm()}


class StaffAddView(ServiceFormView):
    policy_action = "staff.manage"
    form_class = StaffAddForm
    title = _("Add a staff member")
    intro = _("New people receive no password; they set one with 'Forgot password' on the login page.")
    success_message = _("Staff member added.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def perform(self, form):
        return services.staff_member_add(actor=self.request.user, **form.cleaned_data)

    def get_success_url_for(self, result):
        return reverse("staff-list")


class RoleGrantView(ServiceActionView):
    policy_action = "staff.manage"
    success_message = _("Role granted.")

    def get_policy_object(self):
        self.profile = get_object_or_404(selectors.staff_list(user=self.request.user), pk=self.kwargs["pk"])
        return self.profile.institution

    def perform(self):
        form = RoleGrantForm(self.request.POST)
        if not form.is_valid():
            from .errors import DomainError

            raise DomainError(_("Choose a role."))
        services.role_grant(
            actor=self.request.user,
            user=self.profile.user,
            role=form.cleaned_data["role"],
            institution=self.profile.institution,
        )

    def get_redirect_url(self):
        return reverse("staff-list")


class RoleRevokeView(ServiceActionView):
    policy_action = "staff.manage"
    success_message = _("Role revoked.")

    def get_policy_object(self):
        visible_users = selectors.staff_list(user=self.request.user).values("user_id")
        self.assignment = get_object_or_404(
            RoleAssignment.objects.select_related("institution", "user").filter(
                user_id__in=visible_users, institution__isnull=False, target_id__isnull=True
            ),
            pk=self.kwargs["pk"],
        )
        return self.assignment.institution

    def perform(self):
        services.role_revoke(actor=self.request.user, assignment=self.assignment)

    def get_redirect_url(self):
        return reverse("staff-list")


# --- Audit trail -----------------------------------------------------------------------------------


class AuditListView(PaginatedListView):
    """The audit trail, filtered; ``?export=csv`` downloads the filtered entries (up to ``AUDIT_EXPORT_LIMIT``)."""

    policy_action = "audit.view"
    template_name = "consortium/audit_list.html"
    paginate_by = 50

    def get(self, request, *args, **kwargs):
        self.filters = AuditFilterForm(request.GET)
        if request.GET.get("export") == "csv":
            header = [_("When"), _("Who"), _("Action"), _("Object type"), _("Object id"), _("Object"), _("Changes"),
                      _("Via")]
            rows = [[e.at.isoformat(), e.actor_label, e.action, e.object_type, e.object_id, e.object_repr,
                     json.dumps(e.changes, ensure_ascii=False), e.via]
                    for e in self.get_queryset()[:AUDIT_EXPORT_LIMIT]]
            audit.record(request.user, "audit.exported", request.user, {"rows": len(rows), "filters": request.GET})
            return csv_download([header, *rows], "audit-trail.csv")
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        self.filters.is_valid()  # an invalid field is shown with its error and left out of the filter
        values = self.filters.cleaned_data
        return selectors.audit_list(
            user=self.request.user,
            action=values.get("action", ""),
            actor=values.get("actor", ""),
            via=values.get("via", ""),
            obj=values.get("object", ""),
            since=values.get("since"),
            until=values.get("until"),
        )

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "filters": self.filters}

"""Partner API for admissions (D4).

Partners follow the applications to editions of the programmes they take part in; the reviewing institution
decides through the transition endpoints; every institution reports the registrations of enrolled learners on
its own systems. Thin: validate with a serializer, call one service, answer.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404  # 404, not 400, for an id that is not a UUID
from rest_framework.response import Response

from consortium.api import ExternalIdKind, identifiers
from consortium.rest.views import PolicyViewSet

from .. import services
from ..models import Application, ApplicationStatus, Enrolment
from . import serializers as s
from .filters import ApplicationFilter, EnrolmentFilter

REFUSED = {
    400: OpenApiResponse(description="Invalid input (field messages) or a rule refused it (`detail`)."),
    403: OpenApiResponse(description="Only the reviewing institution decides (token scope `applications:write`)."),
    404: OpenApiResponse(description="No such application among those you may see."),
    409: OpenApiResponse(description="The application's status does not allow this transition (`detail`)."),
}


@extend_schema_view(
    list=extend_schema(
        description="Submitted applications to editions of the programmes your institution takes part in "
        "(drafts are the learners' own until they submit). Documents are listed by label and kind only."
    ),
)
class ApplicationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PolicyViewSet):
    list_policy = "application.view"
    base_queryset = (
        Application.objects.exclude(status=ApplicationStatus.DRAFT)
        .select_related("edition__programme", "edition__admission_framework", "enrolment", "applicant")
        .prefetch_related("documents", "edition__programme__partners")
    )
    serializer_class = s.ApplicationSerializer
    policy_actions = {
        "list": "application.view",
        "retrieve": "application.view",
        "review": "application.review",
        "request_info": "application.review",
        "admit": "application.review",
        "waitlist": "application.review",
        "reject": "application.review",
        "withdraw": "application.review",
    }
    filterset_class = ApplicationFilter
    search_fields = ["given_names", "family_names", "email", "applicant__esi"]
    ordering_fields = ["submitted_at", "updated_at", "family_names", "status"]
    ordering = ["-submitted_at", "-created_at"]

    def get_queryset(self):
        return identifiers.annotate(super().get_queryset(), self.request.user, ExternalIdKind.LEARNER,
                                    name="learner_external_id_value", field="applicant_id")

    def _answer(self, application):
        fresh = get_object_or_404(self.get_queryset(), pk=application.pk)
        return Response(s.ApplicationSerializer(fresh, context=self.get_serializer_context()).data)

    def _transition(self, request, service, body_serializer=None, field=None):
        application = self.get_object()
        kwargs = {}
        if body_serializer is not None:
            serializer = body_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            kwargs[field] = serializer.validated_data[field]
        return self._answer(service(actor=request.user, application=application, **kwargs))

    @extend_schema(
        request=None,
        responses={200: s.ApplicationSerializer, **REFUSED},
        description="Start reviewing a submitted application.",
    )
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        return self._transition(request, services.application_review_start)

    @extend_schema(
        request=s.MessageSerializer,
        responses={200: s.ApplicationSerializer, **REFUSED},
        description="Ask the applicant for more information; the message is sent to them.",
    )
    @action(detail=True, methods=["post"], url_path="request-info")
    def request_info(self, request, pk=None):
        return self._transition(request, services.application_request_info, s.MessageSerializer, "message")

    @extend_schema(
        request=s.ReasonSerializer,
        responses={200: s.ApplicationSerializer, **REFUSED},
        description="Admit (make an offer) within the edition's capacity; refused with 400 when full.",
    )
    @action(detail=True, methods=["post"])
    def admit(self, request, pk=None):
        return self._transition(request, services.application_admit, s.ReasonSerializer, "reason")

    @extend_schema(
        request=s.ReasonSerializer,
        responses={200: s.ApplicationSerializer, **REFUSED},
        description="Put on the waiting list; a freed place is offered to the first waitlisted.",
    )
    @action(detail=True, methods=["post"])
    def waitlist(self, request, pk=None):
        return self._transition(request, services.application_waitlist, s.ReasonSerializer, "reason")

    @extend_schema(
        request=s.RequiredReasonSerializer,
        responses={200: s.ApplicationSerializer, **REFUSED},
        description="Reject, with the reason the applicant will read.",
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._transition(request, services.application_reject, s.RequiredReasonSerializer, "reason")

    @extend_schema(
        request=s.ReasonSerializer,
        responses={200: s.ApplicationSerializer, **REFUSED},
        description="Record the applicant's withdrawal; a place it held goes to the waiting list.",
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self._transition(request, services.application_withdraw, s.ReasonSerializer, "reason")


class EnrolmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PolicyViewSet):
    """Enrolled learners with their registrations at the institutions (the issuing one and partners whose
    platforms require it)."""

    list_policy = "enrolment.view"
    base_queryset = Enrolment.objects.select_related("application", "edition", "learner").prefetch_related(
        "registrations__institution"
    )
    serializer_class = s.EnrolmentSerializer
    policy_actions = {
        "list": "enrolment.view",
        "retrieve": "enrolment.view",
        "registration": "registration.update",
    }
    filterset_class = EnrolmentFilter
    search_fields = ["application__given_names", "application__family_names", "application__email", "learner__esi"]
    ordering_fields = ["enrolled_at", "updated_at"]
    ordering = ["enrolled_at"]

    def get_queryset(self):
        user = self.request.user
        queryset = identifiers.annotate(super().get_queryset(), user, ExternalIdKind.ENROLMENT)
        return identifiers.annotate(queryset, user, ExternalIdKind.LEARNER, name="learner_external_id_value",
                                    field="learner_id")

    @extend_schema(
        request=s.RegistrationUpdateSerializer,
        responses={
            200: s.EnrolmentSerializer,
            400: OpenApiResponse(description="Invalid status, or 'registered' without a student number."),
            403: OpenApiResponse(
                description="The registration belongs to another institution, or the token "
                "lacks the scope `enrolments:write`."
            ),
            404: OpenApiResponse(
                description="No such enrolment among those you may see (scope `enrolments:read`), "
                "or the learner is not to be registered at that institution."
            ),
        },
        parameters=[
            OpenApiParameter(
                "institution_id",
                OpenApiTypes.UUID,
                OpenApiParameter.PATH,
                description="Your institution's id: each institution reports its own registration.",
            ),
        ],
        description="Report the learner's registration on your institution's systems: the status and, once "
        "registered, the external student number. Needs the scopes `enrolments:read` and `enrolments:write`.",
    )
    @action(detail=True, methods=["patch"], url_path=r"registrations/(?P<institution_id>[0-9a-fA-F-]{36})")
    def registration(self, request, pk=None, institution_id=None):
        enrolment = get_object_or_404(self.get_queryset(), pk=pk)
        registration = get_object_or_404(enrolment.registrations.all(), institution_id=institution_id)
        self.check_object_permissions(request, registration)
        serializer = s.RegistrationUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = {
            "status": registration.status,
            "external_student_number": registration.external_student_number,
            "message": registration.message,
            **serializer.validated_data,
        }
        services.registration_update(actor=request.user, registration=registration, **values)
        fresh = get_object_or_404(self.get_queryset(), pk=enrolment.pk)
        return Response(s.EnrolmentSerializer(fresh, context=self.get_serializer_context()).data)

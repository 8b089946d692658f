"""Assessment staff pages: regulations, assessments and examiners, grade entry, the examination board."""

from django.urls import path

from . import views

urlpatterns = [
    path("assessment/", views.HomeView.as_view(), name="assessment-home"),
    # Regulations and conversion tables
    path("assessment/programmes/<uuid:pk>/regulations/", views.RegulationListView.as_view(), name="regulation-list"),
    path(
        "assessment/programmes/<uuid:pk>/regulations/new/",
        views.RegulationCreateView.as_view(),
        name="regulation-create",
    ),
    path("assessment/regulations/<uuid:pk>/", views.RegulationDetailView.as_view(), name="regulation-detail"),
    path("assessment/regulations/<uuid:pk>/settings/", views.RegulationUpdateView.as_view(), name="regulation-update"),
    path(
        "assessment/regulations/<uuid:pk>/conversions/<uuid:institution_pk>/",
        views.ConversionView.as_view(),
        name="regulation-conversion",
    ),
    path("assessment/regulations/<uuid:pk>/approve/", views.RegulationApproveView.as_view(), name="regulation-approve"),
    path("assessment/editions/<uuid:pk>/regulation/", views.EditionRegulationView.as_view(), name="edition-regulation"),
    # Assessments of an edition, examiners, result sheets
    path("assessment/editions/<uuid:pk>/", views.EditionAssessmentsView.as_view(), name="edition-assessments"),
    path(
        "assessment/editions/<uuid:pk>/courses/<uuid:course_pk>/components/new/",
        views.AssessmentCreateView.as_view(),
        name="assessment-create",
    ),
    path("assessment/components/<uuid:pk>/edit/", views.AssessmentEditView.as_view(), name="assessment-edit"),
    path(
        "assessment/editions/<uuid:pk>/courses/<uuid:course_pk>/examiners/",
        views.ExaminerAppointView.as_view(),
        name="examiner-appoint",
    ),
    path(
        "assessment/editions/<uuid:pk>/courses/<uuid:course_pk>/sheet/",
        views.SheetOpenView.as_view(),
        name="sheet-open",
    ),
    # Grade entry
    path("assessment/sheets/<uuid:pk>/", views.SheetGridView.as_view(), name="sheet-grid"),
    path("assessment/sheets/<uuid:pk>/submit/", views.SheetSubmitView.as_view(), name="sheet-submit"),
    path("assessment/sheets/<uuid:pk>/upload/", views.SheetUploadView.as_view(), name="sheet-upload"),
    path(
        "assessment/sheets/<uuid:pk>/upload/confirm/",
        views.SheetUploadConfirmView.as_view(),
        name="sheet-upload-confirm",
    ),
    path("assessment/sheets/<uuid:pk>/class-list.csv", views.ClassListView.as_view(), name="sheet-class-list"),
    path("assessment/sheets/<uuid:pk>/resit/", views.ResitOpenView.as_view(), name="sheet-resit"),
    # Examination board
    path("assessment/board/", views.BoardQueueView.as_view(), name="assessment-board"),
    path("assessment/board/sheets/<uuid:pk>/", views.SheetReviewView.as_view(), name="sheet-review"),
    path("assessment/board/sheets/<uuid:pk>/decide/", views.SheetDecideView.as_view(), name="sheet-decide"),
    path("assessment/grades/<uuid:pk>/", views.GradeDetailView.as_view(), name="grade-detail"),
    path("assessment/grades/<uuid:pk>/correct/", views.GradeCorrectView.as_view(), name="grade-correct"),
    path("assessment/appeals/<uuid:pk>/", views.AppealDecideView.as_view(), name="appeal-decide"),
]

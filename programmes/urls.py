from django.urls import path

from . import views, views_public

urlpatterns = [
    # --- Management pages (team leaders, members, boards) ---
    path("manage/programmes/", views.ProgrammeListView.as_view(), name="programme-list"),
    path("manage/programmes/new/", views.ProgrammeCreateView.as_view(), name="programme-create"),
    path("manage/programmes/<uuid:pk>/", views.ProgrammeManageView.as_view(), name="programme-manage"),
    path(
        "manage/programmes/<uuid:pk>/section/<slug:section>/",
        views.ProgrammeSectionView.as_view(),
        name="programme-section",
    ),
    path(
        "manage/programmes/<uuid:pk>/texts/<slug:language>/", views.ProgrammeTextView.as_view(), name="programme-texts"
    ),
    path("manage/programmes/<uuid:pk>/outcomes/add/", views.OutcomeAddView.as_view(), name="outcome-add"),
    path("manage/outcomes/<uuid:pk>/remove/", views.OutcomeRemoveView.as_view(), name="outcome-remove"),
    path("manage/programmes/<uuid:pk>/partners/add/", views.PartnerAddView.as_view(), name="programme-partner-add"),
    path(
        "manage/programme-partners/<uuid:pk>/remove/",
        views.PartnerRemoveView.as_view(),
        name="programme-partner-remove",
    ),
    path("manage/programmes/<uuid:pk>/stacking/", views.StackingView.as_view(), name="programme-stacking"),
    path("manage/programmes/<uuid:pk>/publish/", views.PublishView.as_view(), name="programme-publish"),
    path("manage/programmes/<uuid:pk>/archive/", views.ArchiveView.as_view(), name="programme-archive"),
    path("manage/programmes/<uuid:pk>/clone/", views.ProgrammeCloneView.as_view(), name="programme-clone"),
    path("manage/programmes/<uuid:pk>/team/", views.TeamView.as_view(), name="programme-team"),
    path("manage/programmes/<uuid:pk>/team/add/", views.TeamAddView.as_view(), name="team-add"),
    path("manage/team/<uuid:pk>/remove/", views.TeamRemoveView.as_view(), name="team-remove"),
    path("manage/programmes/<uuid:pk>/board/appoint/", views.BoardAppointView.as_view(), name="board-appoint"),
    path("manage/programmes/<uuid:pk>/tasks/add/", views.TaskAddView.as_view(), name="task-add"),
    path("manage/tasks/<uuid:pk>/done/", views.TaskDoneView.as_view(), name="task-done"),
    path("manage/curricula/<uuid:pk>/", views.CurriculumView.as_view(), name="curriculum"),
    path("manage/curricula/<uuid:pk>/courses/add/", views.CourseAddView.as_view(), name="course-add"),
    path("manage/courses/<uuid:pk>/edit/", views.CourseEditView.as_view(), name="course-edit"),
    path("manage/courses/<uuid:pk>/remove/", views.CourseRemoveView.as_view(), name="course-remove"),
    path("manage/curricula/<uuid:pk>/electives/", views.ElectiveView.as_view(), name="curriculum-electives"),
    path("manage/curricula/<uuid:pk>/submit/", views.CurriculumSubmitView.as_view(), name="curriculum-submit"),
    path("manage/curricula/<uuid:pk>/decide/", views.CurriculumDecideView.as_view(), name="curriculum-decide"),
    path("manage/curricula/<uuid:pk>/diff/", views.CurriculumDiffView.as_view(), name="curriculum-diff"),
    path("manage/programmes/<uuid:pk>/curricula/new/", views.CurriculumStartView.as_view(), name="curriculum-start"),
    path("manage/board/queue/", views.BoardQueueView.as_view(), name="board-queue"),
    path("manage/programmes/<uuid:pk>/editions/new/", views.EditionCreateView.as_view(), name="edition-create"),
    path("manage/editions/<uuid:pk>/edit/", views.EditionEditView.as_view(), name="edition-edit"),
    path("manage/editions/<uuid:pk>/clone/", views.EditionCloneView.as_view(), name="edition-clone"),
    path("manage/editions/<uuid:pk>/<slug:target>/", views.EditionTransitionView.as_view(), name="edition-transition"),
    # --- Public catalogue (programmes/views_public.py) ---
    path("programmes/", views_public.CatalogueView.as_view(), name="catalogue"),
    path("programmes/<slug:code>/", views_public.ProgrammePublicView.as_view(), name="programme-public"),
]

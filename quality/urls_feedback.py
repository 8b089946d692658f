"""The quality app's feedback pages: learners' and stakeholders' surveys, and the team's surveys, results, questions
and stakeholder invitations (``views_feedback``)."""

from django.urls import path

from . import views_feedback as views

urlpatterns = [
    # Learners (the path of the survey page is feedback.LEARNER_SURVEY_PATH, used in the emails).
    path("my/feedback/", views.MyFeedbackView.as_view(), name="my-feedback"),
    path("my/feedback/<uuid:pk>/", views.MyFeedbackSurveyView.as_view(), name="my-feedback-survey"),
    # Stakeholders: the link in their email (feedback.STAKEHOLDER_SURVEY_PATH), no account.
    path("feedback/<str:token>/", views.StakeholderSurveyView.as_view(), name="feedback-token"),
    # The programme's team and quality office.
    path("quality/programmes/<uuid:pk>/surveys/", views.ProgrammeSurveysView.as_view(), name="quality-surveys"),
    path("quality/programmes/<uuid:pk>/surveys/stakeholders/new/", views.StakeholderSurveyOpenView.as_view(),
         name="stakeholder-survey-open"),
    path("quality/programmes/<uuid:pk>/questions/<slug:audience>/", views.QuestionsView.as_view(),
         name="quality-questions"),
    path("quality/questions/<uuid:pk>/edit/", views.QuestionEditView.as_view(), name="question-edit"),
    path("quality/questions/<uuid:pk>/remove/", views.QuestionRemoveView.as_view(), name="question-remove"),
    path("quality/questions/<uuid:pk>/move/", views.QuestionMoveView.as_view(), name="question-move"),
    path("quality/surveys/<uuid:pk>/", views.SurveyResultsView.as_view(), name="survey-results"),
    path("quality/surveys/<uuid:pk>/close/", views.SurveyCloseView.as_view(), name="survey-close"),
    path("quality/surveys/<uuid:pk>/free-text.csv", views.SurveyFreeTextView.as_view(), name="survey-free-text"),
    path("quality/surveys/<uuid:pk>/invite/", views.StakeholderInviteView.as_view(), name="stakeholder-invite"),
    path("quality/surveys/<uuid:pk>/invitations/", views.StakeholderInvitationsView.as_view(),
         name="stakeholder-invitations"),
    path("quality/invitations/<uuid:pk>/renew/", views.InvitationRenewView.as_view(),
         name="stakeholder-invitation-renew"),
]

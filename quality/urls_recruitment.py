"""The quality app's recruitment pages: segments per consortium, campaigns and the funnel per programme."""

from django.urls import path

from . import views_recruitment as views

urlpatterns = [
    path("quality/consortia/<uuid:pk>/segments/", views.SegmentListView.as_view(), name="segment-list"),
    path("quality/consortia/<uuid:pk>/segments/new/", views.SegmentCreateView.as_view(), name="segment-create"),
    path("quality/segments/<uuid:pk>/edit/", views.SegmentEditView.as_view(), name="segment-edit"),
    path("quality/programmes/<uuid:pk>/campaigns/", views.CampaignListView.as_view(), name="campaign-list"),
    path("quality/programmes/<uuid:pk>/campaigns/new/", views.CampaignCreateView.as_view(), name="campaign-create"),
    path("quality/campaigns/<uuid:pk>/edit/", views.CampaignEditView.as_view(), name="campaign-edit"),
    path("quality/programmes/<uuid:pk>/funnel/", views.FunnelView.as_view(), name="recruitment-funnel"),
    path("quality/programmes/<uuid:pk>/funnel.csv", views.FunnelCsvView.as_view(), name="recruitment-funnel-csv"),
]

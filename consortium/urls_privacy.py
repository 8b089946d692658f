"""Personal data pages: the person's own (``my/data/``) and the platform administrators' (``privacy/``)."""

from django.urls import path

from . import views_privacy as views

urlpatterns = [
    path("my/data/", views.MyDataView.as_view(), name="my-data"),
    path("my/data/download/", views.MyDataDownloadView.as_view(), name="my-data-download"),
    path("my/data/erasure/", views.MyErasureRequestView.as_view(), name="my-data-erasure"),
    path("my/esi/", views.MyEsiView.as_view(), name="my-esi"),
    path("privacy/erasure/", views.ErasureListView.as_view(), name="erasure-list"),
    path("privacy/erasure/new/", views.ErasureRecordView.as_view(), name="erasure-create"),
    path("privacy/erasure/<uuid:pk>/", views.ErasureDetailView.as_view(), name="erasure-detail"),
    path("privacy/erasure/<uuid:pk>/carry-out/", views.ErasureCarryOutView.as_view(), name="erasure-carry-out"),
    path("privacy/erasure/<uuid:pk>/refuse/", views.ErasureRefuseView.as_view(), name="erasure-refuse"),
    path("privacy/processing/", views.ProcessingRecordView.as_view(), name="privacy-processing"),
]

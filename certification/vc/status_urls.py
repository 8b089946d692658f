"""The public status list of each issuer (policy PUBLIC): ``/issuers/<id>/status/revocation``."""

from django.urls import path

from . import status

urlpatterns = [
    path("issuers/<uuid:institution_id>/status/revocation", status.status_list_view, name="issuer-status-revocation"),
]

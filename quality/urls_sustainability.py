"""The quality app's sustainability pages."""

urlpatterns: list = []

"""The quality app's recruitment pages."""

urlpatterns: list = []

"""The quality app's review pages."""

urlpatterns: list = []

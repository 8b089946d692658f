"""The quality app's feedback pages."""

urlpatterns: list = []

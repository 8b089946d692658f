"""Refuse requests whose parameters contain a NUL character, before any view reads them.

PostgreSQL cannot store or compare text with NUL in it (psycopg2 raises ValueError), so a search box given one
would fail with a server error. Django's and DRF's form fields already refuse NUL; this covers the raw query
parameters and form fields that views read directly (search, filters, sort keys)."""

from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _


def _has_nul(data) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in data.lists())


class NullCharacterGuard:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Multipart bodies are left to the form fields (which refuse NUL): parsing them here would use up the
        # stream that a view reading ``request.body`` (a signed webhook) needs.
        form_encoded = request.content_type == "application/x-www-form-urlencoded"
        if _has_nul(request.GET) or (request.method == "POST" and form_encoded and _has_nul(request.POST)):
            text = _("The request contains a null character, which no field accepts. Remove it and try again.")
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": text, "code": "null_character"}, status=400)
            return HttpResponseBadRequest(text, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

"""Two-factor authentication for staff, enforced when ``MFA_REQUIRED_FOR_STAFF`` is on (the production default).

Anyone who works for an institution or holds a role (and every platform administrator) must have an
authenticator (TOTP, from allauth.mfa) before using anything but the account pages: pages redirect to the TOTP
set-up with a message; API calls made with the browser session are refused with 403. Partner systems use API
tokens and learners hold no role, so neither is affected.
"""

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from . import policy

#: Paths a staff member without an authenticator can still use: the account pages (where MFA is set up, and
#: logout), the language switch, static files, the health check, and the public verification pages.
ALLOWED_PREFIXES = ("/accounts/", "/i18n/", "/static/", "/healthz", "/verify/", "/api/v1/verify/")


def needs_second_factor(user) -> bool:
    if not user.is_authenticated or isinstance(user, policy.ServicePrincipal):
        return False
    actor = policy.actor_for(user)
    if not (actor.is_superuser or actor.is_staff_member or actor.assignments):
        return False
    from allauth.mfa.models import Authenticator

    return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class StaffMfaMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            settings.MFA_REQUIRED_FOR_STAFF
            and not request.path.startswith(ALLOWED_PREFIXES)
            and needs_second_factor(request.user)
        ):
            text = _("Your role requires two-factor authentication. Set up an authenticator app to continue.")
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": text, "code": "mfa_required"}, status=403)
            messages.warning(request, text)
            return HttpResponseRedirect(f"{reverse('mfa_activate_totp')}?next={request.path}")
        return self.get_response(request)

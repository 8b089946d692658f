from . import policy


def navigation(request):
    """What the top navigation offers this user (each link only when the policy allows it)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": {}}
    return {
        "nav": {
            "institutions": policy.can(user, "institution.view"),
            "programmes": policy.can(user, "programme.view"),
            "board": policy.can(user, "curriculum.decide"),
            "admissions": policy.can(user, "application.view"),
            "grades_enter": policy.can(user, "grades.enter"),
            "results_decide": policy.can(user, "results.decide"),
            "regulation_edit": policy.can(user, "regulation.edit"),
            "consortia": policy.can(user, "consortium.view"),
            "tokens": policy.can(user, "apitoken.manage"),
            "webhooks": policy.can(user, "webhook.manage"),
            "staff": policy.can(user, "staff.manage"),
            "audit": policy.can(user, "audit.view"),
            "privacy": policy.can(user, "privacy.manage"),
            "awards": policy.can(user, "award.decide"),
            "finance": policy.can(user, "finance.view"),
            "quality": policy.can(user, "quality.view"),
            "admin": user.is_superuser,
        }
    }

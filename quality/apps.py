from django.apps import AppConfig


class QualityConfig(AppConfig):
    """Quality assurance, recruitment and sustainability (D8–D10): reads every other app, imported by none."""

    name = "quality"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import personal_data, policy_rules  # noqa: F401  (registers personal-data handlers and rules)

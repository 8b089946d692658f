from django.apps import AppConfig


class AdmissionsConfig(AppConfig):
    name = "admissions"
    default_auto_field = "django.db.models.BigAutoField"

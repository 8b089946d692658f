from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig


class SuperuserAdminSite(AdminSite):
    """Django admin for platform superusers only: it bypasses institution isolation."""

    site_header = "JointCred platform administration"

    def has_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser


class SuperuserAdminConfig(AdminConfig):
    default_site = "consortium.admin_site.SuperuserAdminSite"

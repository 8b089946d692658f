import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consortium.identifiers import ESI_MAX_LENGTH, validate_esi

from .base import UUIDModel
from .institutions import Consortium, Institution


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person: staff of an institution (has a StaffProfile) or a learner (an applicant account)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=255, blank=True)
    is_staff = models.BooleanField(
        _("platform staff"), default=False, help_text=_("May log into the platform administration.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    esi = models.CharField(
        _("European Student Identifier"),
        max_length=ESI_MAX_LENGTH,
        blank=True,
        validators=[validate_esi],
        help_text=_("Your European Student Identifier (ESI), if your university gave you one, e.g. "
                    "urn:schac:personalUniqueCode:int:esi:es:12345678Z."),
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                Lower("esi"),
                condition=~Q(esi=""),
                name="user_esi_unique",
                violation_error_message=_("Another account already has this European Student Identifier."),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class StaffProfile(UUIDModel):
    """Ties a user to the institution that employs them."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="staff_profile")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="staff")
    job_title = models.CharField(_("job title"), max_length=255, blank=True)

    class Meta:
        ordering = ["institution", "user__email"]

    def __str__(self) -> str:
        return f"{self.user} ({self.institution})"


class Scope(models.TextChoices):
    CONSORTIUM = "consortium", _("Consortium")
    INSTITUTION = "institution", _("Institution")
    PROGRAMME = "programme", _("Programme")
    COURSE = "course", _("Course")


class Role(models.TextChoices):
    CONSORTIUM_ADMIN = "consortium_admin", _("Consortium administrator")
    INSTITUTION_ADMIN = "institution_admin", _("Institution administrator")
    TEAM_LEADER = "team_leader", _("Programme team leader")
    TEAM_MEMBER = "team_member", _("Programme team member")
    PROGRAMME_BOARD = "programme_board", _("Programme board member")
    EXAM_BOARD = "exam_board", _("Examination board member")
    EXAMINER = "examiner", _("Examiner")
    STUDENT_ADMIN = "student_admin", _("Student administrator")
    FINANCE_OFFICER = "finance_officer", _("Finance officer")
    QUALITY_OFFICER = "quality_officer", _("Quality-assurance officer")


#: The kind of object each role is granted on. Institution roles may be narrowed to programmes.
ROLE_SCOPES: dict[str, str] = {
    Role.CONSORTIUM_ADMIN: Scope.CONSORTIUM,
    Role.INSTITUTION_ADMIN: Scope.INSTITUTION,
    Role.TEAM_LEADER: Scope.PROGRAMME,
    Role.TEAM_MEMBER: Scope.PROGRAMME,
    Role.PROGRAMME_BOARD: Scope.PROGRAMME,
    Role.EXAM_BOARD: Scope.PROGRAMME,
    Role.EXAMINER: Scope.COURSE,
    Role.STUDENT_ADMIN: Scope.INSTITUTION,
    Role.FINANCE_OFFICER: Scope.INSTITUTION,
    Role.QUALITY_OFFICER: Scope.INSTITUTION,
}


class RoleAssignment(UUIDModel):
    """A role held by a user on one scope.

    Programme and course scopes live in higher apps, so they are referenced by UUID (``target_id``)
    rather than a foreign key; dependencies point downward only. An institution role with a
    ``target_id`` is narrowed to that programme.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    consortium = models.ForeignKey(
        Consortium, null=True, blank=True, on_delete=models.CASCADE, related_name="role_assignments"
    )
    institution = models.ForeignKey(
        Institution, null=True, blank=True, on_delete=models.CASCADE, related_name="role_assignments"
    )
    target_id = models.UUIDField(_("programme or course"), null=True, blank=True)
    # Canonical text of the scope, so one unique key works on every database (NULLs are distinct).
    scope_key = models.CharField(max_length=160, editable=False)
    granted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["user", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "scope_key"], name="role_assignment_unique"),
            models.CheckConstraint(
                condition=(
                    models.Q(role="consortium_admin", consortium__isnull=False, institution__isnull=True)
                    | models.Q(
                        role__in=["institution_admin", "student_admin", "finance_officer", "quality_officer"],
                        consortium__isnull=True,
                        institution__isnull=False,
                    )
                    | models.Q(
                        role__in=["team_leader", "team_member", "programme_board", "exam_board", "examiner"],
                        consortium__isnull=True,
                        target_id__isnull=False,
                    )
                ),
                name="role_assignment_scope_matches_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} ({self.scope_key})"

    @property
    def scope(self) -> str:
        return ROLE_SCOPES[self.role]

    @staticmethod
    def make_scope_key(*, consortium_id=None, institution_id=None, target_id=None) -> str:
        parts = []
        if consortium_id:
            parts.append(f"c:{consortium_id}")
        if institution_id:
            parts.append(f"i:{institution_id}")
        if target_id:
            parts.append(f"t:{target_id}")
        return "/".join(parts)

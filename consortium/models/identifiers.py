from django.db import models
from django.utils.translation import gettext_lazy as _

from consortium.identifiers import EXTERNAL_ID_MAX_LENGTH, validate_external_id

from .base import UUIDModel
from .institutions import Institution


class ExternalIdKind(models.TextChoices):
    """The records partners key by their own ids. They live in higher apps, so ``object_id`` is a plain UUID."""

    LEARNER = "learner", _("Learner")
    ENROLMENT = "enrolment", _("Enrolment")
    COURSE = "course", _("Course")


class ExternalId(UUIDModel):
    """One institution's own id for one of our records (its student number, its enrolment or course key).

    Private to that institution: no other institution reads it. One value per record and kind, and one record per
    value and kind, within the institution.
    """

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="external_ids")
    kind = models.CharField(_("kind"), max_length=16, choices=ExternalIdKind.choices)
    object_id = models.UUIDField(_("record"))
    value = models.CharField(_("external id"), max_length=EXTERNAL_ID_MAX_LENGTH, validators=[validate_external_id])

    class Meta:
        ordering = ["institution", "kind", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "kind", "value"],
                name="external_id_value_unique",
                violation_error_message=_("Your institution already uses this external id for another record."),
            ),
            models.UniqueConstraint(
                fields=["institution", "kind", "object_id"],
                name="external_id_one_per_record",
                violation_error_message=_("This record already has an external id of your institution."),
            ),
        ]
        indexes = [models.Index(fields=["kind", "object_id"], name="external_id_object")]

    def __str__(self) -> str:
        return f"{self.institution}: {self.kind} {self.value}"

"""Sustainability (D10): the partners' multi-year commitments to a programme.

A ``Commitment`` is what one partner institution of a programme undertakes to contribute each calendar year from
``first_year`` to ``last_year``: money (EUR per year), staff time (hours per year) or something in kind (a platform,
labs; ``amount`` is then its estimated value in EUR per year, 0 when not valued). It is proposed, then confirmed
(optionally pointing at the consortium agreement that records it) or withdrawn; only confirmed commitments count on
the sustainability dashboard (``quality.sustainability``). No person is stored: the audit trail says who did what.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from consortium.api import Agreement, Institution, UUIDModel
from programmes.api import Programme, in_partnership

__all__ = ["COMMITMENT_MAX_YEARS", "COMMITMENT_YEAR_MAX", "COMMITMENT_YEAR_MIN", "Commitment", "CommitmentKind",
           "CommitmentStatus"]

#: The calendar years a commitment may cover (as the business plan's years) and its longest span.
COMMITMENT_YEAR_MIN, COMMITMENT_YEAR_MAX = 2000, 2100
COMMITMENT_MAX_YEARS = 10


class CommitmentKind(models.TextChoices):
    MONEY = "money", _("Money (EUR per year)")
    STAFF_HOURS = "staff_hours", _("Staff time (hours per year)")
    IN_KIND = "in_kind", _("In kind: platform, labs, facilities (estimated EUR per year)")


class CommitmentStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    CONFIRMED = "confirmed", _("Confirmed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Commitment(UUIDModel):
    """One partner's contribution to a programme per calendar year, over a range of years."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("partner institution"))
    first_year = models.PositiveSmallIntegerField(
        _("first year"), validators=[MinValueValidator(COMMITMENT_YEAR_MIN), MaxValueValidator(COMMITMENT_YEAR_MAX)])
    last_year = models.PositiveSmallIntegerField(
        _("last year"), validators=[MinValueValidator(COMMITMENT_YEAR_MIN), MaxValueValidator(COMMITMENT_YEAR_MAX)],
        help_text=_("The commitment covers every calendar year from the first to the last, both included."))
    kind = models.CharField(_("kind"), max_length=16, choices=CommitmentKind.choices)
    amount = models.DecimalField(
        _("amount per year"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))],
        help_text=_("EUR per year for money and in kind (its estimated value; 0 if not valued), hours per year for "
                    "staff time."))
    description = models.TextField(_("description"), blank=True, max_length=2000)
    status = models.CharField(_("status"), max_length=16, choices=CommitmentStatus.choices,
                              default=CommitmentStatus.PROPOSED)
    agreement = models.ForeignKey(
        Agreement, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("recorded in agreement"),
        help_text=_("The consortium agreement (or addendum) that records this commitment, if any."))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawal_reason = models.TextField(_("reason for withdrawing"), blank=True, max_length=2000)

    class Meta:
        ordering = ["programme", "first_year", "institution__short_name", "kind"]
        constraints = [
            models.CheckConstraint(condition=Q(first_year__lte=F("last_year")), name="commitment_years_in_order"),
            models.CheckConstraint(
                condition=Q(first_year__gte=COMMITMENT_YEAR_MIN, last_year__lte=COMMITMENT_YEAR_MAX),
                name="commitment_years_in_range"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="commitment_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(status="proposed", confirmed_at__isnull=True, withdrawn_at__isnull=True)
                | Q(status="confirmed", confirmed_at__isnull=False, withdrawn_at__isnull=True)
                | Q(status="withdrawn", withdrawn_at__isnull=False),
                name="commitment_status_dates"),
        ]
        indexes = [models.Index(fields=["programme", "status"], name="commitment_programme_status")]

    def __str__(self) -> str:
        return f"{self.institution} → {self.programme} {self.years_label}"

    @property
    def years_label(self) -> str:
        return str(self.first_year) if self.first_year == self.last_year else f"{self.first_year}–{self.last_year}"

    @property
    def years(self) -> range:
        return range(self.first_year, self.last_year + 1)

    @property
    def unit(self) -> str:
        return "h" if self.kind == CommitmentKind.STAFF_HOURS else "EUR"

    def covers(self, year: int) -> bool:
        return self.first_year <= year <= self.last_year

    def clean(self) -> None:
        """The rules across fields that hold for the record's whole life: years in order and at most
        ``COMMITMENT_MAX_YEARS`` of them, an agreement of the programme's consortium, and a description for what is
        given in kind. That the institution is in the programme's partnership is checked by the services when a
        commitment is proposed, changed or confirmed (``partnership_errors``), not here: a partner that later leaves
        the programme must still be able to withdraw what it committed."""
        errors: dict[str, str] = {}
        if isinstance(self.first_year, int) and isinstance(self.last_year, int):
            if self.last_year < self.first_year:
                errors["last_year"] = _("The last year cannot come before the first year.")
            elif self.last_year - self.first_year + 1 > COMMITMENT_MAX_YEARS:
                errors["last_year"] = _("A commitment covers at most %(n)d years; record a longer one as "
                                        "several.") % {"n": COMMITMENT_MAX_YEARS}
        if self.programme_id and self.agreement_id and self.agreement.consortium_id != self.programme.consortium_id:
            errors["agreement"] = _("The agreement is not one of the programme's consortium.")
        if self.kind == CommitmentKind.IN_KIND and not (self.description or "").strip():
            errors["description"] = _("Say what is given in kind (e.g. 'virtual lab licences for 40 learners').")
        if errors:
            raise ValidationError(errors)

    def partnership_errors(self) -> dict[str, str]:
        """``{"institution": message}`` when the institution is not (or no longer) the lead or a partner of the
        programme, else nothing."""
        if self.programme_id and self.institution_id and not in_partnership(self.programme, self.institution_id):
            return {"institution": _("This institution is neither the lead nor a partner of the programme.")}
        return {}

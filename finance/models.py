"""Finance (D7): full-cost budgets, fee tables with discounts and sponsorships, invoices numbered without gaps,
payments, credit notes and refunds, public funding; settlements are computed (``finance.settlement``), not stored.

Money is ``Decimal`` in EUR with two places everywhere (``finance.money``), never float."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from admissions.api import Application, ParticipantProfile, Track
from consortium.api import Institution, UUIDModel, private_storage
from programmes.api import Edition, Programme

MONEY = {"max_digits": 12, "decimal_places": 2}
PERCENT = {"max_digits": 5, "decimal_places": 2,
           "validators": [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]}


class EditionFinance(UUIDModel):
    """The financial terms of one edition: VAT, payment terms, refunds after the start."""

    edition = models.OneToOneField(Edition, on_delete=models.CASCADE, related_name="finance")
    currency = models.CharField(_("currency"), max_length=3, default="EUR", editable=False)
    vat_rate = models.DecimalField(_("VAT rate (%)"), default=Decimal("0"), **PERCENT,
                                   help_text=_("0 for education services exempt from VAT (the default)."))
    vat_note = models.CharField(
        _("VAT note"), max_length=255, blank=True,
        default="Exempt from VAT: education services (Art. 132(1)(i) Council Directive 2006/112/EC).")
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=30,
                                                          validators=[MaxValueValidator(365)])
    refund_percent_after_start = models.DecimalField(
        _("refund after the start (%)"), default=Decimal("0"), **PERCENT,
        help_text=_("Share of the fee refunded when a learner withdraws after the edition started. Before the "
                    "start the refund is always full."))

    def __str__(self) -> str:
        return f"Financial terms of {self.edition}"


class Fee(UUIDModel):
    """One line of an edition's fee table: the amount for a participant profile and track. An empty profile is
    the amount for every profile without a line of its own."""

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="fees")
    profile = models.CharField(_("participant profile"), max_length=20, choices=ParticipantProfile.choices,
                               blank=True)
    track = models.CharField(_("track"), max_length=12, choices=Track.choices)
    amount = models.DecimalField(_("amount (EUR)"), **MONEY, validators=[MinValueValidator(Decimal("0"))])

    class Meta:
        ordering = ["edition", "track", "profile"]
        constraints = [
            models.UniqueConstraint(fields=["edition", "profile", "track"], name="fee_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="fee_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_profile_display() or _('Any profile')}, {self.get_track_display()}: {self.amount}"


class DiscountRule(models.TextChoices):
    EARLY_BIRD = "early_bird", _("Early bird (application submitted by a date)")
    PARTNER_STAFF = "partner_staff", _("Staff of a partner institution (email domain)")
    PROFILE = "profile", _("Participant profile")


class DiscountKind(models.TextChoices):
    PERCENT = "percent", _("Percentage")
    FIXED = "fixed", _("Fixed amount")


class Discount(UUIDModel):
    """A discount of an edition. A learner gets the single largest discount they qualify for (no stacking)."""

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="discounts")
    name = models.CharField(_("name"), max_length=120)
    rule = models.CharField(_("who qualifies"), max_length=16, choices=DiscountRule.choices)
    kind = models.CharField(_("kind"), max_length=8, choices=DiscountKind.choices)
    value = models.DecimalField(_("value"), **MONEY, validators=[MinValueValidator(Decimal("0"))],
                                help_text=_("A percentage (0–100) or an amount in EUR."))
    valid_until = models.DateField(_("applications submitted by"), null=True, blank=True)
    profile = models.CharField(_("participant profile"), max_length=20, choices=ParticipantProfile.choices,
                               blank=True)
    email_domains = models.JSONField(_("email domains"), default=list, blank=True,
                                     help_text=_("For partner staff: e.g. kuleuven.be, uned.es."))

    class Meta:
        ordering = ["edition", "name"]
        constraints = [
            models.CheckConstraint(condition=~Q(kind="percent") | Q(value__lte=100), name="discount_percent_max"),
            models.CheckConstraint(condition=~Q(rule="early_bird") | Q(valid_until__isnull=False),
                                   name="discount_early_bird_date"),
            models.CheckConstraint(condition=~Q(rule="profile") | ~Q(profile=""), name="discount_profile_set"),
        ]

    def __str__(self) -> str:
        return self.name


class Sponsorship(UUIDModel):
    """An employer (or other body) pays for named learners (their emails) or for a number of places."""

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="sponsorships")
    sponsor_name = models.CharField(_("sponsor"), max_length=255)
    sponsor_address = models.TextField(_("invoice address"), blank=True)
    sponsor_vat_number = models.CharField(_("VAT number"), max_length=32, blank=True)
    sponsor_email = models.EmailField(_("invoice email"), blank=True)
    learner_emails = models.JSONField(_("named learners (emails)"), default=list, blank=True)
    places = models.PositiveIntegerField(_("places"), null=True, blank=True,
                                         help_text=_("Learners who name this sponsor on their application, up to "
                                                     "this number (empty: named learners only)."))
    places_used = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["edition", "sponsor_name"]
        constraints = [
            models.UniqueConstraint(fields=["edition", "sponsor_name"], name="sponsorship_unique"),
            models.CheckConstraint(condition=Q(places__isnull=True) | Q(places_used__lte=models.F("places")),
                                   name="sponsorship_places_not_exceeded"),
        ]

    def __str__(self) -> str:
        return self.sponsor_name


# --- Budgets -----------------------------------------------------------------------------------------------------


class BudgetKind(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ACTUAL = "actual", _("Actual")


class Budget(UUIDModel):
    """A version of an edition's full-cost budget, planned or actual."""

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="budgets")
    kind = models.CharField(_("kind"), max_length=8, choices=BudgetKind.choices, default=BudgetKind.PLANNED)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["edition", "kind", "-version"]
        constraints = [models.UniqueConstraint(fields=["edition", "kind", "version"], name="budget_version_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} budget v{self.version} of {self.edition}"


class CostCategory(models.TextChoices):
    CURRICULUM_DEVELOPMENT = "curriculum_development", _("Preparatory: curriculum development")
    TEACHING = "teaching", _("Running: teaching")
    PLATFORM_IT = "platform_it", _("Running: platform and IT")
    STUDENT_ADMINISTRATION = "student_administration", _("Running: student administration")
    INVITED_SPEAKERS = "invited_speakers", _("Running: invited speakers")
    STUDENT_MOBILITY = "student_mobility", _("Running: student mobility")
    STAFF_MOBILITY = "staff_mobility", _("Running: staff mobility")
    ADDITIONAL = "additional", _("Additional")


#: Costs that do not grow with the number of learners (the business plan's fixed costs); the rest are per learner
#: when ``CostLine.per_learner`` is set.
PREPARATORY = {CostCategory.CURRICULUM_DEVELOPMENT}


class CostLine(UUIDModel):
    """``quantity × unit_cost`` (e.g. teaching hours × hourly rate), borne by one partner institution."""

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="lines")
    category = models.CharField(_("category"), max_length=24, choices=CostCategory.choices)
    description = models.CharField(_("description"), max_length=255)
    borne_by = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("borne by"))
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2, default=Decimal("1"),
                                   validators=[MinValueValidator(Decimal("0"))])
    unit_cost = models.DecimalField(_("unit cost (EUR)"), **MONEY, validators=[MinValueValidator(Decimal("0"))])
    per_learner = models.BooleanField(_("per learner"), default=False,
                                      help_text=_("The quantity is per enrolled learner (business plan)."))

    class Meta:
        ordering = ["budget", "category", "description"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=0) & Q(unit_cost__gte=0),
                                              name="cost_line_not_negative")]

    def __str__(self) -> str:
        return self.description

    @property
    def amount(self) -> Decimal:
        from .money import cents

        return cents(self.quantity * self.unit_cost)


class Grant(UUIDModel):
    """Public funding as income, e.g. an Erasmus+ Blended Intensive Programme grant."""

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="grants")
    funder = models.CharField(_("funder / scheme"), max_length=255)
    received_by = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("amount (EUR)"), **MONEY, validators=[MinValueValidator(Decimal("0"))])
    participants_covered = models.PositiveIntegerField(_("participants covered"), null=True, blank=True)
    eligibility_notes = models.TextField(_("eligibility notes"), blank=True)

    class Meta:
        ordering = ["edition", "funder"]

    def __str__(self) -> str:
        return f"{self.funder}: {self.amount}"


# --- Invoices ----------------------------------------------------------------------------------------------------


class SequenceKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


class NumberSequence(UUIDModel):
    """Gapless numbering per issuing institution, year and kind: the row is locked while a number is taken, in
    the transaction that saves the document, so a rollback gives the number back."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=SequenceKind.choices)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["institution", "kind", "year"], name="sequence_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.year} of {self.institution_id}: {self.last_number}"


class InvoiceStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    PAID = "paid", _("Paid")
    CREDITED = "credited", _("Credited")


class Invoice(UUIDModel):
    """An invoice for one learner's place, to the learner or to their sponsor. Immutable once issued except for
    its status; corrections are credit notes."""

    number = models.CharField(_("number"), max_length=32, editable=False)
    issuer = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    sequence_year = models.PositiveSmallIntegerField(editable=False)
    sequence_number = models.PositiveIntegerField(editable=False)
    edition = models.ForeignKey(Edition, on_delete=models.PROTECT, related_name="invoices")
    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="invoice")
    sponsorship = models.ForeignKey(Sponsorship, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="invoices")
    recipient_name = models.CharField(_("recipient"), max_length=255)
    recipient_address = models.TextField(_("address"), blank=True)
    recipient_email = models.EmailField(_("email"), blank=True)
    recipient_vat_number = models.CharField(_("VAT number"), max_length=32, blank=True)
    learner_name = models.CharField(_("learner"), max_length=255)
    status = models.CharField(_("status"), max_length=10, choices=InvoiceStatus.choices,
                              default=InvoiceStatus.ISSUED, db_index=True)
    issued_on = models.DateField(_("issued on"))
    due_on = models.DateField(_("due on"))
    net = models.DecimalField(_("net"), **MONEY)
    vat_rate = models.DecimalField(_("VAT rate (%)"), **PERCENT)
    vat = models.DecimalField(_("VAT"), **MONEY)
    total = models.DecimalField(_("total"), **MONEY)
    vat_note = models.CharField(max_length=255, blank=True)
    pdf = models.FileField(upload_to="invoices/%Y/", storage=private_storage, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-issued_on", "-sequence_number"]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "sequence_year", "sequence_number"],
                                    name="invoice_number_unique"),
            models.CheckConstraint(condition=Q(total=models.F("net") + models.F("vat")), name="invoice_total"),
            models.CheckConstraint(condition=Q(net__gte=0), name="invoice_net_not_negative"),
        ]

    def __str__(self) -> str:
        return self.number


class InvoiceLine(UUIDModel):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(_("description"), max_length=255)
    amount = models.DecimalField(_("amount"), **MONEY)  # negative for a discount

    class Meta:
        ordering = ["invoice", "position"]

    def __str__(self) -> str:
        return self.description


class PaymentMethod(models.TextChoices):
    MANUAL = "manual", _("Recorded manually (bank transfer)")
    PROVIDER = "provider", _("Payment provider")


class Payment(UUIDModel):
    """Money received for an invoice; a refund is a payment with a negative amount linked to its credit note."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(_("amount"), **MONEY)
    method = models.CharField(_("method"), max_length=10, choices=PaymentMethod.choices)
    reference = models.CharField(_("reference"), max_length=128, blank=True)
    provider = models.CharField(max_length=32, blank=True)
    provider_event_id = models.CharField(max_length=128, blank=True)
    received_on = models.DateField(_("received on"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    credit_note = models.OneToOneField("CreditNote", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="refund")

    class Meta:
        ordering = ["invoice", "received_on", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "provider_event_id"], condition=~Q(provider_event_id=""),
                                    name="payment_provider_event_unique"),
            models.CheckConstraint(condition=~Q(amount=0), name="payment_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} for {self.invoice}"


class CreditNote(UUIDModel):
    """Cancels all or part of an invoice (withdrawal, correction); numbered in its own gapless series."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    number = models.CharField(_("number"), max_length=32, editable=False)
    sequence_year = models.PositiveSmallIntegerField(editable=False)
    sequence_number = models.PositiveIntegerField(editable=False)
    issuer = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("amount credited"), **MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    reason = models.CharField(_("reason"), max_length=255)
    issued_on = models.DateField(_("issued on"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")

    class Meta:
        ordering = ["-issued_on", "-sequence_number"]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "sequence_year", "sequence_number"],
                                    name="credit_note_number_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_note_positive"),
        ]

    def __str__(self) -> str:
        return self.number


class PlanYear(UUIDModel):
    """One year of a programme's medium-term (3–5 year) plan: projected editions and learners."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="plan_years")
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    editions = models.PositiveSmallIntegerField(_("editions"), default=1)
    learners_per_edition = models.PositiveIntegerField(_("learners per edition"))
    average_fee = models.DecimalField(_("average fee (EUR)"), **MONEY, validators=[MinValueValidator(Decimal("0"))])
    fixed_cost_per_edition = models.DecimalField(_("fixed cost per edition (EUR)"), **MONEY,
                                                 validators=[MinValueValidator(Decimal("0"))])
    variable_cost_per_learner = models.DecimalField(_("cost per learner (EUR)"), **MONEY,
                                                    validators=[MinValueValidator(Decimal("0"))])
    public_funding = models.DecimalField(_("public funding (EUR)"), default=Decimal("0"), **MONEY,
                                         validators=[MinValueValidator(Decimal("0"))])

    class Meta:
        ordering = ["programme", "year"]
        constraints = [models.UniqueConstraint(fields=["programme", "year"], name="plan_year_unique")]

    def __str__(self) -> str:
        return f"{self.programme} {self.year}"

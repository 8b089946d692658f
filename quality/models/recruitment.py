"""Recruitment (D9): target segments, campaigns with tracked links, visits of the public programme pages.

A campaign is recognised everywhere by its ``code``: the tracked link puts it in ``utm_campaign``, the public
programme page carries it onto the Apply link, and admissions stores it on the application. Page visits are
counters (one row per programme, campaign and day), never a record of a person.
"""

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from consortium.api import Consortium, UUIDModel
from programmes.api import Edition, Programme

__all__ = ["CAMPAIGN_CODE_MAX", "CAMPAIGN_CODE_MIN", "CAMPAIGN_CODE_PATTERN", "Campaign", "Channel", "PageVisit",
           "Segment"]

#: A campaign code: lower-case letters and digits in groups joined by single hyphens ("spring-2027-linkedin").
CAMPAIGN_CODE_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CAMPAIGN_CODE_MAX = 64
CAMPAIGN_CODE_MIN = 3

campaign_code_validator = RegexValidator(
    CAMPAIGN_CODE_PATTERN,
    _("Use lower-case letters, digits and single hyphens between them (e.g. 'spring-2027-linkedin')."),
    code="invalid_campaign_code",
)
source_validator = RegexValidator(
    CAMPAIGN_CODE_PATTERN,
    _("Use lower-case letters, digits and single hyphens between them (e.g. 'linkedin', 'alumni-newsletter')."),
    code="invalid_campaign_source",
)


class Segment(UUIDModel):
    """A learner target profile of a consortium (D9: "Senior Expert", "Junior Starter", …). Campaigns aim at one.

    Archived segments keep their campaigns and figures but are not offered for new campaigns."""

    consortium = models.ForeignKey(Consortium, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=80)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["consortium", "position", "name"]
        constraints = [
            models.UniqueConstraint(
                "consortium", Lower("name"), name="segment_name_unique_per_consortium",
                violation_error_message=_("The consortium already has a segment with this name.")),
        ]

    def __str__(self) -> str:
        return self.name


class Channel(models.TextChoices):
    """Where a campaign's link is published. The value is the link's ``utm_medium``."""

    EMAIL = "email", _("Email")
    NEWSLETTER = "newsletter", _("Newsletter")
    SOCIAL = "social", _("Social media")
    SEARCH = "search", _("Search")
    PARTNER_WEBSITE = "partner_website", _("Partner website")
    EVENT = "event", _("Fair / event")
    OTHER = "other", _("Other")


class Campaign(UUIDModel):
    """A recruitment campaign of a programme (optionally for one edition) aimed at a segment through a channel.

    ``code`` is unique across the platform and never changes: it is the ``utm_campaign`` of the tracked link, so
    the visits and applications it brings are attributed to the campaign (and its segment) by it."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    edition = models.ForeignKey(Edition, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                help_text=_("Leave empty for a campaign about the programme as a whole."))
    segment = models.ForeignKey(Segment, on_delete=models.PROTECT, related_name="campaigns")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    source = models.CharField(
        _("source"), max_length=CAMPAIGN_CODE_MAX, blank=True, validators=[source_validator],
        help_text=_("Where exactly the link is published, e.g. 'linkedin' or 'alumni-newsletter' (the link's "
                    "utm_source). Leave empty to use the channel."))
    name = models.CharField(_("name"), max_length=120)
    code = models.CharField(
        _("code"), max_length=CAMPAIGN_CODE_MAX, unique=True, validators=[campaign_code_validator],
        error_messages={"unique": _("Another campaign already uses this code; codes are unique across the "
                                    "platform. Choose another one.")},
        help_text=_("Identifies the campaign in its link (utm_campaign). Cannot be changed later."))
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["programme", "code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        errors = {}
        if self.edition_id and self.programme_id and self.edition.programme_id != self.programme_id:
            errors["edition"] = _("The edition is not an edition of this programme.")
        if self.segment_id and self.programme_id and self.segment.consortium_id != self.programme.consortium_id:
            errors["segment"] = _("The segment belongs to another consortium than the programme.")
        if errors:
            raise ValidationError(errors)

    @property
    def utm_source(self) -> str:
        return self.source or self.channel

    @property
    def utm_medium(self) -> str:
        return self.channel


class PageVisit(models.Model):
    """How many times the public page of a programme was shown on a day, through a campaign or without one.

    No personal data: no address, no cookie, no user, only a counter. Incremented in the database
    (``quality.recruitment.visit_record``); the partial unique constraints make one row per key, the campaign-less
    row included (NULLs are distinct in a plain unique constraint)."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="visits")
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["programme", "day"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "campaign", "day"], condition=Q(campaign__isnull=False),
                                    name="page_visit_unique_with_campaign"),
            models.UniqueConstraint(fields=["programme", "day"], condition=Q(campaign__isnull=True),
                                    name="page_visit_unique_without_campaign"),
            models.CheckConstraint(condition=Q(count__gte=0), name="page_visit_count_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.programme_id} {self.day}: {self.count}"

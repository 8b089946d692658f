"""Demo recruitment (D9): the consortium's default learner target segments, four campaigns of Chip Design
Fundamentals (CDF) with their tracked links, the demo applications of its open edition attributed to them as if the
applicants had followed those links, and the public page's visit counters over the application window so far.

Idempotent: once the CDF programme has campaigns, nothing is added again. The admissions demo starts every
application with ``utm_campaign=spring-2027`` (a code no campaign has); this seeder re-attributes the CDF
applications, in their order, to its campaigns (``ATTRIBUTION``) or to no campaign, the way the tracked links would
have carried the parameters, so the funnel shows believable conversions per segment.
"""

from __future__ import annotations

import datetime as dt
import random

from django.db.models import F
from django.urls import reverse

from admissions.api import Application
from programmes.api import Programme

from .. import recruitment
from ..models import PageVisit

PROGRAMME = "euchip-cdf"
DEMO_LEARNER = "learner@example.org"

#: key → (code, segment, channel, source, name, for the open edition only, visits over the window so far)
CAMPAIGNS = {
    "L": ("cdf-2027-linkedin", "Senior Explorer", "social", "linkedin", "LinkedIn: move into chip design", False,
          140),
    "E": ("cdf-2027-eurochip-news", "Senior Expert", "newsletter", "eurochip-staff-news",
          "EuroChip staff newsletter", True, 45),
    "F": ("cdf-2027-career-fair", "Junior Starter", "event", "kuleuven-career-fair", "KU Leuven career fair", True,
          60),
    "P": ("cdf-2027-partner-sites", "Senior Explorer", "partner_website", "uned-ou-nl",
          "Programme pages at UNED and OU NL", False, 35),
}
DIRECT_VISITS = 160

#: The campaign of each CDF application in the order the admissions demo made them (its ``PLAN``: drafts first,
#: then submitted, in review, admitted, rejected, enrolled …), "D" for none: LinkedIn brings many applicants who
#: often stop early, the employer's newsletter few who mostly enrol, the fair students who start drafts.
ATTRIBUTION = "FLLDFLEFPELFDELELEPLDELD"


def _spread(total: int, weights: list[float]) -> list[int]:
    """``total`` split over the days in proportion to ``weights``, in whole visits (largest remainders)."""
    if not weights:
        return []
    scale = sum(weights)
    shares = [total * w / scale for w in weights]
    counts = [int(s) for s in shares]
    for index in sorted(range(len(shares)), key=lambda i: shares[i] - counts[i], reverse=True)[:total - sum(counts)]:
        counts[index] += 1
    return counts


def _weights(key: str, days: int, rng: random.Random) -> list[float]:
    """How a campaign's visits fall over the days: a newsletter on the day it is sent and just after, a fair on
    its day, posts and the partners' pages spread out, direct visits growing as the word gets round."""
    noise = [0.75 + rng.random() / 2 for _ in range(days)]
    if key == "E":
        shape = [4.0 if d == 1 else 1.5 if d == 2 else 0.4 for d in range(days)]
    elif key == "F":
        shape = [5.0 if d == min(3, days - 1) else 0.5 for d in range(days)]
    elif key == "D":
        shape = [1 + d / max(days - 1, 1) for d in range(days)]
    else:
        shape = [1.0] * days
    return [s * n for s, n in zip(shape, noise, strict=True)]


def _add_visits(programme, campaign, day: dt.date, count: int) -> None:
    """Add to the day's counter (the page may have been visited already), or start it."""
    key = {"programme": programme, "campaign": campaign, "day": day}
    if count and not PageVisit.objects.filter(**key).update(count=F("count") + count):
        PageVisit.objects.create(**key, count=count)


def seed(ctx: dict) -> list[str]:
    programme = Programme.objects.filter(code=PROGRAMME).select_related("consortium").first()
    if programme is None:
        return []
    consortium = ctx["consortium"]
    segments = {s.name: s for s in recruitment.segments(consortium=consortium)}
    if recruitment.campaigns(programme=programme):
        return ["Demo recruitment data already exist."]
    editions = recruitment.funnel_editions(programme)
    if not editions:
        return []
    edition = editions[0]
    leader = ctx["people"]["leader@kuleuven.example"]
    campaigns = {}
    for key, (code, segment, channel, source, name, for_edition, _visits) in CAMPAIGNS.items():
        campaigns[key] = recruitment.campaign_create(actor=leader, programme=programme, data={
            "name": name, "code": code, "segment": segments[segment], "channel": channel, "source": source,
            "edition": edition if for_edition else None})

    applications = (Application.objects.filter(edition=edition).exclude(applicant__email=DEMO_LEARNER)
                    .order_by("created_at", "pk"))
    attributed = 0
    for index, application in enumerate(applications):
        campaign = campaigns.get(ATTRIBUTION[index % len(ATTRIBUTION)])
        utm = ({"utm_source": campaign.utm_source, "utm_medium": campaign.utm_medium, "utm_campaign": campaign.code}
               if campaign else {"utm_source": "", "utm_medium": "", "utm_campaign": ""})
        Application.objects.filter(pk=application.pk).update(**utm)
        attributed += campaign is not None

    days = recruitment.visit_days(edition)
    visits, dates = 0, []
    if days:
        first, last = days
        dates = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        rng = random.Random(2027)
        for key, campaign in [*campaigns.items(), ("D", None)]:
            total = CAMPAIGNS[key][6] if campaign else DIRECT_VISITS
            for day, count in zip(dates, _spread(total, _weights(key, len(dates), rng)), strict=True):
                _add_visits(programme, campaign, day, count)
                visits += count
    window = (f"{visits} page visits over the {len(dates)} days of the application window so far" if days
              else "no page visits yet (the application window has not opened)")
    return [
        f"Recruitment: {len(segments)} learner target segments for {consortium.acronym} "
        f"({', '.join(segments)}); {len(campaigns)} campaigns with tracked links for {programme.title}, "
        f"{attributed} of its applications attributed to them, the others direct; {window}. "
        f"Funnel: {reverse('recruitment-funnel', args=[programme.pk])} (leader@kuleuven.example).",
    ]


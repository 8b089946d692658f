"""Read-only queries for the certification pages (a fixed number of queries whatever the cohort size, except
the board's preview, which asks ``award_eligibility`` per learner)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone

from admissions.api import Enrolment, Track
from consortium.api import Role, policy
from programmes.api import Edition

from . import rendering, services
from . import snapshot as snap
from .models import Award, AwardKind, BulkIssue, Credential, CredentialStatus, Document, DocumentStatus

#: What ``new_credential_id`` produces (URL-safe base64), with room to spare. Anything else is not ours.
CREDENTIAL_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


# --- The examination board ---------------------------------------------------------------------------------


def board_editions(user) -> list[Edition]:
    """Editions whose awards the user decides (programmes where they sit on the examination board)."""
    actor = policy.actor_for(user)
    editions = Edition.objects.select_related("programme").prefetch_related("programme__texts")
    if not actor.is_superuser:
        editions = editions.filter(programme_id__in=actor.targets_with_role(Role.EXAM_BOARD))
    editions = editions.order_by("programme__code", "-starts_on")
    return [e for e in editions if policy.can(user, "award.decide", e)]


def edition_preview(edition: Edition) -> list[services.Preview]:
    """Every enrolment of the edition with whether it may be awarded and why not (the award, when there is one)."""
    previews = services.bulk_preview(edition)
    awards = {
        a.enrolment_id: a
        for a in Award.objects.filter(enrolment__edition=edition).prefetch_related(
            Prefetch("credentials", Credential.objects.order_by("-version"))
        )
    }
    for preview in previews:
        preview.award = awards.get(preview.enrolment.pk)
        preview.current = next(
            (c for c in preview.award.credentials.all() if c.status == CredentialStatus.VALID), None
        ) if preview.award else None
    return previews


def last_bulk(edition: Edition) -> BulkIssue | None:
    return BulkIssue.objects.filter(edition_id=edition.pk).order_by("-created_at").first()


def bulk_documents(bulk: BulkIssue) -> QuerySet[Document]:
    return Document.objects.filter(
        credential__award__enrolment_id__in=bulk.enrolment_ids, credential__status=CredentialStatus.VALID
    )


def bulk_failures(bulk: BulkIssue) -> list[Document]:
    return list(
        bulk_documents(bulk)
        .filter(status=DocumentStatus.FAILED)
        .select_related("credential__award__enrolment__application", "institution")
        .order_by("credential__award__enrolment__application__family_names", "kind")
    )


def bulk_status(bulk: BulkIssue) -> dict[str, Any]:
    """What the progress endpoint answers: the counts of ``services.bulk_progress`` and the failed documents."""
    progress = services.bulk_progress(bulk)
    failures = [
        {
            "id": str(d.pk),
            "learner": d.credential.award.enrolment.application.full_name,
            "document": str(d.get_kind_display()) + (f" ({d.institution.short_name})" if d.institution else ""),
            "error": d.error,
            "retry_url": reverse("award-document-retry", args=[d.pk]),
            "award_url": reverse("award-detail", args=[d.credential.award_id]),
        }
        for d in bulk_failures(bulk)
    ]
    done = progress["ready"] + progress["failed"]
    return {**progress, "done": done, "total": progress["documents"], "complete": done >= progress["documents"],
            "failures": failures}


# --- Awards: staff detail, learner's page, downloads ----------------------------------------------------------


def award_with_versions(award: Award) -> Award:
    """The award with its credential versions (newest first), each with its documents."""
    return (
        Award.objects.select_related(
            "enrolment__application", "enrolment__learner", "enrolment__edition__programme", "issuing_institution",
            "decided_by",
        )
        .prefetch_related(
            "enrolment__edition__programme__texts",
            Prefetch(
                "credentials",
                Credential.objects.select_related("superseded_by").order_by("-version").prefetch_related(
                    Prefetch("documents", Document.objects.select_related("institution").order_by("kind", "slot"))
                ),
            ),
        )
        .get(pk=award.pk)
    )


def own_enrolments(user) -> list[Enrolment]:
    """The learner's enrolments, newest first, each with ``award`` (or None) and its credential versions."""
    enrolments = list(
        Enrolment.objects.filter(learner=user)
        .select_related("application", "edition__programme")
        .prefetch_related("edition__programme__texts")
        .order_by("-enrolled_at")
    )
    awards = {
        a.enrolment_id: a
        for a in Award.objects.filter(enrolment__in=enrolments).prefetch_related(
            Prefetch(
                "credentials",
                Credential.objects.order_by("-version").prefetch_related(
                    Prefetch("documents", Document.objects.select_related("institution").order_by("kind", "slot"))
                ),
            )
        )
    }
    for enrolment in enrolments:
        enrolment.own_award = awards.get(enrolment.pk)
        versions = list(enrolment.own_award.credentials.all()) if enrolment.own_award else []
        enrolment.current = next((c for c in versions if c.status == CredentialStatus.VALID), None)
        enrolment.earlier = [c for c in versions if c is not enrolment.current]
        if enrolment.current is not None:
            enrolment.current.share_url = rendering.verification_url(enrolment.current.credential_id)
    return enrolments


def document_for(user, pk) -> Document | None:
    """The document if ``user`` may download it (the learner, or staff who may view the award), else None."""
    document = (
        Document.objects.select_related("credential__award__enrolment__edition__programme")
        .filter(pk=pk)
        .first()
    )
    if document is None or not policy.can(user, "award.view", document.credential.award):
        return None
    return document


def transcript_pdf(enrolment: Enrolment) -> tuple[bytes, bool]:
    """A transcript of records from a fresh snapshot, and whether it is provisional (no valid award)."""
    award = Award.objects.filter(enrolment=enrolment).first()
    current = award.credentials.filter(status=CredentialStatus.VALID).first() if award else None
    if award is not None:
        kind, classification = award.kind, award.classification
    else:
        attendance = enrolment.application.track == Track.ATTENDANCE
        kind, classification = (AwardKind.ATTENDANCE if attendance else AwardKind.QUALIFICATION), ""
    now = timezone.now()
    data = snap.build(enrolment, issued_at=now, kind=kind, classification=classification)
    provisional = current is None
    pdf = rendering.render_transcript(data, provisional=provisional,
                                      credential_id=current.credential_id if current else "",
                                      generated_at=now.date().isoformat())
    return pdf, provisional


# --- Public verification ---------------------------------------------------------------------------------------


@dataclass
class Verification:
    credential: Credential
    elements: list[dict[str, Any]]
    optional: list[dict[str, str]]
    title: str
    holder: str
    awarding_bodies: list[dict[str, Any]]
    issuer: dict[str, Any]
    issued_on: str
    newer: Credential | None
    latest: Credential | None
    esco_links: list[dict[str, str]]


def credential_by_id(credential_id: str) -> Credential | None:
    if not isinstance(credential_id, str) or not CREDENTIAL_ID.match(credential_id):
        return None
    return Credential.objects.select_related("superseded_by").filter(credential_id=credential_id).first()


def verification(credential: Credential) -> Verification:
    data = credential.snapshot
    programme = data["programme"]
    title = programme["titles"].get(programme["primary_language"], "") or next(iter(programme["titles"].values()), "")
    latest = credential.superseded_by
    seen = {credential.pk}
    while latest is not None and latest.superseded_by_id and latest.superseded_by_id not in seen:
        seen.add(latest.pk)
        latest = Credential.objects.select_related("superseded_by").get(pk=latest.superseded_by_id)
    return Verification(
        credential=credential,
        elements=snap.elements(data, public=True),
        optional=snap.optional_elements(data),
        title=title,
        holder=snap.holder(data),
        awarding_bodies=data["awarding_bodies"] or [data["issuer"]],
        issuer=data["issuer"],
        issued_on=data["issued_at"][:10],
        newer=credential.superseded_by,
        latest=latest,
        esco_links=[
            {"text": o["text"], "url": o["esco_uri"]}
            for o in programme["outcomes"]
            if str(o.get("esco_uri", "")).startswith(("https://", "http://"))
        ],
    )

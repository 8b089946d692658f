"""Certification: award decisions, issuing (frozen snapshot + documents rendered by workers), revocation,
re-issue and verification.

Awarding is idempotent: one award per enrolment (a unique key) and ``award_decide`` returns the existing
award when asked twice. Documents are created in the same transaction as the credential and enqueued
after commit; the render task is idempotent too (a ready document is never rendered again).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from admissions.api import ApplicationStatus, Enrolment, Track
from assessment.api import award_eligibility
from consortium.api import DomainError, TransitionError, User, audit, events, feed, policy
from programmes.api import AwardKind as ProgrammeAwardKind
from programmes.api import Edition

from . import rendering
from . import snapshot as snap
from .models import (
    Award,
    AwardKind,
    BulkIssue,
    Credential,
    CredentialStatus,
    Document,
    DocumentKind,
    DocumentStatus,
)
from .vc import seal as vc_seal
from .vc import status as vc_status

AWARDABLE = (ApplicationStatus.ENROLLED, ApplicationStatus.COMPLETED)
HOLDER_ERASED = gettext_lazy("The holder's personal data was erased: this credential gets no new version or "
                             "documents (it can still be revoked).")

logger = logging.getLogger(__name__)


def _record(actor, action: str, obj, enrolment: Enrolment, changes: dict[str, Any] | None = None) -> None:
    audit.record(actor, action, obj, changes, consortium_id=enrolment.edition.programme.consortium_id,
                 institution_id=enrolment.edition.programme.issuing_institution_id)


def _feed(event_type: str, obj, award: Award, **kwargs) -> None:
    """An event for the partners' feed (``consortium.feed``), as the transaction's last write. Its audience is the
    programme's partner institutions: the awards list shows them the programme's awards (``award.view``)."""
    programme = award.enrolment.edition.programme
    feed.record(event_type, obj, consortium_id=programme.consortium_id,
                institution_ids=programme.partners.values_list("institution_id", flat=True), **kwargs)


def _touch_award(award: Award) -> None:
    """The award lists its credentials' versions and statuses: it changed too (change feed)."""
    Award.objects.filter(pk=award.pk).update(updated_at=timezone.now())


@dataclass
class Preview:
    enrolment: Enrolment
    eligible: bool
    reasons: list[str]
    kind: str


def award_preview(enrolment: Enrolment) -> Preview:
    """Who may be awarded and why not (used for single and bulk awards)."""
    application = enrolment.application
    if hasattr(enrolment, "award"):
        return Preview(enrolment, False, [_("Already awarded.")], "")
    if application.status not in AWARDABLE:
        return Preview(enrolment, False, [_("The learner is %(status)s, not enrolled.") % {
            "status": application.get_status_display().lower()}], "")
    if application.track == Track.ATTENDANCE:
        return Preview(enrolment, True, [], AwardKind.ATTENDANCE)
    eligibility = award_eligibility(enrolment)
    return Preview(enrolment, eligibility.met, eligibility.reasons, AwardKind.QUALIFICATION)


@transaction.atomic
def award_decide(*, actor, enrolment: Enrolment, classification: str = "") -> Award:
    """The board awards an eligible enrolment and the credential is issued. Awarding twice returns the award."""
    policy.require(actor, "award.decide", enrolment)
    enrolment = Enrolment.objects.select_for_update().select_related("application", "edition__programme").get(
        pk=enrolment.pk)
    existing = Award.objects.filter(enrolment=enrolment).first()
    if existing is not None:
        return existing
    preview = award_preview(enrolment)
    if not preview.eligible:
        raise DomainError(_("The award conditions are not met."), details=preview.reasons)
    if not classification and preview.kind == AwardKind.QUALIFICATION:
        average = classification_for(enrolment)
        regulation = getattr(getattr(enrolment.edition, "exam_regulation", None), "regulation", None)
        scale = regulation.joint_scale.name if regulation else ""
        classification = f"{average} ({scale})" if average and scale else average
    award = Award(enrolment=enrolment, kind=preview.kind, decided_at=timezone.now(),
                  decided_by=actor if isinstance(actor, User) else None, classification=classification,
                  issuing_institution=enrolment.edition.programme.issuing_institution)
    try:
        with transaction.atomic():
            award.save()
    except IntegrityError:  # decided at the same moment elsewhere
        return Award.objects.get(enrolment=enrolment)
    _record(actor, "award.decided", award, enrolment, {"kind": award.kind, "classification": classification})
    credential_issue(actor=actor, award=award)
    return award


def _documents_for(credential: Credential, language: str | None = None) -> list[Document]:
    data = credential.snapshot
    language = language or data["programme"]["primary_language"]
    if data["kind"] == AwardKind.ATTENDANCE:
        return [Document(credential=credential, kind=DocumentKind.ATTENDANCE, language=language)]
    documents = [Document(credential=credential, kind=DocumentKind.SUPPLEMENT, language=language)]
    if data["programme"]["award_kind"] == ProgrammeAwardKind.JOINT:
        documents.append(Document(credential=credential, kind=DocumentKind.CERTIFICATE, language=language))
    else:  # double / multiple: one certificate per awarding institution (the issuer when no university is listed)
        for body in data["awarding_bodies"] or [data["issuer"]]:
            documents.append(Document(credential=credential, kind=DocumentKind.CERTIFICATE, language=language,
                                      institution_id=body["id"], slot=body["id"]))
    return documents


@transaction.atomic
def credential_issue(*, actor, award: Award, supersede: Credential | None = None) -> Credential:
    """Freeze the snapshot, refuse when a mandatory EU element has no data, queue the documents."""
    enrolment = award.enrolment
    issued_at = timezone.now()
    data = snap.build(enrolment, issued_at=issued_at, kind=award.kind, classification=award.classification)
    missing = snap.missing_elements(data)
    if missing:
        raise DomainError(_("Issuing is refused: mandatory EU elements have no data."), details=missing)
    version = (award.credentials.order_by("-version").values_list("version", flat=True).first() or 0) + 1
    if supersede is not None:
        Credential.objects.filter(pk=supersede.pk).update(status=CredentialStatus.SUPERSEDED, updated_at=issued_at)
    credential = Credential.objects.create(award=award, version=version, snapshot=data, issued_at=issued_at,
                                           snapshot_schema=snap.SCHEMA)
    if supersede is not None:
        Credential.objects.filter(pk=supersede.pk).update(superseded_by=credential, updated_at=issued_at)
    _touch_award(award)
    documents = Document.objects.bulk_create(_documents_for(credential))
    _record(actor, "credential.issued", credential, enrolment, {"version": version, "documents": len(documents)})
    from .tasks import render_document

    for document in documents:
        render_document.delay_on_commit(str(document.pk))
    events.publish("certification.award_issued", award_id=str(award.pk), credential_id=credential.credential_id)
    _feed("award.issued", award, award, data={"credential_id": credential.credential_id, "version": version,
                                              "kind": award.kind, "enrolment": award.enrolment_id})
    return credential


@transaction.atomic
def documents_request_language(*, actor, credential: Credential, language: str) -> list[Document]:
    """The same credential's documents in another language of the programme's language policy (on request)."""
    policy.require(actor, "award.view", credential.award)
    credential = Credential.objects.select_for_update().get(pk=credential.pk)
    if credential.status != CredentialStatus.VALID:
        raise TransitionError(_("Only a valid credential gets new documents."))
    if snap.is_withheld(credential.snapshot):
        raise TransitionError(HOLDER_ERASED)
    languages = credential.snapshot["programme"]["languages"]
    if language not in languages:
        raise DomainError(_("The programme is offered in %(langs)s only.") % {"langs": ", ".join(languages)})
    existing = {(d.kind, d.slot) for d in credential.documents.filter(language=language)}
    new = [d for d in _documents_for(credential, language) if (d.kind, d.slot) not in existing]
    if not new:
        raise DomainError(_("The documents in this language exist already."))
    documents = Document.objects.bulk_create(new)
    from .tasks import render_document

    for document in documents:
        render_document.delay_on_commit(str(document.pk))
    _record(actor, "credential.documents_requested", credential, credential.award.enrolment, {"language": language})
    return documents


def classification_for(enrolment: Enrolment) -> str:
    """The overall grade: the ECTS-weighted average of the passed courses' joint grades (numeric scales only)."""
    from decimal import Decimal, InvalidOperation

    eligibility = award_eligibility(enrolment)
    pairs = []
    for result in eligibility.courses:
        if result.status != "passed":
            continue
        try:
            pairs.append((Decimal(result.joint_grade), result.course.ects))
        except (InvalidOperation, TypeError):
            return ""
    if not pairs:
        return ""
    average = sum((g * e for g, e in pairs), Decimal("0")) / sum((e for _g, e in pairs), Decimal("0"))
    return f"{average.quantize(Decimal('0.1'))}"


def _rendered(document: Document) -> bool:
    """Ready: rendered once, never again. Its file may be gone (the holder's data was erased) but its published
    hash stays, so a new render would break the verification of copies already shared."""
    return document.status == DocumentStatus.READY and bool(document.file or document.sha256)


def document_render(document_id) -> Document:
    """Render one document (called by the task): HTML → PDF/A-3b, the signed credential embedded, the issuing
    institution's PAdES seal, then the SHA-256. Idempotent: a ready document is returned unchanged."""
    with transaction.atomic():
        document = Document.objects.select_for_update().select_related("credential").get(pk=document_id)
        if _rendered(document):
            return document
        document.status = DocumentStatus.RENDERING
        document.attempts += 1
        document.save(update_fields=["status", "attempts", "updated_at"])
    credential = document.credential
    institution_id = str(document.institution_id) if document.institution_id else None
    pdf = rendering.render_pdf(credential.snapshot, credential_id=credential.credential_id,
                               kind=document.kind, language=document.language, institution_id=institution_id)
    # The published hash is the sealed file's: the learner gets (and verifiers check) exactly these bytes.
    pdf, seal_fingerprint = vc_seal.seal_issued(pdf, credential)
    digest = hashlib.sha256(pdf).hexdigest()
    with transaction.atomic():
        document = Document.objects.select_for_update().get(pk=document_id)
        if _rendered(document):
            return document  # another worker finished first: keep its file and hash
        name = f"{credential.credential_id}-{document.kind}-{document.slot[:8]}-{document.language}.pdf"
        document.file.save(name, ContentFile(pdf), save=False)
        document.sha256 = digest
        document.seal_fingerprint = seal_fingerprint
        document.status = DocumentStatus.READY
        document.error = ""
        document.rendered_at = timezone.now()
        document.save()
    return document


def document_failed(document_id, error: str) -> None:
    Document.objects.filter(pk=document_id).exclude(status=DocumentStatus.READY).update(
        status=DocumentStatus.FAILED, error=error[:2000], updated_at=timezone.now())


def documents_requeue_stale(*, older_than: timedelta, limit: int = 500) -> list[str]:
    """Send again the renders whose message was lost: documents still queued (the broker was down when they were
    sent) or rendering (their worker died and the broker will not redeliver, e.g. after the hard time limit) with
    no change for ``older_than``. Run by the beat (``tasks.documents_sweep``); returns the ids sent.

    Documents are created in the transaction that issues their credential, so none can be missing; only their
    messages can. Safe with two sweeps at once: each locks what it picks (``skip_locked``, the other passes those
    by) and marks it queued now, so it is not picked again before ``older_than`` has passed once more. A message
    that was not lost after all only renders a document once: the render task skips a ready document."""
    from .tasks import render_document

    with transaction.atomic():
        stale = [str(pk) for pk in Document.objects.select_for_update(skip_locked=True)
                 .filter(status__in=[DocumentStatus.QUEUED, DocumentStatus.RENDERING],
                         updated_at__lte=timezone.now() - older_than)
                 .order_by("updated_at").values_list("pk", flat=True)[:limit]]
        if not stale:
            return []
        Document.objects.filter(pk__in=stale).update(status=DocumentStatus.QUEUED, updated_at=timezone.now())
        for document_id in stale:
            render_document.delay_on_commit(document_id)
    logger.warning("Sent %d stale document renders again: %s", len(stale), ", ".join(stale))
    return stale


@transaction.atomic
def document_retry(*, actor, document: Document) -> Document:
    policy.require(actor, "award.decide", document.credential.award.enrolment)
    document = Document.objects.select_for_update().get(pk=document.pk)
    if document.status != DocumentStatus.FAILED:
        raise TransitionError(_("Only a failed document is rendered again."))
    document.status = DocumentStatus.QUEUED
    document.save(update_fields=["status", "updated_at"])
    from .tasks import render_document

    render_document.delay_on_commit(str(document.pk))
    return document


@transaction.atomic
def credential_revoke(*, actor, credential: Credential, reason: str) -> Credential:
    policy.require(actor, "award.decide", credential.award.enrolment)
    if not reason.strip():
        raise DomainError(_("Give the reason for the revocation; the verification page shows it."))
    credential = Credential.objects.select_for_update().get(pk=credential.pk)
    if credential.status != CredentialStatus.VALID:
        raise TransitionError(_("Only a valid credential can be revoked (this one is %(s)s).") % {
            "s": credential.get_status_display().lower()})
    credential.status = CredentialStatus.REVOKED
    credential.revoked_at = timezone.now()
    credential.revocation_reason = reason
    credential.save(update_fields=["status", "revoked_at", "revocation_reason", "updated_at"])
    vc_status.set_revoked(credential)  # its bit in the issuer's public Bitstring Status List, same transaction
    _record(actor, "credential.revoked", credential, credential.award.enrolment, {"reason": reason})
    events.publish("certification.credential_revoked", credential_id=credential.credential_id)
    _touch_award(credential.award)
    _feed("credential.revoked", credential, credential.award, resource_id=credential.credential_id,
          data={"award": credential.award_id, "version": credential.version, "revoked_at": credential.revoked_at})
    return credential


@transaction.atomic
def credential_reissue(*, actor, credential: Credential, reason: str) -> Credential:
    """Corrected data → a new version from a fresh snapshot; the old one is marked superseded."""
    policy.require(actor, "award.decide", credential.award.enrolment)
    if not reason.strip():
        raise DomainError(_("Say what was corrected."))
    credential = Credential.objects.select_for_update().get(pk=credential.pk)
    if credential.status != CredentialStatus.VALID:
        raise TransitionError(_("Only the valid version can be re-issued."))
    if snap.is_withheld(credential.snapshot):
        raise TransitionError(HOLDER_ERASED)
    new = credential_issue(actor=actor, award=credential.award, supersede=credential)
    _record(actor, "credential.reissued", new, credential.award.enrolment, {"reason": reason,
                                                                          "supersedes": credential.version})
    return new


def bulk_preview(edition: Edition) -> list[Preview]:
    enrolments = Enrolment.objects.filter(edition=edition).select_related("application", "edition__programme")
    return [award_preview(e) for e in enrolments.order_by("application__family_names")]


def bulk_award(*, actor, edition: Edition, enrolments: Iterable[Enrolment]) -> BulkIssue:
    """Award every eligible enrolment given; each in its own transaction so one failure stops nobody."""
    policy.require(actor, "award.decide", edition)
    awarded = []
    for enrolment in enrolments:
        try:
            award_decide(actor=actor, enrolment=enrolment)
            awarded.append(str(enrolment.pk))
        except DomainError:
            continue
    return BulkIssue.objects.create(edition_id=edition.pk, requested_by=actor if isinstance(actor, User) else None,
                                    enrolment_ids=awarded)


def bulk_progress(bulk: BulkIssue) -> dict[str, int]:
    documents = Document.objects.filter(credential__award__enrolment_id__in=bulk.enrolment_ids,
                                        credential__status=CredentialStatus.VALID)
    total = documents.count()
    ready = documents.filter(status=DocumentStatus.READY).count()
    failed = documents.filter(status=DocumentStatus.FAILED).count()
    return {"awards": len(bulk.enrolment_ids), "documents": total, "ready": ready, "failed": failed,
            "percent": int(100 * (ready + failed) / total) if total else 100}


def verify_pdf(credential: Credential, content: bytes) -> Document | None:
    """The issued document of this credential whose SHA-256 matches ``content`` (None: not ours / tampered)."""
    digest = hashlib.sha256(content).hexdigest()
    return credential.documents.filter(sha256=digest, status=DocumentStatus.READY).first()

"""Admissions: one function per transition of the joint application procedure.

Every transition runs in a transaction on a locked application row, is checked against
``APPLICATION_TRANSITIONS`` in one place (``_move``), recorded in the audit trail and announced to the
learner (a message on the application and an email sent after commit).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from consortium.api import (
    DomainError,
    TransitionError,
    User,
    audit,
    events,
    feed,
    policy,
    user_esi_set,
    validate_upload,
)
from programmes.api import Course, Edition, accepts_applications

from .models import (
    PLACE_HOLDING,
    AdmissionFramework,
    Application,
    ApplicationDocument,
    ApplicationMessage,
    ApplicationStatus,
    Assessment,
    Criterion,
    CriterionAssessment,
    Enrolment,
    ExemptionRequest,
    ExemptionStatus,
    InstitutionRegistration,
    MessageKind,
    RegistrationStatus,
)

S = ApplicationStatus

APPLICATION_TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.SUBMITTED, S.WITHDRAWN},
    S.SUBMITTED: {S.UNDER_REVIEW, S.INFO_REQUESTED, S.ADMITTED, S.WAITLISTED, S.REJECTED, S.WITHDRAWN},
    S.UNDER_REVIEW: {S.INFO_REQUESTED, S.ADMITTED, S.WAITLISTED, S.REJECTED, S.WITHDRAWN},
    S.INFO_REQUESTED: {S.UNDER_REVIEW, S.WITHDRAWN},
    S.WAITLISTED: {S.ADMITTED, S.REJECTED, S.WITHDRAWN},
    S.ADMITTED: {S.OFFER_ACCEPTED, S.DECLINED, S.LAPSED, S.WITHDRAWN},
    S.OFFER_ACCEPTED: {S.AWAITING_PAYMENT, S.ENROLLED, S.WITHDRAWN},
    S.AWAITING_PAYMENT: {S.ENROLLED, S.WITHDRAWN},
    S.ENROLLED: {S.SUSPENDED, S.COMPLETED, S.WITHDRAWN},
    S.SUSPENDED: {S.ENROLLED, S.WITHDRAWN},
    S.REJECTED: set(),
    S.DECLINED: set(),
    S.LAPSED: set(),
    S.COMPLETED: set(),
    S.WITHDRAWN: set(),
}
EDITABLE = (S.DRAFT, S.INFO_REQUESTED)
DECIDED = (S.ADMITTED, S.WAITLISTED, S.REJECTED, *PLACE_HOLDING, S.DECLINED, S.LAPSED)

APPLICANT_FIELDS = (
    "given_names", "family_names", "date_of_birth", "nationality", "email", "participant_profile", "track",
    "employer_sponsor", "route", "education", "highest_eqf_level", "experience_years", "experience",
    "language_proofs", "motivation",
)
REQUIRED_TO_SUBMIT = ("given_names", "family_names", "date_of_birth", "nationality", "email", "participant_profile",
                      "track", "motivation")

STATUS_MESSAGES = {
    S.SUBMITTED: _("We received your application. The reviewing institution checks every application against the "
                   "same criteria; you will hear from us."),
    S.UNDER_REVIEW: _("Your application is being reviewed."),
    S.ADMITTED: _("Congratulations: you are admitted. Accept the offer by {deadline}."),
    S.WAITLISTED: _("The edition is full for now; you are on the waiting list. If a place frees up, it is offered "
                    "to you automatically."),
    S.REJECTED: _("We are sorry: your application was not successful. Reason: {reason}"),
    S.OFFER_ACCEPTED: _("You accepted the offer."),
    S.AWAITING_PAYMENT: _("You accepted the offer. You will be enrolled once the payment is received."),
    S.ENROLLED: _("You are enrolled. Welcome!"),
    S.DECLINED: _("You declined the offer."),
    S.LAPSED: _("The offer lapsed because it was not accepted by the deadline."),
    S.WITHDRAWN: _("The application was withdrawn. {reason}"),
    S.SUSPENDED: _("Your studies are suspended. {reason}"),
    S.COMPLETED: _("You completed the programme."),
}


# --- Helpers -----------------------------------------------------------------------------------------


def _framework(edition: Edition) -> AdmissionFramework:
    framework = AdmissionFramework.objects.filter(edition=edition).select_related("reviewing_institution").first()
    if framework is None:
        raise DomainError(_("This edition has no admission criteria yet; applications cannot be processed."))
    return framework


def _locked(application: Application) -> Application:
    """Lock the application row only (``of=self``: a plain FOR UPDATE would also lock the joined edition,
    programme and applicant rows, in an order that deadlocks against ``_lock_edition``).

    Lock order everywhere: the edition first (``_lock_edition``, when places are counted or freed), then
    applications.
    """
    return (Application.objects.select_for_update(of=("self",)).select_related("edition__programme", "applicant")
            .get(pk=application.pk))


def _record(actor, action: str, application: Application, changes: Mapping[str, Any] | None = None) -> None:
    programme = application.edition.programme
    audit.record(actor, action, application, changes, consortium_id=programme.consortium_id,
                 institution_id=getattr(getattr(application.edition, "admission_framework", None),
                                        "reviewing_institution_id", None))


def _notify(application: Application, kind: str, subject: str, body: str, author=None) -> ApplicationMessage:
    """Keep the message on the application and email it to the applicant after commit."""
    message = ApplicationMessage.objects.create(application=application, kind=kind, subject=subject[:255], body=body,
                                                author=author if isinstance(author, User) else None)
    from .tasks import deliver_message

    deliver_message.delay_on_commit(str(message.pk))
    return message


def _feed(event_type: str, obj, application: Application, /, **data) -> None:
    """An event for the partners' feed (``consortium.feed``), as the transaction's last write. Its audience is the
    programme's partner institutions: the applications and enrolments lists show them to those institutions."""
    programme = application.edition.programme
    feed.record(event_type, obj, consortium_id=programme.consortium_id,
                institution_ids=programme.partners.values_list("institution_id", flat=True), data=data)


def _touch_enrolment(application: Application) -> None:
    """The enrolment shows the application's status and the learner's names: it changed too (change feed)."""
    Enrolment.objects.filter(application_id=application.pk).update(updated_at=timezone.now())


def _move(actor, application: Application, target: str, *, reason: str = "", changes: Mapping | None = None,
          notify: bool = True) -> None:
    source = application.status
    if target not in APPLICATION_TRANSITIONS[source]:
        raise TransitionError(_("The application is %(source)s; it cannot become %(target)s.") % {
            "source": S(source).label.lower(), "target": S(target).label.lower()})
    application.status = target
    application.save()
    _touch_enrolment(application)
    _record(actor, f"application.{target}", application, {"status": [source, target], "reason": reason,
                                                          **(changes or {})})
    if notify and target in STATUS_MESSAGES:
        deadline = timezone.localtime(application.offer_deadline).strftime("%Y-%m-%d %H:%M") \
            if application.offer_deadline else ""
        body = STATUS_MESSAGES[target].format(reason=reason, deadline=deadline).strip()
        _notify(application, MessageKind.STATUS, _("%(programme)s: %(status)s") % {
            "programme": application.edition.programme.title, "status": S(target).label}, body, actor)


def places_taken(edition: Edition) -> int:
    return Application.objects.filter(edition=edition, status__in=PLACE_HOLDING).count()


def _lock_edition(edition: Edition) -> Edition:
    """Every admission locks the edition row first, so two administrators cannot overfill it."""
    return Edition.objects.select_for_update().get(pk=edition.pk)


def _has_place(edition: Edition) -> bool:
    return edition.capacity is None or places_taken(edition) < edition.capacity


def _check_documents(files: Sequence[tuple[str, Any, Criterion | None]]) -> None:
    """Validate every upload before anything is saved: a refused file leaves the application as it was."""
    errors = []
    for label, upload, _criterion in files:
        try:
            validate_upload(upload, ("pdf", "png", "jpeg"))
        except ValidationError as exc:
            errors += [f"{label}: {m}" for m in exc.messages]
    if errors:
        raise ValidationError({"documents": errors})


def _attach(application: Application, files: Sequence[tuple[str, Any, Criterion | None]]) -> list[ApplicationDocument]:
    documents = []
    for label, upload, criterion in files:
        kind = validate_upload(upload, ("pdf", "png", "jpeg"))
        document = ApplicationDocument(application=application, criterion=criterion, label=label[:255], kind=kind,
                                       size=upload.size)
        document.file.save(upload.name, upload, save=False)
        document.save()
        documents.append(document)
    return documents


# --- Framework (criteria) ---------------------------------------------------------------------------


@transaction.atomic
def framework_save(*, actor, edition: Edition, data: Mapping[str, Any]) -> AdmissionFramework:
    policy.require(actor, "admissions.configure", edition)
    framework = AdmissionFramework.objects.filter(edition=edition).first() or AdmissionFramework(edition=edition)
    for field in ("reviewing_institution", "offer_valid_days", "payment_required"):
        if field in data:
            setattr(framework, field, data[field])
    if not edition.programme.partners.filter(institution=framework.reviewing_institution_id).exists():
        raise ValidationError({"reviewing_institution": [_("The reviewing institution must participate in the "
                                                           "programme.")]})
    framework.full_clean()
    framework.save()
    audit.record(actor, "admissions.framework_saved", framework,
                 {"reviewing_institution": str(framework.reviewing_institution), "payment": framework.payment_required},
                 consortium_id=edition.programme.consortium_id)
    return framework


@transaction.atomic
def criterion_save(*, actor, framework: AdmissionFramework, data: Mapping[str, Any],
                   criterion: Criterion | None = None) -> Criterion:
    policy.require(actor, "admissions.configure", framework.edition)
    criterion = criterion or Criterion(framework=framework, position=framework.criteria.count())
    if criterion.framework_id != framework.pk:
        raise DomainError(_("The criterion belongs to another edition."))
    for field in ("kind", "description", "language", "min_cefr", "accepted_proofs", "min_eqf_level", "min_years",
                  "field", "document_label"):
        if field in data:
            setattr(criterion, field, data[field])
    criterion.full_clean()
    criterion.save()
    audit.record(actor, "admissions.criterion_saved", criterion, {"kind": criterion.kind},
                 consortium_id=framework.edition.programme.consortium_id)
    return criterion


@transaction.atomic
def criterion_remove(*, actor, criterion: Criterion) -> None:
    policy.require(actor, "admissions.configure", criterion.framework.edition)
    audit.record(actor, "admissions.criterion_removed", criterion, {"kind": criterion.kind},
                 consortium_id=criterion.framework.edition.programme.consortium_id)
    criterion.delete()


# --- Learner side ------------------------------------------------------------------------------------


@transaction.atomic
def application_start(*, actor: User, edition: Edition, utm: Mapping[str, str] | None = None) -> Application:
    """The learner's draft for ``edition`` (the existing one when they already started)."""
    policy.require(actor, "application.apply", edition)
    existing = Application.objects.filter(edition=edition, applicant=actor).first()
    if existing is not None:
        return existing
    if not accepts_applications(edition):
        raise DomainError(_("This edition does not accept applications now."))
    _framework(edition)
    utm = {k: (v or "")[:200] for k, v in (utm or {}).items() if k in ("utm_source", "utm_medium", "utm_campaign")}
    name = (actor.full_name or "").split(" ", 1)
    application = Application(edition=edition, applicant=actor, email=actor.email, given_names=name[0],
                               family_names=name[1] if len(name) > 1 else "", **utm)
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError:  # a second tab started it at the same moment
        return Application.objects.get(edition=edition, applicant=actor)
    _record(actor, "application.started", application, utm)
    return application


@transaction.atomic
def application_save(*, actor, application: Application, data: Mapping[str, Any],
                     documents: Sequence[tuple[str, Any, Criterion | None]] = (),
                     esi: str | None = None) -> Application:
    """Save the learner's answers and uploads (draft, or while more information is requested), and their European
    Student Identifier when ``esi`` is given (it belongs to the account, not to this application)."""
    policy.require(actor, "application.edit", application)
    _check_documents(documents)
    foreign = [label for label, _f, criterion in documents
               if criterion is not None and criterion.framework.edition_id != application.edition_id]
    if foreign:
        raise ValidationError({"documents": [_("%(doc)s belongs to another edition's criteria.") % {"doc": d}
                                             for d in foreign]})
    application = _locked(application)
    if application.status not in EDITABLE:
        raise TransitionError(_("A %(status)s application can no longer be changed.") % {
            "status": application.get_status_display().lower()})
    if esi is not None:
        user_esi_set(actor=actor, user=application.applicant, esi=esi)
    before = audit.snapshot(application, APPLICANT_FIELDS)
    for field in APPLICANT_FIELDS:
        if field in data:
            setattr(application, field, data[field])
    application.full_clean(exclude=["edition", "applicant"])
    application.save()
    saved = _attach(application, documents)
    changes = audit.diff(before, audit.snapshot(application, APPLICANT_FIELDS))
    if changes or saved:
        _record(actor, "application.saved", application, {"fields": sorted(changes),
                                                          "documents": [d.label for d in saved]})
    return application


def submission_problems(application: Application) -> list[str]:
    problems = []
    missing = [str(Application._meta.get_field(f).verbose_name) for f in REQUIRED_TO_SUBMIT
               if getattr(application, f) in (None, "")]
    if missing:
        problems.append(_("Still to fill in: %(fields)s.") % {"fields": ", ".join(missing)})
    framework = AdmissionFramework.objects.filter(edition_id=application.edition_id).first()
    if framework is not None:
        uploaded = set(application.documents.values_list("criterion_id", flat=True))
        for criterion in framework.criteria.exclude(document_label=""):
            if criterion.kind == "alternative" and application.route != "alternative":
                continue
            # The alternative route replaces the prior-degree and experience evidence (D4: non-traditional
            # backgrounds); language proficiency is still required.
            if application.route == "alternative" and criterion.kind in ("prior_degree", "experience"):
                continue
            if criterion.id not in uploaded:
                problems.append(_("Upload: %(doc)s.") % {"doc": criterion.document_label})
    if application.date_of_birth and application.date_of_birth > timezone.localdate() - dt.timedelta(days=365 * 15):
        problems.append(_("Check the date of birth: applicants are at least 15 years old."))
    return problems


def _flag_duplicates(application: Application) -> None:
    """Same name and date of birth, or same email, in the same edition: flag both for the administrators."""
    others = Application.objects.filter(edition_id=application.edition_id).exclude(pk=application.pk).exclude(
        status=S.DRAFT).filter(
        Q(email__iexact=application.email)
        | Q(given_names__iexact=application.given_names, family_names__iexact=application.family_names,
            date_of_birth=application.date_of_birth))
    ids = list(others.values_list("pk", flat=True))
    if ids:
        Application.objects.filter(pk__in=[*ids, application.pk]).update(possible_duplicate=True,
                                                                          updated_at=timezone.now())
        application.possible_duplicate = True


@transaction.atomic
def application_submit(*, actor, application: Application) -> Application:
    policy.require(actor, "application.edit", application)
    application = _locked(application)
    if application.status == S.DRAFT and not accepts_applications(application.edition):
        raise DomainError(_("The application window of this edition is closed."))
    if application.status == S.DRAFT:
        problems = submission_problems(application)
        if problems:
            raise DomainError(_("The application is not complete yet."), details=problems)
    application.submitted_at = timezone.now()
    _move(actor, application, S.SUBMITTED)
    _flag_duplicates(application)
    _feed("application.submitted", application, application, status=application.status)
    return application


@transaction.atomic
def application_answer(*, actor, application: Application, body: str,
                       documents: Sequence[tuple[str, Any, Criterion | None]] = ()) -> Application:
    """The learner answers a request for information: the application goes back under review."""
    policy.require(actor, "application.edit", application)
    if not body.strip():
        raise ValidationError({"body": [_("Write your answer.")]})
    _check_documents(documents)
    application = _locked(application)
    if application.status != S.INFO_REQUESTED:
        raise TransitionError(_("No information was requested."))
    _attach(application, documents)
    ApplicationMessage.objects.create(application=application, kind=MessageKind.RESPONSE, author=actor,
                                      subject=_("Answer from the applicant"), body=body)
    _move(actor, application, S.UNDER_REVIEW, notify=False)
    return application


@transaction.atomic
def application_accept_offer(*, actor, application: Application) -> Application:
    policy.require(actor, "application.respond", application)
    application = _locked(application)
    if application.status == S.ADMITTED and application.offer_deadline and application.offer_deadline < timezone.now():
        raise TransitionError(_("The offer lapsed on %(date)s.") % {"date": application.offer_deadline.date()})
    _move(actor, application, S.OFFER_ACCEPTED, notify=False)
    events.publish("admissions.offer_accepted", application_id=str(application.pk))
    if _framework(application.edition).payment_required:
        _move(actor, application, S.AWAITING_PAYMENT)
    else:
        _enrol(actor, application)
    return application


@transaction.atomic
def application_decline_offer(*, actor, application: Application) -> Application:
    policy.require(actor, "application.respond", application)
    _lock_edition(application.edition)  # the freed place is counted again: edition first, like admissions
    application = _locked(application)
    _move(actor, application, S.DECLINED)
    promote_waitlist(edition=application.edition)
    return application


@transaction.atomic
def application_withdraw(*, actor, application: Application, reason: str = "") -> Application:
    """The learner withdraws (or an administrator records their withdrawal); a held place goes to the waitlist."""
    if not (policy.can(actor, "application.respond", application)
            or policy.can(actor, "application.review", application)):
        policy.require(actor, "application.respond", application)
    _lock_edition(application.edition)  # a held place may be freed: edition first, like admissions
    application = _locked(application)
    held_place = application.status in PLACE_HOLDING
    _move(actor, application, S.WITHDRAWN, reason=reason)
    events.publish("admissions.withdrawn", application_id=str(application.pk))
    if held_place:
        promote_waitlist(edition=application.edition)
    _feed("application.withdrawn", application, application, status=application.status)
    enrolment = Enrolment.objects.filter(application=application).first()
    if enrolment is not None:
        _feed("enrolment.withdrawn", enrolment, application, application=str(application.pk),
              status=application.status)
    return application


# --- Administrator side ------------------------------------------------------------------------------


@transaction.atomic
def application_review_start(*, actor, application: Application) -> Application:
    policy.require(actor, "application.review", application)
    application = _locked(application)
    _move(actor, application, S.UNDER_REVIEW, notify=False)
    return application


@transaction.atomic
def application_request_info(*, actor, application: Application, message: str) -> Application:
    policy.require(actor, "application.review", application)
    if not message.strip():
        raise ValidationError({"message": [_("Say what information is needed.")]})
    application = _locked(application)
    _move(actor, application, S.INFO_REQUESTED, notify=False, changes={"message": message})
    _notify(application, MessageKind.INFO_REQUEST, _("More information needed for your application"), message, actor)
    return application


@transaction.atomic
def criterion_assess(*, actor, application: Application, criterion: Criterion, result: str,
                     note: str = "") -> CriterionAssessment:
    policy.require(actor, "application.review", application)
    if criterion.framework.edition_id != application.edition_id:
        raise DomainError(_("The criterion belongs to another edition."))
    if result not in Assessment.values:
        raise ValidationError({"result": [_("Choose met, not met or not assessed.")]})
    assessment, _created = CriterionAssessment.objects.update_or_create(
        application=application, criterion=criterion,
        defaults={"result": result, "note": note, "reviewer": actor if isinstance(actor, User) else None})
    _record(actor, "application.criterion_assessed", application, {"criterion": criterion.get_kind_display(),
                                                                   "result": result, "note": note})
    return assessment


def _decided(application: Application, **data) -> None:
    _feed("application.decided", application, application, status=application.status,
          decided_at=application.decided_at, **data)


@transaction.atomic
def application_admit(*, actor, application: Application, reason: str = "") -> Application:
    """Admit within capacity: the edition row is locked, so concurrent admissions cannot overfill it."""
    policy.require(actor, "application.review", application)
    edition = _lock_edition(application.edition)
    application = _locked(application)
    if S.ADMITTED not in APPLICATION_TRANSITIONS[application.status]:
        _move(actor, application, S.ADMITTED)  # raises the transition error
    if not _has_place(edition):
        raise DomainError(_("The edition is full (%(capacity)s places). Waitlist the applicant instead.") % {
            "capacity": edition.capacity})
    framework = _framework(edition)
    application.decided_at = timezone.now()
    application.decision_reason = reason
    application.offer_deadline = timezone.now() + dt.timedelta(days=framework.offer_valid_days)
    application.waitlisted_at = None
    _move(actor, application, S.ADMITTED, reason=reason)
    _decided(application)
    return application


@transaction.atomic
def application_waitlist(*, actor, application: Application, reason: str = "") -> Application:
    policy.require(actor, "application.review", application)
    application = _locked(application)
    application.decided_at = timezone.now()
    application.decision_reason = reason
    application.waitlisted_at = timezone.now()
    _move(actor, application, S.WAITLISTED, reason=reason)
    _decided(application)
    return application


@transaction.atomic
def application_reject(*, actor, application: Application, reason: str) -> Application:
    policy.require(actor, "application.review", application)
    if not reason.strip():
        raise ValidationError({"reason": [_("A rejection needs a reason; the applicant will read it.")]})
    application = _locked(application)
    application.decided_at = timezone.now()
    application.decision_reason = reason
    _move(actor, application, S.REJECTED, reason=reason)
    _decided(application)
    return application


def promote_waitlist(*, edition: Edition) -> Application | None:
    """Offer a freed place to the first waitlisted applicant (call inside the transaction that freed it)."""
    edition = _lock_edition(edition)
    if not _has_place(edition):
        return None
    first = (Application.objects.select_for_update().filter(edition=edition, status=S.WAITLISTED)
             .order_by("waitlisted_at", "submitted_at").first())
    if first is None:
        return None
    framework = _framework(edition)
    first.decided_at = timezone.now()
    first.offer_deadline = timezone.now() + dt.timedelta(days=framework.offer_valid_days)
    first.waitlisted_at = None
    _move(None, first, S.ADMITTED, reason=_("A place became available."))
    _decided(first, from_waitlist=True)
    return first


def applications_lapse_overdue(*, now: dt.datetime | None = None) -> int:
    """Offers not accepted by their deadline lapse; their places go to the waitlist. Returns how many lapsed.

    Each lapse is its own transaction: a promotion records a feed event, whose counter lock must not be held while
    the next edition is locked (``consortium.feed``: the counter is every transaction's last lock)."""
    now = now or timezone.now()
    overdue = Application.objects.filter(status=S.ADMITTED, offer_deadline__lt=now)
    return sum(_lapse(application, now) for application in
               list(overdue.select_related("edition").order_by("edition_id", "pk")))


@transaction.atomic
def _lapse(application: Application, now: dt.datetime) -> int:
    # Edition first, then the application (the order every transition uses), and check again under the
    # lock: the learner may have accepted, or another run lapsed it, in the meantime.
    _lock_edition(application.edition)
    application = _locked(application)
    if application.status != S.ADMITTED or not application.offer_deadline or application.offer_deadline >= now:
        return 0
    _move(None, application, S.LAPSED)
    promote_waitlist(edition=application.edition)
    return 1


def _enrol(actor, application: Application) -> Enrolment:
    _move(actor, application, S.ENROLLED)
    enrolment = Enrolment.objects.create(application=application, edition=application.edition,
                                         learner=application.applicant, enrolled_at=timezone.now())
    programme = application.edition.programme
    institutions = {programme.issuing_institution_id} | set(
        programme.partners.filter(registration_required=True).values_list("institution_id", flat=True))
    InstitutionRegistration.objects.bulk_create(
        [InstitutionRegistration(enrolment=enrolment, institution_id=i) for i in sorted(institutions, key=str)])
    events.publish("admissions.enrolled", enrolment_id=str(enrolment.pk), application_id=str(application.pk))
    _feed("enrolment.created", enrolment, application, application=str(application.pk))
    return enrolment


@transaction.atomic
def application_payment_received(*, actor, application: Application) -> Enrolment:
    """Called by finance (through admissions.api) when the invoice is paid."""
    application = _locked(application)
    if application.status != S.AWAITING_PAYMENT:
        raise TransitionError(_("The application is not awaiting payment."))
    return _enrol(actor, application)


@transaction.atomic
def enrolment_suspend(*, actor, application: Application, reason: str) -> Application:
    policy.require(actor, "application.review", application)
    if not reason.strip():
        raise ValidationError({"reason": [_("Give the reason for the suspension.")]})
    application = _locked(application)
    _move(actor, application, S.SUSPENDED, reason=reason)
    return application


@transaction.atomic
def enrolment_resume(*, actor, application: Application) -> Application:
    policy.require(actor, "application.review", application)
    application = _locked(application)
    if application.status != S.SUSPENDED:
        # ENROLLED is also reachable from an accepted offer, but only through _enrol (payment, enrolment row).
        raise TransitionError(_("Only a suspended enrolment can be resumed; the application is %(status)s.") % {
            "status": application.get_status_display().lower()})
    _move(actor, application, S.ENROLLED, notify=False)
    return application


@transaction.atomic
def enrolment_complete(*, actor, application: Application) -> Application:
    policy.require(actor, "application.review", application)
    application = _locked(application)
    _move(actor, application, S.COMPLETED)
    return application


@transaction.atomic
def registration_update(*, actor, registration: InstitutionRegistration, status: str,
                        external_student_number: str = "", message: str = "") -> InstitutionRegistration:
    """A partner reports the registration of an enrolled learner on its own systems."""
    policy.require(actor, "registration.update", registration)
    registration = InstitutionRegistration.objects.select_for_update().get(pk=registration.pk)
    if status not in RegistrationStatus.values:
        raise ValidationError({"status": [_("Unknown status.")]})
    if status == RegistrationStatus.REGISTERED and not external_student_number.strip():
        raise ValidationError({"external_student_number": [_("A registered learner has a student number.")]})
    before = audit.snapshot(registration, ("status", "external_student_number"))
    registration.status = status
    registration.external_student_number = external_student_number.strip()
    registration.message = message[:255]
    registration.full_clean()
    registration.save()
    Enrolment.objects.filter(pk=registration.enrolment_id).update(updated_at=registration.updated_at)
    audit.record(actor, "enrolment.registration_updated", registration,
                 audit.diff(before, audit.snapshot(registration, ("status", "external_student_number"))),
                 institution_id=registration.institution_id)
    return registration


TRANSITION_ACTIONS = {
    "review": application_review_start,
    "admit": application_admit,
    "waitlist": application_waitlist,
    "reject": application_reject,
    "withdraw": application_withdraw,
    "suspend": enrolment_suspend,
    "resume": enrolment_resume,
    "complete": enrolment_complete,
}


def applications_bulk(*, actor, applications: Iterable[Application], action: str,
                      reason: str = "") -> list[tuple[Application, str]]:
    """Apply one decision to many applications; each succeeds or is refused on its own, with its reason."""
    if action not in ("review", "admit", "waitlist", "reject"):
        raise DomainError(_("Unknown bulk action."))
    results = []
    for application in applications:
        kwargs = {"reason": reason} if action in ("admit", "waitlist", "reject") else {}
        try:
            TRANSITION_ACTIONS[action](actor=actor, application=application, **kwargs)
            results.append((application, ""))
        except (DomainError, ValidationError) as exc:
            message = exc.message if isinstance(exc, DomainError) else " ".join(exc.messages)
            results.append((application, message))
    return results


#: The placeholders a templated message may use (``messages_send``).
MESSAGE_PLACEHOLDERS = ("given_names", "family_names", "programme", "status")
_PLACEHOLDER = re.compile(r"{{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*}}")


def _check_placeholders(text: str) -> None:
    unknown = sorted({m.group(1) for m in _PLACEHOLDER.finditer(text)} - set(MESSAGE_PLACEHOLDERS))
    if unknown:
        raise ValidationError({"body": [_("Unknown placeholder(s): %(names)s. Use %(known)s.") % {
            "names": ", ".join(f"{{{{ {n} }}}}" for n in unknown),
            "known": ", ".join(f"{{{{ {n} }}}}" for n in MESSAGE_PLACEHOLDERS)}]})


def render_placeholders(text: str, values: Mapping[str, str]) -> str:
    """Replace ``{{ name }}`` placeholders only: the text is not a Django template (no tags, no filters), so
    whoever writes a message cannot run template code on the server."""
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)


@transaction.atomic
def messages_send(*, actor, applications: Iterable[Application], subject: str, body: str) -> int:
    """A templated message to many applicants; ``{{ given_names }}``, ``{{ programme }}``, ``{{ status }}`` work."""
    if not subject.strip() or not body.strip():
        raise ValidationError({"body": [_("Write a subject and a message.")]})
    _check_placeholders(subject + body)
    sent = 0
    for application in applications:
        policy.require(actor, "application.review", application)
        values = {"given_names": application.given_names, "family_names": application.family_names,
                  "programme": application.edition.programme.title, "status": application.get_status_display()}
        _notify(application, MessageKind.NOTICE, render_placeholders(subject, values),
                render_placeholders(body, values), actor)
        _record(actor, "application.message_sent", application, {"subject": subject})
        sent += 1
    return sent


# --- Recognition of prior learning ------------------------------------------------------------------------


@transaction.atomic
def exemption_request(*, actor, application: Application, course: Course, basis: str,
                      evidence=None) -> ExemptionRequest:
    policy.require(actor, "application.respond", application)
    if application.status not in (S.ADMITTED, S.OFFER_ACCEPTED, S.AWAITING_PAYMENT, S.ENROLLED):
        raise TransitionError(_("Exemptions are requested once you are admitted or enrolled."))
    if course.version_id != application.edition.curriculum_id:
        raise DomainError(_("The course is not part of this edition's curriculum."))
    if evidence is not None:
        validate_upload(evidence, ("pdf", "png", "jpeg"))
    if ExemptionRequest.objects.filter(application=application, course=course).exclude(
            status=ExemptionStatus.REFUSED).exists():
        raise DomainError(_("You already asked for an exemption from %(course)s.") % {"course": course.code})
    exemption = ExemptionRequest(application=application, course=course, basis=basis)
    if evidence is not None:
        exemption.evidence.save(evidence.name, evidence, save=False)
    exemption.full_clean()
    exemption.save()
    _record(actor, "exemption.requested", application, {"course": course.code})
    return exemption


@transaction.atomic
def exemption_decide(*, actor, exemption: ExemptionRequest, granted: bool, reason: str = "",
                     ects_recognised: Decimal | None = None) -> ExemptionRequest:
    policy.require(actor, "exemption.decide", exemption)
    exemption = (ExemptionRequest.objects.select_for_update(of=("self",))
                 .select_related("course", "application__edition").get(pk=exemption.pk))
    if exemption.status != ExemptionStatus.REQUESTED:
        raise TransitionError(_("This request was already decided."))
    if not granted and not reason.strip():
        raise ValidationError({"reason": [_("A refusal needs a reason.")]})
    if granted:
        ects_recognised = exemption.course.ects if ects_recognised is None else ects_recognised
        if not (0 < ects_recognised <= exemption.course.ects):
            raise ValidationError({"ects_recognised": [_("Between 0 and the course's %(ects)s ECTS.") % {
                "ects": exemption.course.ects}]})
    exemption.status = ExemptionStatus.GRANTED if granted else ExemptionStatus.REFUSED
    exemption.ects_recognised = ects_recognised if granted else None
    exemption.reason = reason
    exemption.decided_by = actor if isinstance(actor, User) else None
    exemption.decided_at = timezone.now()
    exemption.save()
    _record(actor, f"exemption.{exemption.status}", exemption.application,
            {"course": exemption.course.code, "ects": str(exemption.ects_recognised or ""), "reason": reason})
    return exemption

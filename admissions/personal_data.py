"""Personal data held by admissions: applications, their documents and messages."""

import datetime as dt
import os

from django.db import transaction

from consortium.api import personal_data

from .models import Application, ApplicationDocument, ApplicationStatus, Enrolment, ExemptionRequest

FIELDS = ("given_names", "family_names", "date_of_birth", "nationality", "email", "participant_profile", "track",
          "employer_sponsor", "education", "highest_eqf_level", "experience_years", "experience", "language_proofs",
          "motivation", "status", "submitted_at", "decision_reason")
#: Applications that ended without (or before the end of) a place: their documents and, later, the applications
#: themselves expire (``settings.PERSONAL_DATA_RETENTION``).
CLOSED = (ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN, ApplicationStatus.LAPSED,
          ApplicationStatus.DECLINED)


def _export(user) -> list[dict]:
    rows = []
    for application in Application.objects.filter(applicant=user).select_related("edition__programme"):
        row = {f: str(getattr(application, f)) if getattr(application, f) is not None else None for f in FIELDS}
        row["edition"] = str(application.edition)
        row["documents"] = [d.file.name for d in application.documents.all()]
        row["exemptions"] = [{"course": e.course.code, "basis": e.basis, "status": e.status, "reason": e.reason,
                              "evidence": e.evidence.name or None} for e in application.exemptions.all()]
        row["messages"] = [{"subject": m.subject, "body": m.body, "at": m.created_at.isoformat()}
                           for m in application.messages.all()]
        row["criterion_notes"] = [{"criterion": a.criterion.get_kind_display(), "result": a.result, "note": a.note}
                                  for a in application.criterion_assessments.select_related("criterion")]
        rows.append(row)
    return rows


def _folder(application: Application) -> str:
    edition = application.edition
    return f"{edition.programme.code}-{edition.intake_code}"


def _files(user):
    """The documents and exemption evidence the person uploaded, under ``<programme>-<intake>/``."""
    applications = Application.objects.filter(applicant=user).select_related("edition__programme")
    for application in applications:
        for document in application.documents.all():
            yield f"{_folder(application)}/{os.path.basename(document.file.name)}", document.file
        for exemption in application.exemptions.exclude(evidence=""):
            yield (f"{_folder(application)}/exemption-{exemption.course.code}-"
                   f"{os.path.basename(exemption.evidence.name)}", exemption.evidence)


def _identifiers(user) -> list[str]:
    names = []
    for given, family, email in Application.objects.filter(applicant=user).values_list(
            "given_names", "family_names", "email"):
        names += [f"{given} {family}", f"{family} {given}", f"{family}, {given}", email]
    return names


def _delete_documents(application: Application) -> None:
    for document in application.documents.all():
        _delete_after_commit(document.file)
        document.delete()
    for exemption in application.exemptions.exclude(evidence=""):
        _delete_after_commit(exemption.evidence)
        exemption.evidence = ""
        exemption.save(update_fields=["evidence", "updated_at"])


def _pseudonymise(application: Application, redact) -> None:
    """Names, contact and free text go; the record of the application and its decision stays."""
    _delete_documents(application)
    for exemption in application.exemptions.all():
        exemption.basis = "Erased"
        exemption.reason = redact(exemption.reason)
        exemption.save(update_fields=["basis", "reason", "updated_at"])
    for assessment in application.criterion_assessments.exclude(note=""):
        assessment.note = redact(assessment.note)
        assessment.save(update_fields=["note", "updated_at"])
    application.given_names = "Erased"
    application.family_names = "Learner"
    application.email = f"erased-{application.pk.hex}@invalid"
    application.date_of_birth = None
    for field in ("employer_sponsor", "education", "experience", "language_proofs", "motivation"):
        setattr(application, field, "")
    application.decision_reason = redact(application.decision_reason)
    application.save()
    # The enrolment shows the learner's names: partners syncing it see the erasure too (change feed).
    Enrolment.objects.filter(application=application).update(updated_at=application.updated_at)
    application.messages.all().delete()


def _erase(user) -> None:
    """Pseudonymise applications; delete documents and evidence (files removed after commit).
    Enrolments and exemption decisions stay: awards may depend on them."""
    redact = personal_data.redactor(personal_data.identifiers_of(user, name_parts=True))
    for application in Application.objects.filter(applicant=user):
        _pseudonymise(application, redact)


def _closed_before(cutoff: dt.datetime):
    # Closed applications change no more, so their last update is when they closed.
    return Application.objects.filter(status__in=CLOSED, updated_at__lt=cutoff)


def _expire_closed_documents(cutoff: dt.datetime) -> int:
    """Documents and exemption evidence of applications closed before ``cutoff``."""
    closed = _closed_before(cutoff)
    documents = ApplicationDocument.objects.filter(application__in=closed)
    evidence = ExemptionRequest.objects.filter(application__in=closed).exclude(evidence="")
    count = documents.count() + evidence.count()
    ids = {*documents.values_list("application_id", flat=True), *evidence.values_list("application_id", flat=True)}
    for application in Application.objects.filter(pk__in=ids):
        _delete_documents(application)
    return count


def _expire_closed_applications(cutoff: dt.datetime) -> int:
    """Closed applications that never led to an enrolment are pseudonymised (the account is left alone)."""
    count = 0
    expired = _closed_before(cutoff).filter(enrolment__isnull=True).exclude(email__endswith="@invalid")
    for application in expired.select_related("applicant"):
        names = [application.email, *f"{application.given_names} {application.family_names}".split()]
        _pseudonymise(application, personal_data.redactor(names))
        count += 1
    return count


def _delete_after_commit(field_file) -> None:
    storage, name = field_file.storage, field_file.name
    transaction.on_commit(lambda: storage.delete(name))


personal_data.register(
    "admissions",
    description="Applications, uploaded documents and messages.",
    export=_export,
    erase=_erase,
    files=_files,
    identifiers=_identifiers,
    retention_rules={"closed_application_documents": _expire_closed_documents,
                     "closed_applications": _expire_closed_applications},
    purpose="Admission to a joint programme: the application, its review against the admission criteria by the "
            "reviewing institution, the joint decision, recognition of prior learning, enrolment.",
    legal_basis="Art. 6(1)(b) (steps at the applicant's request before the learning contract) and 6(1)(e) "
                "(admission as a task of the universities).",
    data_subjects="Applicants and learners.",
    data_categories="Identity (names as on the identity document, date of birth, nationality), contact email, "
                    "profile and track, education, experience, language proofs, motivation, uploaded documents, "
                    "reviewers' notes, decisions and their reasons, messages, exemption requests and evidence.",
    recipients="Student administrators of the reviewing institution; after the joint decision, those of every "
               "participating institution, the team leader and consortium administrators; partner systems of "
               "participating institutions (applications:read).",
    retention="Applications that end in an enrolment: as long as the enrolment (academic record). Rejected, "
              "withdrawn, lapsed or declined applications: documents deleted, then the application pseudonymised, "
              "after the periods below.",
)

"""Personal data held by admissions: applications, their documents and messages."""

from django.db import transaction

from consortium.api import personal_data

from .models import Application

FIELDS = ("given_names", "family_names", "date_of_birth", "nationality", "email", "participant_profile", "track",
          "employer_sponsor", "education", "highest_eqf_level", "experience_years", "experience", "language_proofs",
          "motivation", "status", "submitted_at", "decision_reason")


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
        rows.append(row)
    return rows


def _erase(user) -> None:
    """Pseudonymise applications; delete documents and evidence (files removed after commit).
    Enrolments and exemption decisions stay: awards may depend on them."""
    for application in Application.objects.filter(applicant=user):
        for document in application.documents.all():
            _delete_after_commit(document.file)
            document.delete()
        for exemption in application.exemptions.all():
            if exemption.evidence:
                _delete_after_commit(exemption.evidence)
            exemption.basis = "Erased"
            exemption.evidence = ""
            exemption.save(update_fields=["basis", "evidence", "updated_at"])
        application.given_names = "Erased"
        application.family_names = "Learner"
        application.email = f"erased-{application.pk.hex}@invalid"
        application.date_of_birth = None
        for field in ("employer_sponsor", "education", "experience", "language_proofs", "motivation"):
            setattr(application, field, "")
        application.save()
        application.messages.all().delete()


def _delete_after_commit(field_file) -> None:
    storage, name = field_file.storage, field_file.name
    transaction.on_commit(lambda: storage.delete(name))


personal_data.register("admissions", description="Applications, uploaded documents and messages.",
                       export=_export, erase=_erase)

"""Personal data held by admissions: applications, their documents and messages."""

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
        row["messages"] = [{"subject": m.subject, "body": m.body, "at": m.created_at.isoformat()}
                           for m in application.messages.all()]
        rows.append(row)
    return rows


def _erase(user) -> None:
    """Pseudonymise applications; delete documents. Enrolments stay (awards may depend on them)."""
    for application in Application.objects.filter(applicant=user):
        for document in application.documents.all():
            document.file.delete(save=False)
            document.delete()
        application.given_names = "Erased"
        application.family_names = "Learner"
        application.email = f"erased-{application.pk.hex}@invalid"
        application.date_of_birth = None
        for field in ("employer_sponsor", "education", "experience", "language_proofs", "motivation"):
            setattr(application, field, "")
        application.save()
        application.messages.all().delete()


personal_data.register("admissions", description="Applications, uploaded documents and messages.",
                       export=_export, erase=_erase)

"""Personal data held by quality: survey invitations (who was asked and whether they answered — never what).

Responses are anonymous by construction (no link to a person), so they are neither exported nor erased per person:
nothing could find "their" response. A learner's invitation points at their account; a stakeholder's (no account)
holds their email address, so both are found by the account and by every email address of the account.
``export_email``/``erase_email`` serve a stakeholder's request made without an account.

Erasure and retention remove the person from the invitation (account, email, link token) and keep the row, so a
survey's response rate stays right."""

import datetime as dt

from django.db.models import Q

from consortium.api import personal_data

from .models import Invitation, SurveyStatus


def _emails(user) -> set[str]:
    from allauth.account.models import EmailAddress

    addresses = {user.email, *EmailAddress.objects.filter(user=user).values_list("email", flat=True)}
    return {a.strip().lower() for a in addresses if a and a.strip()}


def _rows(invitations) -> list[dict]:
    return [{"survey": str(i.survey), "audience": i.survey.audience, "invited_on": i.created_at.date().isoformat(),
             "email": i.email or None, "answered": i.answered, "reminders_sent": i.reminders_sent}
            for i in invitations.select_related("survey__programme", "survey__edition").order_by("created_at")]


def _export(user) -> list[dict]:
    """The invitations (and whether the person answered); never answers, which cannot be traced to anyone."""
    return _rows(Invitation.objects.filter(Q(learner=user) | Q(email__in=_emails(user))))


def _erase(user) -> None:
    Invitation.objects.filter(learner=user).update(learner=None)
    erase_email(*_emails(user))


def export_email(email: str) -> list[dict]:
    """A stakeholder's invitations, found by their email address."""
    return _rows(Invitation.objects.filter(email=email.strip().lower())) if email and email.strip() else []


def erase_email(*emails: str) -> int:
    """Remove the email addresses (and their links' tokens) from the invitations. Returns how many changed."""
    wanted = {e.strip().lower() for e in emails if e and e.strip()}
    if not wanted:
        return 0
    return Invitation.objects.filter(email__in=wanted).update(email="", token_hash="")


def _expire_invitations(cutoff: dt.datetime) -> int:
    """Invitations of surveys closed before ``cutoff`` lose the person (the counts stay)."""
    return (Invitation.objects.filter(survey__status=SurveyStatus.CLOSED, survey__closed_at__lt=cutoff)
            .filter(Q(learner__isnull=False) | ~Q(email="") | ~Q(token_hash=""))
            .update(learner=None, email="", token_hash=""))


personal_data.register(
    "quality",
    description="Feedback surveys you were invited to, and whether you answered (your answers are anonymous: "
                "they are stored without any link to you, so they cannot be exported or erased as yours).",
    export=_export,
    erase=_erase,
    retention_rules={"feedback_invitations": _expire_invitations},
    purpose="Quality assurance of the joint programmes (ESG 1.9): inviting the learners of an edition and the "
            "programme's stakeholders to anonymous feedback surveys, reminding those who have not answered, and "
            "computing response rates.",
    legal_basis="Art. 6(1)(e) (quality assurance as a task of the universities); for stakeholders, Art. 6(1)(f) "
                "(the programme's legitimate interest in its relevance to employers).",
    data_subjects="Learners of an edition (not withdrawn); employers and associated partners invited by email.",
    data_categories="For each invitation: the learner's account or the stakeholder's email address and the hash of "
                    "their link's token, when invited, whether and on which day they answered, reminders sent. "
                    "Answers are stored without any of these.",
    recipients="Nobody sees who answered: the programme team and the lead institution's quality staff see response "
               "rates and anonymous results (shown only from a minimum number of respondents). Emails are sent "
               "through the configured mail provider.",
    retention="The person is removed from the invitations the period below after the survey closed (the counts "
              "stay); erasure on request removes them at once.",
)

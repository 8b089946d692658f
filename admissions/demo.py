"""Demo admissions: criteria for both open editions and about forty applications in every state.

Everything goes through the services, as learners and the UNED student administration would act.
"""

import datetime as dt
import random

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from consortium.api import ExternalIdKind, User, external_id_set
from programmes.api import Edition

from . import services
from .models import Application, Criterion, Enrolment

FIRST = ["Maria", "Jan", "Lucía", "Pieter", "Ana", "Luc", "Sofia", "Tomás", "Eva", "Noah", "Inès", "Łukasz",
         "Jürgen", "Søren", "Chiara", "Aylin", "Mateo", "Nour", "Hana", "Oskar", "Elif", "Bram", "Zoé", "Kai"]
LAST = ["Kowalska", "De Vries", "García", "Janssens", "Rossi", "Müller", "Dubois", "Novák", "Jensen", "Yılmaz",
        "Fernández", "Peeters", "Bakker", "Nowak", "Ferreira", "Svensson", "Haddad", "Tanaka", "Lindqvist", "Moreau"]
COUNTRIES = ["BE", "ES", "NL", "DE", "PL", "IT", "FR", "PT", "SE", "TR", "MA", "JP"]

# The state each demo application ends in, per edition (waitlisted last, so freed places don't promote them).
PLAN = {
    "euchip-cdf": ["draft", "draft", "submitted", "submitted", "submitted", "under_review", "under_review",
                   "info_requested", "info_requested", "admitted", "admitted", "rejected", "rejected",
                   "enrolled", "enrolled", "enrolled", "enrolled", "enrolled", "declined", "withdrawn", "suspended",
                   "enrolled", "enrolled", "waitlisted"],
    "euchip-msd": ["draft", "submitted", "submitted", "under_review", "info_requested", "admitted",
                   "rejected", "enrolled", "enrolled", "enrolled", "enrolled", "lapsed", "withdrawn", "enrolled",
                   "completed", "waitlisted"],
}


def _pdf(title: str) -> SimpleUploadedFile:
    body = (f"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
            f"% {title}\ntrailer<</Root 1 0 R>>\n%%EOF\n").encode("latin-1", "replace")
    return SimpleUploadedFile(f"{title.lower().replace(' ', '-')}.pdf", body, content_type="application/pdf")


def _criteria(edition: Edition, leader, reviewing) -> None:
    framework = services.framework_save(actor=leader, edition=edition, data={
        "reviewing_institution": reviewing, "offer_valid_days": 14, "payment_required": False})
    specs = [
        {"kind": "language", "description": "English at CEFR B2 or higher", "language": "en", "min_cefr": "B2",
         "accepted_proofs": "IELTS 6.0, TOEFL iBT 80, Cambridge B2 First, or a degree taught in English",
         "document_label": "Proof of English (B2)"},
        {"kind": "prior_degree", "description": "A bachelor's degree in a STEM field", "min_eqf_level": 6,
         "document_label": "Diploma and transcript"},
        {"kind": "experience", "description": "Or at least two years of work in electronics or software",
         "min_years": 2, "field": "Electronics, embedded software"},
        {"kind": "alternative", "description": "Non-traditional backgrounds: a portfolio and a short interview",
         "document_label": "Portfolio"},
    ]
    for spec in specs:
        services.criterion_save(actor=leader, framework=framework, data=spec)


def _learner(index: int) -> User:
    first, last = FIRST[index % len(FIRST)], LAST[(index * 7) % len(LAST)]
    email = f"applicant{index:02d}@example.org"
    user = User.objects.filter(email=email).first() or User.objects.create_user(
        email=email, password="demo-pass-2026", full_name=f"{first} {last}")
    return user


def _apply(user: User, edition: Edition, index: int, criteria: list[Criterion]) -> Application:
    rng = random.Random(index)
    application = services.application_start(actor=user, edition=edition,
                                             utm={"utm_source": rng.choice(["linkedin", "newsletter", "partner-site"]),
                                                  "utm_campaign": "spring-2027"})
    first, last = user.full_name.split(" ", 1)
    data = {
        "given_names": first, "family_names": last, "date_of_birth": dt.date(1975 + index % 25, 1 + index % 12, 10),
        "nationality": COUNTRIES[index % len(COUNTRIES)], "email": user.email,
        "participant_profile": rng.choice(["professional", "professional", "job_seeker", "degree_student"]),
        "track": "attendance" if index % 9 == 0 else "assessed",
        "employer_sponsor": "EuroChip Design GmbH" if index % 5 == 0 else "",
        "route": "alternative" if index % 8 == 0 else "standard",
        "education": "BSc Electrical Engineering", "highest_eqf_level": 6, "experience_years": index % 10,
        "experience": "Embedded software developer", "language_proofs": "IELTS 7.0 (2024)",
        "motivation": "I want to move into chip design and build skills the European industry needs.",
    }
    documents = [(c.document_label, _pdf(c.document_label), c) for c in criteria
                 if c.document_label and (c.kind != "alternative" or data["route"] == "alternative")]
    # Every other learner gives a European Student Identifier (the HEI-wide form, issued by UNED).
    esi = f"urn:schac:personalUniqueCode:int:esi:uned.es:2027{index:04d}" if index % 2 == 0 else None
    return services.application_save(actor=user, application=application, data=data, documents=documents, esi=esi)


def _drive(application: Application, target: str, user: User, admin) -> None:
    """Move a draft through the real transitions to ``target``."""
    if target == "draft":
        return
    services.application_submit(actor=user, application=application)
    if target == "submitted":
        return
    services.application_review_start(actor=admin, application=application)
    if target == "under_review":
        return
    if target == "info_requested":
        services.application_request_info(actor=admin, application=application,
                                          message="Please upload the transcript of your bachelor's degree.")
        return
    if target == "rejected":
        services.application_reject(actor=admin, application=application,
                                    reason="The prior degree is not in a STEM field and no relevant experience.")
        return
    if target == "waitlisted":
        services.application_waitlist(actor=admin, application=application, reason="Eligible; the edition is full.")
        return
    services.application_admit(actor=admin, application=application)
    if target == "admitted":
        return
    if target == "lapsed":
        Application.objects.filter(pk=application.pk).update(offer_deadline=timezone.now() - dt.timedelta(days=1))
        services.applications_lapse_overdue()
        return
    if target == "declined":
        services.application_decline_offer(actor=user, application=application)
        return
    services.application_accept_offer(actor=user, application=application)
    if target == "withdrawn":
        services.application_withdraw(actor=user, application=application, reason="Changed jobs.")
    elif target == "suspended":
        services.enrolment_suspend(actor=admin, application=application, reason="Medical leave")
    elif target == "completed":
        services.enrolment_complete(actor=admin, application=application)


def seed(ctx: dict) -> list[str]:
    if Application.objects.exists():
        return ["Demo applications already exist."]
    people = ctx["people"]
    leader, admin = people["leader@kuleuven.example"], people["student.admin@uned.example"]
    uned = ctx["institutions"]["UNED"]
    count, index = 0, 0
    for code, plan in PLAN.items():
        edition = Edition.objects.get(programme__code=code, status="open")
        _criteria(edition, leader, uned)
        criteria = list(edition.admission_framework.criteria.all())
        for target in plan:
            index += 1
            user = _learner(index)
            application = _apply(user, edition, index, criteria)
            _drive(application, target, user, admin)
            count += 1
    # UNED's student administration keeps its own student and enrolment numbers for the learners it enrolled.
    for number, enrolment in enumerate(Enrolment.objects.order_by("enrolled_at", "pk"), start=1):
        external_id_set(actor=admin, kind=ExternalIdKind.LEARNER, object_id=enrolment.learner_id,
                        value=f"UNED-{enrolment.learner.email.split('@')[0]}")
        external_id_set(actor=admin, kind=ExternalIdKind.ENROLMENT, object_id=enrolment.pk, value=f"UNED-M{number:05d}")
    # The demo learner account has a draft, ready to submit from the browser.
    learner = ctx["learner"]
    edition = Edition.objects.get(programme__code="euchip-cdf", status="open")
    services.application_start(actor=learner, edition=edition, utm={"utm_source": "demo"})
    return [f"Admissions: {count} applications in every state (reviewed by UNED), applicant logins "
            "applicant01@example.org … (same password); learner@example.org has a draft."]

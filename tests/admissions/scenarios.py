"""Arranged admissions worlds shared by the admissions tests and the browser journeys (tests/e2e/)."""

from admissions import services

from ..factories import (
    CourseFactory,
    EditionFactory,
    ProgrammeFactory,
    ProgrammePartnerFactory,
    RoleAssignmentFactory,
    StaffFactory,
    UserFactory,
)

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


class Setup:
    pass


def open_edition() -> Setup:
    """A published programme (lead LU, partner PU) with an open edition of 30 places, two courses, and admission
    criteria reviewed by the lead institution: English (proof required), experience (no document), alternative
    route (portfolio, only for that route)."""
    s = Setup()
    s.programme = ProgrammeFactory(status="published", code="chip-design")
    s.lead = s.programme.lead_institution
    s.partner = ProgrammePartnerFactory(programme=s.programme).institution
    s.edition = EditionFactory(programme=s.programme, status="open", intake_code="2026-autumn")
    s.course = CourseFactory(version=s.edition.curriculum, code="CD101", title="Digital design")
    s.other_course = CourseFactory(code="QC101", title="Quantum circuits")  # another programme's curriculum
    s.leader = StaffFactory(institution=s.lead).user
    RoleAssignmentFactory(user=s.leader, role="team_leader", institution=s.lead, target_id=s.programme.pk)
    s.reviewer = StaffFactory(institution=s.lead).user
    RoleAssignmentFactory(user=s.reviewer, role="student_admin", institution=s.lead)
    s.partner_admin = StaffFactory(institution=s.partner).user
    RoleAssignmentFactory(user=s.partner_admin, role="student_admin", institution=s.partner)
    s.framework = services.framework_save(actor=s.leader, edition=s.edition, data={
        "reviewing_institution": s.lead, "offer_valid_days": 14, "payment_required": False})
    s.english = services.criterion_save(actor=s.leader, framework=s.framework, data={
        "kind": "language", "description": "English at CEFR B2 or higher", "language": "en", "min_cefr": "B2",
        "accepted_proofs": "IELTS 6.0 or TOEFL iBT 80", "document_label": "Proof of English"})
    s.experience = services.criterion_save(actor=s.leader, framework=s.framework, data={
        "kind": "experience", "description": "Two years in electronics", "min_years": 2})
    s.portfolio = services.criterion_save(actor=s.leader, framework=s.framework, data={
        "kind": "alternative", "description": "A portfolio for non-traditional backgrounds",
        "document_label": "Portfolio"})
    s.learner = UserFactory(full_name="Maria Kowalska", email="maria@example.org")
    return s


def answers(**overrides) -> dict:
    """The application form as a learner fills it in completely."""
    data = {
        "given_names": "Maria Anna", "family_names": "Kowalska-Nowak", "date_of_birth": "1990-04-10",
        "nationality": "PL", "email": "maria@example.org", "participant_profile": "professional",
        "track": "assessed", "employer_sponsor": "EuroChip GmbH", "route": "standard",
        "education": "BSc Electrical Engineering, Warsaw, 2012", "highest_eqf_level": "6",
        "experience_years": "5", "experience": "Embedded software developer",
        "language_proofs": "IELTS 7.0 (2024)", "motivation": "I want to move into chip design.",
        "other_label": "",
    }
    data.update(overrides)
    return data

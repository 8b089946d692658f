"""The frozen snapshot of an award, and the 11 mandatory EU elements read from it.

Every document, the verification page and (later) the digital credential render from the snapshot only,
so a later change to a programme, a rector or a grade never alters what was issued. Signature images
are copied into the snapshot (base64) for the same reason.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from django.utils import translation
from django_countries import countries

from admissions.api import Enrolment, Track
from assessment.api import award_eligibility
from programmes.api import AssessmentMethod, Supervision, isced

SCHEMA = 1

#: Shown instead of the learner's name once their personal data was erased (GDPR Art. 17): the credential stays
#: valid and verifiable, but the public record no longer says whose it is; the holder shows the PDF they hold.
WITHHELD = "Details withheld at the holder's request"
LEARNER_FIELDS = ("given_names", "family_names", "date_of_birth", "nationality", "email", "esi")

#: The 11 mandatory elements of the Council Recommendation on micro-credentials (2022), in order.
ELEMENTS: list[tuple[str, str]] = [
    ("learner", "Identification of the learner"),
    ("title", "Title of the micro-credential"),
    ("country", "Country(ies)/region(s) of the issuer"),
    ("awarding_bodies", "Awarding body(ies)"),
    ("date_of_issuing", "Date of issuing"),
    ("learning_outcomes", "Learning outcomes"),
    ("workload", "Notional workload (ECTS)"),
    ("level", "Level (EQF / QF-EHEA cycle)"),
    ("assessment", "Type of assessment"),
    ("participation", "Form of participation"),
    ("quality_assurance", "Type of quality assurance"),
]
OPTIONAL: list[tuple[str, str]] = [
    ("prerequisites", "Prerequisites"),
    ("supervision", "Supervision and identity verification"),
    ("grade", "Grade achieved"),
    ("stackability", "Integration / stackability"),
    ("further_information", "Further information"),
]

HIGHER_EDUCATION_SYSTEMS = {
    "BE": "Higher education in Belgium is organised by the Communities. Bachelor (180 ECTS, EQF 6), master "
          "(60–120 ECTS, EQF 7) and doctorate (EQF 8) follow the Bologna structure; universities may award "
          "postgraduate and micro-credentials for lifelong learning.",
    "ES": "Spanish higher education follows the MECES/Bologna structure: grado (240 ECTS, EQF 6), máster "
          "(60–120 ECTS, EQF 7), doctorado (EQF 8). Universities issue títulos propios and microcredenciales "
          "(Real Decreto 822/2021), which may not exceed 15 ECTS.",
    "NL": "Dutch higher education is binary (research universities and universities of applied sciences): "
          "bachelor (180–240 ECTS, EQF 6), master (60–120 ECTS, EQF 7), PhD (EQF 8). Micro-credentials are "
          "issued under the national pilot with an edubadge.",
    "DE": "German higher education: Bachelor (180–240 ECTS, EQF 6), Master (60–120 ECTS, EQF 7), Promotion "
          "(EQF 8); universities issue certificates for continuing education (Zertifikatsstudium).",
}


def _b64(field_file) -> str:
    if not field_file:
        return ""
    with field_file.open("rb") as handle:
        return base64.b64encode(handle.read()).decode()


def _texts(programme, name: str) -> dict[str, str]:
    return {t.language: getattr(t, name) for t in programme.texts.all() if getattr(t, name)}


def _institution(institution, role: str) -> dict[str, Any]:
    return {
        "id": str(institution.id),
        "legal_name": institution.legal_name,
        "short_name": institution.short_name,
        "country": institution.country.code,
        "country_name": str(countries.name(institution.country.code)),
        "city": institution.city,
        "erasmus_code": institution.erasmus_code,
        "schac_code": institution.schac_code,
        "signatory_name": institution.signatory_name,
        "signatory_title": institution.signatory_title,
        "signature_png": _b64(institution.signatory_signature),
        "role": role,
    }


def build(enrolment: Enrolment, *, issued_at: dt.datetime, kind: str, classification: str = "") -> dict[str, Any]:
    """Freeze everything the documents show. Labels are frozen in English; texts in every language."""
    application = enrolment.application
    edition = enrolment.edition
    programme = edition.programme
    with translation.override("en"):
        eligibility = award_eligibility(enrolment)
        partners = programme.partners.select_related("institution").order_by("role", "institution__short_name")
        awarding = [_institution(p.institution, p.role) for p in partners if p.institution.is_university]
        issuer = _institution(programme.issuing_institution, "issuer")
        courses = []
        for result in eligibility.courses:
            course = result.course
            courses.append({
                "code": course.code, "title": course.title, "provider": course.provider.short_name,
                "provider_country": course.provider.country.code, "ects": str(course.ects),
                "mandatory": course.mandatory, "status": result.status, "joint_grade": result.joint_grade,
                "national_grade": result.national_grade, "ects_earned": str(result.ects), "attempts": result.attempts,
                "assessment_method": str(AssessmentMethod(course.assessment_method).label),
                "supervision": str(Supervision(course.supervision).label),
            })
        regulation = getattr(getattr(edition, "exam_regulation", None), "regulation", None)
        stack_targets = [s.target.title for s in programme.stacks_into.select_related("target")]
        snapshot = {
            "schema": SCHEMA,
            "kind": kind,
            "issued_at": issued_at.isoformat(),
            "learner": {
                "given_names": application.given_names, "family_names": application.family_names,
                "date_of_birth": application.date_of_birth.isoformat() if application.date_of_birth else "",
                "nationality": application.nationality.code if application.nationality else "",
                "email": application.email,
                "esi": enrolment.learner.esi,  # the European Student Identifier the learner gave, "" if none
            },
            "programme": {
                "code": programme.code,
                "primary_language": programme.primary_language,
                "languages": list(programme.languages),
                "titles": _texts(programme, "title"),
                "qualification_names": _texts(programme, "qualification_name"),
                "prerequisites": _texts(programme, "prerequisites"),
                "qualification_type": programme.get_qualification_type_display(),
                "ects": str(programme.ects),
                "workload_hours": list(programme.workload_hours),
                "eqf_level": programme.eqf_level,
                "qf_ehea_cycle": programme.get_qf_ehea_cycle_display() if programme.qf_ehea_cycle else "",
                "isced_f": programme.isced_f,
                "isced_f_name": isced.name(programme.isced_f),
                "delivery_mode": programme.get_delivery_mode_display(),
                "synchronicity": programme.get_synchronicity_display(),
                "pacing": programme.get_pacing_display(),
                "participation_form": programme.participation_form,
                "duration_weeks": programme.duration_weeks,
                "award_kind": programme.award_kind,
                "award_kind_label": programme.get_award_kind_display(),
                "qa_scheme": programme.qa_scheme,
                "mobility_scheme": programme.mobility_scheme,
                "professional_body": programme.professional_body,
                "professional_recognition": programme.professional_recognition,
                "stand_alone": programme.stand_alone,
                "stacks_into": stack_targets,
                "external_stacking": [x.strip() for x in programme.external_stacking.splitlines() if x.strip()],
                "outcomes": [{"category": o.get_category_display(), "text": o.text, "esco_uri": o.esco_uri}
                             for o in programme.outcomes.all()],
                "contact_email": programme.contact_email,
            },
            "edition": {"intake_code": edition.intake_code, "starts_on": edition.starts_on.isoformat(),
                        "ends_on": edition.ends_on.isoformat()},
            "issuer": issuer,
            "awarding_bodies": awarding,
            "results": {
                "track": application.track,
                "courses": courses,
                "ects_earned": str(eligibility.ects_earned) if application.track == Track.ASSESSED else "0",
                "classification": classification,
                "joint_scale": regulation.joint_scale.name if regulation else "",
            },
            "assessment_types": sorted({c["assessment_method"] for c in courses}),
            "supervision": sorted({c["supervision"] for c in courses}),
            "higher_education_systems": {
                code: HIGHER_EDUCATION_SYSTEMS.get(code, "")
                for code in sorted({b["country"] for b in awarding} | {issuer["country"]})
            },
        }
    return snapshot


def withhold_learner(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The snapshot without the learner's personal fields (erasure), marked ``withheld``."""
    return {**snapshot, "learner": {**dict.fromkeys(LEARNER_FIELDS, ""), "withheld": True}}


def is_withheld(snapshot: dict[str, Any]) -> bool:
    return bool(snapshot.get("learner", {}).get("withheld"))


def holder(snapshot: dict[str, Any]) -> str:
    """The learner's name as issued, or ``WITHHELD`` after erasure."""
    if is_withheld(snapshot):
        return WITHHELD
    learner = snapshot["learner"]
    return " ".join(x for x in (learner["given_names"], learner["family_names"]) if x)


def elements(snapshot: dict[str, Any], language: str | None = None, *, public: bool = False) -> list[dict[str, Any]]:
    """The 11 mandatory elements with the values a document prints (empty value = missing).

    ``public``: for the verification page and API, where anyone can look: the learner is identified by name
    only (the date of birth stays on the documents the learner chooses to share)."""
    programme = snapshot["programme"]
    language = language or programme["primary_language"]
    title = programme["titles"].get(language) or programme["titles"].get(programme["primary_language"], "")
    learner = snapshot["learner"]
    bodies = snapshot["awarding_bodies"] or [snapshot["issuer"]]
    attendance = snapshot["kind"] == "attendance"
    values = {
        "learner": holder(snapshot).strip()
        + (f", born {learner['date_of_birth']}" if learner["date_of_birth"] and not public else ""),
        "title": title,
        "country": ", ".join(dict.fromkeys(b["country_name"] for b in bodies)),
        "awarding_bodies": ", ".join(f"{b['legal_name']} ({b['country']})" for b in bodies),
        "date_of_issuing": snapshot["issued_at"][:10],
        "learning_outcomes": "; ".join(o["text"] for o in programme["outcomes"]),
        "workload": ("No ECTS: certificate of attendance; " if attendance else f"{programme['ects']} ECTS; ")
        + f"{programme['workload_hours'][0]}–{programme['workload_hours'][1]} hours of study",
        "level": f"EQF {programme['eqf_level']}" + (f", QF-EHEA {programme['qf_ehea_cycle']}"
                                                   if programme["qf_ehea_cycle"] else ""),
        "assessment": "Attendance only, not assessed" if attendance else ", ".join(snapshot["assessment_types"]),
        "participation": programme["participation_form"] or ", ".join(
            x for x in (programme["delivery_mode"], programme["synchronicity"], programme["pacing"]) if x),
        "quality_assurance": programme["qa_scheme"],
    }
    return [{"key": key, "number": i, "label": label, "value": values[key]}
            for i, (key, label) in enumerate(ELEMENTS, start=1)]


def missing_elements(snapshot: dict[str, Any]) -> list[str]:
    return [f"({e['number']}) {e['label']}" for e in elements(snapshot) if not str(e["value"]).strip()]


def optional_elements(snapshot: dict[str, Any], language: str | None = None) -> list[dict[str, str]]:
    programme = snapshot["programme"]
    language = language or programme["primary_language"]
    stack = "Stand-alone" if programme["stand_alone"] else "Stackable towards " + ", ".join(
        programme["stacks_into"] + programme["external_stacking"])
    values = {
        "prerequisites": programme["prerequisites"].get(language) or programme["prerequisites"].get(
            programme["primary_language"], ""),
        "supervision": ", ".join(snapshot["supervision"]),
        "grade": snapshot["results"]["classification"],
        "stackability": stack,
        "further_information": programme["professional_recognition"] and
        f"{programme['professional_body']}: {programme['professional_recognition']}",
    }
    return [{"key": k, "label": label, "value": values[k]} for k, label in OPTIONAL if values[k]]

"""European Learning Model (ELM 3) / Europass EDC JSON-LD export of an award, built from the frozen snapshot only.

The result is **unsealed**: an institution seals it with its own eIDAS qualified electronic seal outside this
system (for example in the Europass Digital Credentials issuer). We make no conformance claim: the EDC SHACL
shapes cannot be run here. The mapping of the 11 EU elements is ``ELEMENT_FIELDS`` below and the table in
docs/credentials.md ("European Learning Model export").
"""

from __future__ import annotations

import uuid
from typing import Any

from django.utils import translation
from django_countries import countries

from programmes.api import Supervision

from .. import snapshot as snap
from ..rendering import verification_url
from .ob3 import _stamp

CONTEXT = "http://data.europa.eu/snb/model/context/edc-ap"

EQF = "http://data.europa.eu/snb/eqf/"
COUNTRY = "http://publications.europa.eu/resource/authority/country/"
LANGUAGE = "http://publications.europa.eu/resource/authority/language/"
#: ECTS in the EU "education credit" vocabulary.
ECTS = "http://data.europa.eu/snb/education-credit/6fcec5c5af"
LEARNING_MODE = "http://data.europa.eu/snb/learning-mode/"
SUPERVISION = "http://data.europa.eu/snb/supervision-verification/"
#: ISCED-F 2013 fields of education in the EU vocabulary (the learning specification's ``ISCEDFCode``).
ISCED_F = "http://data.europa.eu/snb/isced-f/"

#: ISO 639-1 (our programme languages) → the EU language authority table (ISO 639-2/B-like codes).
LANGUAGES = {
    "bg": "BUL", "cs": "CES", "da": "DAN", "de": "DEU", "el": "ELL", "en": "ENG", "es": "SPA", "et": "EST",
    "fi": "FIN", "fr": "FRA", "ga": "GLE", "hr": "HRV", "hu": "HUN", "it": "ITA", "lt": "LIT", "lv": "LAV",
    "mt": "MLT", "nl": "NLD", "pl": "POL", "pt": "POR", "ro": "RON", "sk": "SLK", "sl": "SLV", "sv": "SWE",
}

#: Delivery mode (frozen English label) → ELM learning mode concept (notation, label).
MODES = {"Online": ("online", "Online"), "Blended": ("blended", "Blended"),
         "On-site": ("face-to-face", "Face-to-face")}

#: Course supervision (``programmes.Supervision`` value) → ELM supervision and verification concept label,
#: weakest first: with several, the credential states the weakest guarantee.
SUPERVISION_LEVELS = {
    Supervision.UNSUPERVISED: "None",
    Supervision.SUPERVISED_NO_ID: "Supervised with no identity verification",
    Supervision.SUPERVISED_ONLINE: "Supervised with online identity verification",
    Supervision.ON_SITE_ID: "Supervised with onsite identity verification",
}

#: Where each EU element lives in the ELM credential (dotted paths; ``claim`` = credentialSubject.hasClaim,
#: ``spec`` = claim.specifiedBy).
ELEMENT_FIELDS: dict[str, list[str]] = {
    "learner": ["credentialSubject.givenName", "credentialSubject.familyName", "credentialSubject.dateOfBirth"],
    "title": ["title", "claim.title", "spec.title"],
    "country": ["claim.awardedBy.awardingBody[].location[].address[].countryCode",
                "issuer.location[].address[].countryCode"],
    "awarding_bodies": ["claim.awardedBy.awardingBody[].legalName", "issuer.legalName"],
    "date_of_issuing": ["validFrom", "issuanceDate", "claim.awardedBy.awardingDate"],
    "learning_outcomes": ["spec.learningOutcome[].title", "spec.learningOutcome[].relatedESCOSkill"],
    "workload": ["spec.creditPoint[].point", "spec.volumeOfLearning"],
    "level": ["spec.eqfLevel"],
    "assessment": ["claim.provenBy[].description", "claim.provenBy[].grade"],
    "participation": ["spec.mode", "spec.additionalNote[]"],
    "quality_assurance": ["spec.accreditation[].title"],
}


def _urn(*parts: str) -> str:
    """A stable urn:uuid for a node of the credential (the same credential always gives the same ids)."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, ':'.join(['jointcred-elm', *parts]))}"


def _concept(uri: str, label: str, notation: str = "", scheme: str = "") -> dict[str, Any]:
    concept: dict[str, Any] = {"id": uri, "type": "Concept", "prefLabel": {"en": label}}
    if notation:
        concept["notation"] = notation
    if scheme:
        concept["inScheme"] = {"id": scheme, "type": "ConceptScheme"}
    return concept


def _country(code: str) -> dict[str, Any]:
    alpha3 = countries.alpha3(code) or code
    return _concept(COUNTRY + alpha3, str(countries.name(code)) or code, alpha3, COUNTRY.rstrip("/"))


def _organisation(body: dict[str, Any], credential_id: str) -> dict[str, Any]:
    address: dict[str, Any] = {"id": _urn(credential_id, "address", body["id"]), "type": "Address",
                               "countryCode": _country(body["country"])}
    if body.get("city"):
        address["fullAddress"] = {"id": _urn(credential_id, "address-note", body["id"]), "type": "Note",
                                  "noteLiteral": {"en": f"{body['city']}, {body['country_name']}"}}
    organisation: dict[str, Any] = {
        "id": f"urn:uuid:{body['id']}",
        "type": "Organisation",
        "legalName": {"en": body["legal_name"]},
        "location": [{"id": _urn(credential_id, "location", body["id"]), "type": "Location", "address": [address]}],
    }
    if body.get("short_name"):
        organisation["altLabel"] = {"en": body["short_name"]}
    identifiers = [(body.get("erasmus_code"), "Erasmus code"), (body.get("schac_code"), "SCHAC home organisation")]
    others = [{"id": _urn(credential_id, "identifier", body["id"], name), "type": "Identifier", "notation": value,
               "schemeName": name} for value, name in identifiers if value]
    if others:
        organisation["identifier"] = others
    return organisation


def _language_map(texts: dict[str, str], fallback: str = "") -> dict[str, str]:
    return {lang: text for lang, text in texts.items() if text} or ({"en": fallback} if fallback else {})


def _id_verification(snapshot: dict[str, Any]) -> dict[str, Any] | None:
    with translation.override("en"):
        by_label = {str(choice.label): choice for choice in Supervision}
    levels = [by_label[label] for label in snapshot.get("supervision", []) if label in by_label]
    if not levels:
        return None
    order = list(SUPERVISION_LEVELS)
    weakest = min(levels, key=order.index)
    return _concept(SUPERVISION + weakest.value, SUPERVISION_LEVELS[weakest], weakest.value,
                    SUPERVISION.rstrip("/"))


def build_elm(credential) -> dict[str, Any]:
    """The unsealed ELM 3 / EDC JSON-LD credential for a ``Credential``, from ``credential.snapshot`` alone."""
    s = credential.snapshot
    cid = credential.credential_id
    programme = s["programme"]
    language = programme["primary_language"]
    eu = {e["key"]: e["value"] for e in snap.elements(s, language)}
    attendance = s["kind"] == "attendance"
    learner = s["learner"]
    bodies = s["awarding_bodies"] or [s["issuer"]]
    titles = _language_map(programme["titles"], eu["title"])
    issued = _stamp(s["issued_at"])
    url = verification_url(cid)

    outcomes = []
    for i, outcome in enumerate(programme["outcomes"], start=1):
        node: dict[str, Any] = {"id": _urn(cid, "outcome", str(i)), "type": "LearningOutcome",
                                "title": {language: outcome["text"]}}
        if outcome.get("category"):
            node["additionalNote"] = [{"id": _urn(cid, "outcome-note", str(i)), "type": "Note",
                                       "noteLiteral": {"en": outcome["category"]}}]
        if outcome.get("esco_uri"):
            node["relatedESCOSkill"] = [{"id": outcome["esco_uri"], "type": "Concept"}]
        outcomes.append(node)

    spec: dict[str, Any] = {
        "id": _urn(cid, "specification"),
        "type": "LearningAchievementSpecification",
        "title": titles,
        "learningOutcome": outcomes,
        "eqfLevel": _concept(f"{EQF}{programme['eqf_level']}", f"Level {programme['eqf_level']}",
                             str(programme["eqf_level"]), EQF.rstrip("/")),
        "accreditation": [{"id": _urn(cid, "accreditation"), "type": "Accreditation",
                           "title": {"en": programme["qa_scheme"]},
                           "organisation": {"id": f"urn:uuid:{s['issuer']['id']}", "type": "Organisation"}}],
    }
    qualification = _language_map(programme["qualification_names"])
    if qualification:
        spec["altLabel"] = qualification
    if programme.get("isced_f"):
        spec["ISCEDFCode"] = [_concept(ISCED_F + programme["isced_f"], programme.get("isced_f_name") or
                                       programme["isced_f"], programme["isced_f"], ISCED_F.rstrip("/"))]
    if not attendance:
        spec["creditPoint"] = [{"id": _urn(cid, "credit"), "type": "CreditPoint",
                                "framework": _concept(ECTS, "European Credit Transfer and Accumulation System",
                                                      "ECTS"),
                                "point": programme["ects"]}]
    hours = programme.get("workload_hours") or []
    if hours:
        spec["volumeOfLearning"] = f"PT{max(hours)}H"
    mode = MODES.get(programme["delivery_mode"])
    if mode:
        spec["mode"] = [_concept(LEARNING_MODE + mode[0], mode[1], mode[0], LEARNING_MODE.rstrip("/"))]
    spec["additionalNote"] = [{"id": _urn(cid, "participation"), "type": "Note",
                               "noteLiteral": {"en": eu["participation"]},
                               "noteType": {"id": _urn("note-type", "participation"), "type": "Concept",
                                            "prefLabel": {"en": "Form of participation"}}},
                              {"id": _urn(cid, "workload"), "type": "Note", "noteLiteral": {"en": eu["workload"]},
                               "noteType": {"id": _urn("note-type", "workload"), "type": "Concept",
                                            "prefLabel": {"en": "Notional workload"}}}]
    languages = [LANGUAGES[x] for x in programme.get("languages") or [language] if x in LANGUAGES]
    if languages:
        spec["language"] = [_concept(LANGUAGE + code, code, code, LANGUAGE.rstrip("/")) for code in languages]

    assessment: dict[str, Any] = {
        "id": _urn(cid, "assessment"),
        "type": "LearningAssessment",
        "title": {"en": "Attendance" if attendance else "Assessment"},
        "description": {"en": eu["assessment"]},
        "awardedBy": {"id": _urn(cid, "assessment-awarding"), "type": "AwardingProcess",
                      "awardingBody": [{"id": f"urn:uuid:{b['id']}", "type": "Organisation"} for b in bodies]},
    }
    results = s["results"]
    if results["classification"]:
        scale = f" ({results['joint_scale']})" if results["joint_scale"] else ""
        assessment["grade"] = {"id": _urn(cid, "grade"), "type": "Note",
                               "noteLiteral": {"en": results["classification"] + scale}}
    verification = _id_verification(s)
    if verification:
        assessment["idVerification"] = verification

    awarding_bodies = [_organisation(b, cid) for b in bodies]
    claim: dict[str, Any] = {
        "id": _urn(cid, "achievement"),
        "type": "LearningAchievement",
        "title": titles,
        "awardedBy": {"id": _urn(cid, "awarding"), "type": "AwardingProcess", "awardingBody": awarding_bodies,
                      "awardingDate": issued,
                      "location": [{"id": _urn(cid, "awarding-location"), "type": "Location",
                                    "address": [{"id": _urn(cid, "awarding-address"), "type": "Address",
                                                 "countryCode": _country(s["issuer"]["country"])}]}]},
        "specifiedBy": spec,
        "provenBy": [assessment],
        "supplementaryDocument": [{"id": url, "type": "WebResource", "contentURL": url,
                                   "title": {"en": "Verification page"}}],
    }
    if not attendance and results.get("ects_earned") not in ("", "0", None):
        claim["creditReceived"] = [{"id": _urn(cid, "credit-received"), "type": "CreditPoint",
                                    "framework": spec["creditPoint"][0]["framework"],
                                    "point": results["ects_earned"]}]

    subject: dict[str, Any] = {
        "id": _urn(cid, "learner"),
        "type": "Person",
        "givenName": {"en": learner["given_names"]},
        "familyName": {"en": learner["family_names"]},
        "fullName": {"en": " ".join(x for x in (learner["given_names"], learner["family_names"]) if x)},
        "hasClaim": [claim],
    }
    if learner.get("date_of_birth"):
        subject["dateOfBirth"] = learner["date_of_birth"] + "T00:00:00Z"
    if learner.get("nationality"):
        subject["nationality"] = [_country(learner["nationality"])]
    if learner.get("esi"):
        subject["identifier"] = [{"id": _urn(cid, "learner-esi"), "type": "Identifier", "notation": learner["esi"],
                                  "schemeName": "European Student Identifier"}]

    return {
        "@context": [CONTEXT],
        "id": f"urn:uuid:{credential.pk}",
        "type": ["VerifiableCredential", "EuropeanDigitalCredential"],
        "identifier": [{"id": _urn(cid, "credential-identifier"), "type": "Identifier", "notation": cid,
                        "schemeName": "Credential id (verification page)"}],
        "title": titles,
        "issuer": _organisation(s["issuer"], cid),
        "issuanceDate": issued,
        "issued": issued,
        "validFrom": issued,
        "credentialSubject": subject,
        "displayParameter": {"id": _urn(cid, "display"), "type": "DisplayParameter",
                             "primaryLanguage": _concept(LANGUAGE + LANGUAGES.get(language, "ENG"),
                                                         LANGUAGES.get(language, "ENG"),
                                                         LANGUAGES.get(language, "ENG"), LANGUAGE.rstrip("/")),
                             "title": titles},
    }

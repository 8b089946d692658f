"""Open Badges 3.0 (1EdTech, OB 3.0.3 context) ``OpenBadgeCredential`` / AchievementCredential, on the W3C
Verifiable Credentials Data Model 2.0, built from the frozen snapshot only (never from live models).

The 11 EU elements (Council Recommendation 2022/C 243/02) map to OB fields where OB has one; the rest live in
our extension context ``{PUBLIC_BASE_URL}/contexts/jointcred-v1.jsonld`` (``EXTENSION_TERMS``). The mapping is
documented in docs/credentials.md and is ``ELEMENT_FIELDS`` below.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings

from .. import snapshot as snap
from . import keys, status

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
EXTENSION_PATH = "/contexts/jointcred-v1.jsonld"

#: Our extension terms (defined in certification/vc/contexts/jointcred-v1.jsonld, shared with the Data Integrity
#: signer's offline loader): EU elements, or parts of them, without an Open Badges field.
EXTENSION_TERMS: dict[str, str] = {
    "eqfLevel": "EU element 8: European Qualifications Framework level (1–8).",
    "qfEheaCycle": "EU element 8: QF-EHEA cycle, when one applies.",
    "formOfParticipation": "EU element 10: form of participation (online, onsite, blended; pacing).",
    "typeOfAssessment": "EU element 9: type(s) of assessment.",
    "typeOfQualityAssurance": "EU element 11: type of quality assurance underpinning the credential.",
    "issuerCountry": "EU element 3: ISO 3166-1 alpha-2 codes of the countries of the awarding bodies.",
    "awardingBody": "EU element 4: every awarding body of a joint award (OB Profiles), the issuer included.",
    "workloadHours": "EU element 7: notional workload in hours [minimum, maximum] (attendance awards have no ECTS).",
}

#: Where each EU element lives in the credential (dotted paths; ``achievement`` = credentialSubject.achievement).
ELEMENT_FIELDS: dict[str, list[str]] = {
    "learner": ["credentialSubject.id", "credentialSubject.identifier"],
    "title": ["name", "credentialSubject.achievement.name"],
    "country": ["credentialSubject.achievement.issuerCountry", "issuer.address.addressCountryCode",
                "awardingBody[].address.addressCountryCode"],
    "awarding_bodies": ["issuer", "awardingBody"],
    "date_of_issuing": ["validFrom", "awardedDate"],
    "learning_outcomes": ["credentialSubject.achievement.alignment"],
    "workload": ["credentialSubject.achievement.creditsAvailable", "credentialSubject.achievement.workloadHours"],
    "level": ["credentialSubject.achievement.eqfLevel", "credentialSubject.achievement.qfEheaCycle"],
    "assessment": ["credentialSubject.achievement.typeOfAssessment"],
    "participation": ["credentialSubject.achievement.formOfParticipation"],
    "quality_assurance": ["credentialSubject.achievement.typeOfQualityAssurance"],
}


def base_url() -> str:
    return settings.PUBLIC_BASE_URL


def extension_context_url() -> str:
    return base_url() + EXTENSION_PATH


def extension_context() -> dict[str, Any]:
    """The JSON-LD context document served at ``extension_context_url()``: the shipped
    ``contexts/jointcred-v1.jsonld`` with its ``{base}`` set to ``PUBLIC_BASE_URL`` (the same document the
    offline JSON-LD loader gives the Data Integrity signer)."""
    from .loader import jointcred_context  # pyld is only needed when the context is served or canonicalised

    return jointcred_context(base_url())


def credential_url(credential) -> str:
    return f"{base_url()}/verify/{credential.credential_id}/"


def _salt(credential) -> str:
    """Per-credential salt, stable (re-signing gives the same hash) and unguessable (HMAC under SECRET_KEY)."""
    return hmac.new(settings.SECRET_KEY.encode(), f"ob3-identity-salt:{credential.credential_id}".encode(),
                    hashlib.sha256).hexdigest()[:32]


def identity_hash(email: str, salt: str) -> str:
    """OB 3.0 ``identityHash``: ``sha256$`` + hex SHA-256 of the (normalised) identity followed by the salt."""
    return "sha256$" + hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()


#: The subject's identifier once the learner's personal data was erased: names nobody (not even hashed), so the
#: public credential can no longer be matched against the learner's email.
WITHHELD_IDENTITY = {"type": "IdentityObject", "identityType": "ext:withheld", "hashed": False,
                     "identityHash": "withheld at the holder's request"}


def _identity(credential, s: dict[str, Any]) -> dict[str, Any]:
    if snap.is_withheld(s):
        return dict(WITHHELD_IDENTITY)
    salt = _salt(credential)
    return {"type": "IdentityObject", "identityHash": identity_hash(s["learner"]["email"], salt),
            "identityType": "emailAddress", "hashed": True, "salt": salt}


def learner_id(s: dict[str, Any]) -> str:
    """The credential subject's ``id``: the learner's European Student Identifier (a URN) when they gave one at
    issue, so a wallet or a partner's system matches the credential to the student; "" otherwise, and once the
    learner's details are withheld (erasure)."""
    return "" if snap.is_withheld(s) else s["learner"].get("esi", "")


def _profile(body: dict[str, Any]) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "id": keys.did_for(body["id"]),
        "type": ["Profile"],
        "name": body["legal_name"],
        "address": {"type": ["Address"], "addressCountry": body["country_name"],
                    "addressCountryCode": body["country"], "addressLocality": body["city"]},
    }
    others = [(body.get("erasmus_code"), "erasmusCode"), (body.get("schac_code"), "schacHomeOrganization")]
    identifiers = [{"type": "IdentifierEntry", "identifier": value, "identifierType": f"ext:{kind}"}
                   for value, kind in others if value]
    if identifiers:
        profile["otherIdentifier"] = identifiers
    return profile


def _stamp(value: str) -> str:
    """An ISO date-time from the snapshot as an XSD dateTimeStamp in UTC, to the second (``…Z``)."""
    moment = dt.datetime.fromisoformat(value)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _number(value: str) -> int | float | None:
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError):
        return None
    return int(number) if number == number.to_integral_value() else float(number)


def build_credential(credential) -> dict[str, Any]:
    """The unsigned OB 3.0 credential for a ``Credential``, from ``credential.snapshot`` alone."""
    s = credential.snapshot
    programme = s["programme"]
    language = programme["primary_language"]
    eu = {e["key"]: e["value"] for e in snap.elements(s, language, public=True)}
    url = credential_url(credential)
    achievement_id = url + "#achievement"
    attendance = s["kind"] == "attendance"
    bodies = s["awarding_bodies"] or [s["issuer"]]
    issuer = _profile(s["issuer"])
    title = eu["title"]
    qualification = (programme["qualification_names"].get(language)
                     or next(iter(programme["qualification_names"].values()), ""))

    if attendance:
        criteria = (f"Attendance of the {programme['duration_weeks']}-week programme {title} "
                    f"({s['edition']['intake_code']}); not assessed, no ECTS.")
    else:
        criteria = (f"Pass every mandatory course of {title} ({s['edition']['intake_code']}) and earn "
                    f"{programme['ects']} ECTS, assessed by: {eu['assessment']}.")
    achievement: dict[str, Any] = {
        "id": achievement_id,
        "type": ["Achievement"],
        "achievementType": "MicroCredential",
        "name": title,
        "description": "; ".join(x for x in (qualification, programme["qualification_type"], eu["level"]) if x),
        "criteria": {"narrative": criteria},
        "humanCode": programme["code"],
        "inLanguage": language,
        "creator": issuer,
        "alignment": [
            {"type": ["Alignment"], "targetName": o["text"], "targetDescription": o["category"],
             "targetUrl": o["esco_uri"] or f"{achievement_id}-outcome-{i}",
             **({"targetFramework": "ESCO", "targetType": "ext:ESCOSkill"} if o["esco_uri"] else {})}
            for i, o in enumerate(programme["outcomes"], start=1)
        ],
        # Our extension (jointcred-v1): EU elements without an OB field.
        "eqfLevel": programme["eqf_level"],
        "formOfParticipation": eu["participation"],
        "typeOfAssessment": ["Attendance only, not assessed"] if attendance else list(s["assessment_types"]),
        "typeOfQualityAssurance": programme["qa_scheme"],
        "issuerCountry": list(dict.fromkeys(b["country"] for b in bodies)),
        "workloadHours": list(programme["workload_hours"]),
    }
    if programme["qf_ehea_cycle"]:
        achievement["qfEheaCycle"] = programme["qf_ehea_cycle"]
    if programme.get("isced_f_name"):
        achievement["fieldOfStudy"] = programme["isced_f_name"]  # the ISCED-F 2013 field (OB's free-text field)
    if not attendance and _number(programme["ects"]) is not None:
        achievement["creditsAvailable"] = _number(programme["ects"])

    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "identifier": [_identity(credential, s)],
        "achievement": achievement,
    }
    esi = learner_id(s)
    if esi:
        subject = {"id": esi, **subject}
    results = s["results"]
    if not attendance and _number(results["ects_earned"]):
        subject["creditsEarned"] = _number(results["ects_earned"])
    if results["classification"]:
        grade_id = achievement_id + "-grade"
        achievement["resultDescription"] = [{
            "id": grade_id, "type": ["ResultDescription"], "name": "Final grade",
            "resultType": "Result",
        }]
        if results["joint_scale"]:
            achievement["resultDescription"][0]["name"] = f"Final grade ({results['joint_scale']})"
        subject["result"] = [{"type": ["Result"], "resultDescription": grade_id, "value": results["classification"]}]

    document: dict[str, Any] = {
        "@context": [VC_CONTEXT, OB_CONTEXT, extension_context_url()],
        "id": url,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer,
        "awardingBody": [_profile(b) for b in bodies],
        "validFrom": _stamp(s["issued_at"]),
        "awardedDate": _stamp(s["issued_at"]),
        "name": title,
        "credentialSubject": subject,
    }
    entry = status.status_entry_for(credential)
    if entry:
        document["credentialStatus"] = entry
    return document

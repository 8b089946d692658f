"""European Learning Model (ELM 3 / Europass EDC) export: every EU element maps to an ELM field with the learner's
values, built from the frozen snapshot; the endpoint follows the credential's policy and serves JSON-LD."""

import datetime as dt
import json

import pytest
from rest_framework.test import APIClient

from certification import services
from certification import snapshot as snap
from certification.vc import elm
from certification.vc.elm import build_elm
from certification.vc.ob3 import _stamp
from programmes.models import LearningOutcome

ESCO = "http://data.europa.eu/esco/skill/0a4c1c4a-2f5a-4b9b-9a4d-3f1c1c1c1c1c"
COUNTRY = "http://publications.europa.eu/resource/authority/country/"


def session(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def elm_url(credential, slash: bool = False) -> str:
    return f"/api/v1/credentials/{credential.credential_id}/elm" + ("/" if slash else "")


def issue(c, enrolment=None):
    enrolment = enrolment or c.enrolments[0]
    application = enrolment.application
    application.date_of_birth = dt.date(1999, 4, 1)
    application.save()
    return services.award_decide(actor=c.board, enrolment=enrolment, classification="15.5").credentials.get()


def _get(data, path: str) -> list:
    """Follow a dotted path; ``name[]`` goes into every item of a list (items without the key are skipped).
    Returns the values found, flat."""
    values = [data]
    for part in path.split("."):
        many = part.endswith("[]")
        key = part.removesuffix("[]")
        values = [x for value in values if key in value for x in (value[key] if many else [value[key]])]
    return values


@pytest.fixture
def credential(awardable):
    LearningOutcome.objects.filter(programme=awardable.programme, position=1).update(esco_uri=ESCO)
    return issue(awardable)


def test_the_11_elements_map_to_elm_fields_with_the_learners_values(awardable, world, credential):
    data = build_elm(credential)
    s = credential.snapshot
    claim = "credentialSubject.hasClaim[]"
    spec = f"{claim}.specifiedBy"
    issued = _stamp(s["issued_at"])
    hours = s["programme"]["workload_hours"]
    table = {
        "learner": {"credentialSubject.givenName": [{"en": "Learner0"}],
                    "credentialSubject.familyName": [{"en": "Test"}],
                    "credentialSubject.dateOfBirth": ["1999-04-01T00:00:00Z"]},
        "title": {"title": [{"en": "Grading"}], f"{claim}.title": [{"en": "Grading"}],
                  f"{spec}.title": [{"en": "Grading"}]},
        "country": {f"{claim}.awardedBy.awardingBody[].location[].address[].countryCode.id": [
                        COUNTRY + world.ua.country.alpha3, COUNTRY + world.ub.country.alpha3],
                    "issuer.location[].address[].countryCode.notation": [world.ua.country.alpha3]},
        "awarding_bodies": {f"{claim}.awardedBy.awardingBody[].legalName": [{"en": world.ua.legal_name},
                                                                          {"en": world.ub.legal_name}],
                            "issuer.legalName": [{"en": world.ua.legal_name}]},
        "date_of_issuing": {"validFrom": [issued], "issuanceDate": [issued],
                            f"{claim}.awardedBy.awardingDate": [issued]},
        "learning_outcomes": {f"{spec}.learningOutcome[].title": [
                                  {"en": "Explains grading systems across European countries"},
                                  {"en": "Converts national grades to a joint scale"}],
                              f"{spec}.learningOutcome[].relatedESCOSkill[].id": [ESCO]},
        "workload": {f"{spec}.creditPoint[].point": ["6.0"],
                     f"{spec}.creditPoint[].framework.notation": ["ECTS"],
                     f"{spec}.volumeOfLearning": [f"PT{max(hours)}H"]},
        "level": {f"{spec}.eqfLevel.id": ["http://data.europa.eu/snb/eqf/6"]},
        "assessment": {f"{claim}.provenBy[].description": [{"en": "Assignment / project, Online exam"}],
                       f"{claim}.provenBy[].grade.noteLiteral": [{"en": "15.5 (Joint 0–20)"}],
                       f"{claim}.provenBy[].idVerification.notation": ["supervised_online"]},
        "participation": {f"{spec}.mode[].notation": ["online"],
                          f"{spec}.additionalNote[].noteLiteral.en": [
                              "Online, individual study with weekly live seminars",
                              f"6.0 ECTS; {hours[0]}–{hours[1]} hours of study"]},
        "quality_assurance": {f"{spec}.accreditation[].title": [
            {"en": "Internal QA of the lead university under ESG 2015, with an annual programme review"}]},
    }
    assert list(table) == [key for key, _ in snap.ELEMENTS] == list(elm.ELEMENT_FIELDS)
    for element, paths in table.items():
        for path, expected in paths.items():
            assert _get(data, path) == expected, (element, path)
    # Every documented path of ELEMENT_FIELDS resolves (``claim``/``spec`` abbreviate the claim and its spec).
    for element, paths in elm.ELEMENT_FIELDS.items():
        for path in paths:
            full = path.replace("claim.", f"{claim}.").replace("spec.", f"{spec}.")
            assert _get(data, full), (element, path)


def test_json_ld_shape_and_frozen_snapshot(awardable, credential):
    data = build_elm(credential)
    assert data["@context"] == ["http://data.europa.eu/snb/model/context/edc-ap"]
    assert data["type"] == ["VerifiableCredential", "EuropeanDigitalCredential"]
    assert data["id"] == f"urn:uuid:{credential.pk}"
    assert data["issuer"]["type"] == "Organisation"
    subject = data["credentialSubject"]
    assert subject["type"] == "Person" and subject["id"].startswith("urn:uuid:")
    claim = subject["hasClaim"][0]
    assert claim["type"] == "LearningAchievement"
    assert claim["specifiedBy"]["type"] == "LearningAchievementSpecification"
    assert claim["provenBy"][0]["type"] == "LearningAssessment"
    assert claim["supplementaryDocument"][0]["contentURL"].endswith(f"/verify/{credential.credential_id}/")
    assert "proof" not in data  # unsealed: the institution seals it outside this system
    # Every node with an id has a type; ids are stable across builds.
    assert json.loads(json.dumps(data)) == build_elm(credential)

    def nodes(value):
        if isinstance(value, dict):
            if "id" in value and value is not data:
                yield value
            for v in value.values():
                yield from nodes(v)
        elif isinstance(value, list):
            for v in value:
                yield from nodes(v)

    assert all("type" in n for n in nodes(data))
    # Built from the snapshot only: a later change to the programme changes nothing.
    programme = awardable.programme
    programme.qa_scheme = "Changed"
    programme.eqf_level = 7
    programme.save()
    credential.refresh_from_db()
    assert build_elm(credential) == data


def test_attendance_award_has_no_credit_points(awardable):
    from ..assessment.conftest import enrol

    credential = services.award_decide(actor=awardable.board, enrolment=enrol(awardable.edition, 9,
                                                                                track="attendance")).credentials.get()
    spec = build_elm(credential)["credentialSubject"]["hasClaim"][0]["specifiedBy"]
    assert "creditPoint" not in spec
    assert spec["additionalNote"][1]["noteLiteral"]["en"].startswith("No ECTS")


def test_endpoint_permissions_and_content_type(awardable, world, credential, token_client):
    c = awardable
    holder = credential.award.enrolment.learner
    for client in (session(holder), session(c.board), token_client(world.ua)):
        response = client.get(elm_url(credential))
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/ld+json")
        body = json.loads(response.content)
        assert body["@context"] and body["type"][1] == "EuropeanDigitalCredential"
        assert body == build_elm(credential)
    assert session(holder).get(elm_url(credential, slash=True)).status_code == 200
    # Another learner, another consortium's staff, an unrelated institution's token: 404.
    for client in (session(c.enrolments[1].learner), session(world.people["UC_students"]), token_client(world.uc)):
        assert client.get(elm_url(credential)).status_code == 404
    assert APIClient().get(elm_url(credential)).status_code in (401, 403)
    assert session(holder).get("/api/v1/credentials/nosuchcredentialid00/elm").status_code == 404

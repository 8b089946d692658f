"""Identifiers for partner integration: SCHAC and Erasmus codes, the European Student Identifier, ISCED-F 2013 fields,
and partners' own external ids for learners, enrolments and courses."""

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from admissions import services as admissions_services
from certification import services as certification_services
from certification.vc import elm, issue, ob3
from consortium import identifiers, personal_data, policy
from consortium import services as consortium_services
from consortium.models import AuditEvent, ExternalId, Institution, User
from consortium.services import apitoken_create
from programmes import isced
from programmes import services as programme_services
from programmes.models import Course, Programme

from ..admissions.test_services import fresh, make_admissions, submit, who
from ..certification.conftest import awardable, cohort  # noqa: F401  (fixtures)
from ..certification.test_vc_schema import errors, vc2_schema  # noqa: F401  (fixture)
from ..factories import CourseFactory, ExternalIdFactory, UserFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"
ESI = "urn:schac:personalUniqueCode:int:esi:es:12345678Z"


def token(institution, *scopes) -> APIClient:
    _token, key = apitoken_create(actor=None, institution=institution, name=f"ids-{uuid.uuid4().hex[:8]}",
                                  scopes=scopes or policy.api_scopes(), check_policy=False)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def session(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def enrol(a, **fields):
    application = submit(a, **fields)
    admissions_services.application_admit(actor=who(a.w, "UB_students"), application=application)
    admissions_services.application_accept_offer(actor=fresh(application.applicant), application=application)
    application.refresh_from_db()
    return application


@pytest.fixture
def adm(world):
    """Programme of CA led by UA; UB reviews and takes part; EA is associated; UC (consortium CB) is outside."""
    return make_admissions(world)


def invalid(validator, value) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        validator(value)
    return caught.value.messages


# --- 1. Formats ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    ESI,
    "urn:schac:personalUniqueCode:int:esi:uma.es:a3b123c12",  # HEI-wide student code
    "urn:schac:personalUniqueCode:int:esi:yyy.uma.es:A-1.b_2",  # issued by a unit of the HEI
    "urn:schac:personalUniqueCode:int:esi:es-m:0000042",  # an ISO 3166-2 region
    "urn:schac:personalUniqueCode:int:esi:se:9e342e78-5b6c-4902-966e-50e28a21e601",
    "urn:schac:personalUniqueCode:int:esi:it:ab%2Fcd",  # a reserved character %-escaped
])
def test_valid_european_student_identifiers(value):
    identifiers.validate_esi(value)


@pytest.mark.parametrize(("value", "says"), [
    ("12345678Z", "starts with"),
    ("urn:schac:personalUniqueCode:es:ESI:uma.es:12345", "starts with"),  # the withdrawn draft form
    ("urn:schac:personalUniqueCode:int:esi:es:", "starts with"),
    ("urn:schac:personalUniqueCode:int:esi::123", "starts with"),
    ("urn:schac:personalUniqueCode:int:esi:xx:123", "“xx” is neither"),  # not an ISO 3166 country
    ("urn:schac:personalUniqueCode:int:esi:localhost:123", "is neither"),
    ("urn:schac:personalUniqueCode:int:esi:es:12 34", "may hold letters"),
    ("urn:schac:personalUniqueCode:int:esi:es:a/b", "%2F"),
    ("urn:schac:personalUniqueCode:int:esi:es:a%00b", "may hold letters"),
    ("urn:schac:personalUniqueCode:int:esi:es:" + "1" * 250, "at most 255"),
])
def test_invalid_european_student_identifiers_say_why(value, says):
    assert says in " ".join(invalid(identifiers.validate_esi, value))


def test_an_esi_is_stored_in_its_canonical_spelling():
    assert identifiers.normalise_esi(" URN:SCHAC:PersonalUniqueCode:INT:ESI:ES:12345678Z ") == ESI
    assert identifiers.normalise_esi("urn:schac:personalUniqueCode:int:esi:UMA.ES:AbC") == (
        "urn:schac:personalUniqueCode:int:esi:uma.es:AbC")  # the student code keeps its case
    assert identifiers.normalise_esi("not an esi ") == "not an esi"


@pytest.mark.parametrize("value", ["kuleuven.be", "uned.es", "ou.nl", "cs.uni-example.de", "xn--caf-dma.fr"])
def test_valid_schac_codes(value):
    identifiers.validate_schac_code(value)


@pytest.mark.parametrize("value", ["kuleuven", "KULeuven.be", "-uned.es", "uned-.es", "uned..es", "10.0.0.1",
                                   "uned.e", "uned es", "a" * 64 + ".be", "https://uned.es"])
def test_invalid_schac_codes(value):
    assert invalid(identifiers.validate_schac_code, value) == [str(identifiers.SCHAC_MESSAGE)]


def test_schac_codes_are_lowered():
    assert identifiers.normalise_schac_code(" KULeuven.BE. ") == "kuleuven.be"


@pytest.mark.parametrize("value", ["B  LEUVEN01", "E  MADRID21", "NL AMSTERD01", "IRLDUBLIN01", "F  PARIS009",
                                   "E  ALCAL-H01", "D  FRANKFU01", "BG SOFIA30"])
def test_valid_erasmus_codes(value):
    identifiers.validate_erasmus_code(value)


@pytest.mark.parametrize("value", ["B LEUVEN01", "NL  AMSTERD01", "b  leuven01", "LEUVEN", "B  LEUVEN1",
                                   "B  LEUVEN0001", "B  01", "B  LEUVEN-BRUSSELS01", "B  LEU VEN01"])
def test_invalid_erasmus_codes(value):
    assert "An Erasmus code looks like" in invalid(identifiers.validate_erasmus_code, value)[0]


@pytest.mark.parametrize(("typed", "stored"), [("b leuven01", "B  LEUVEN01"), ("nl amsterd01", "NL AMSTERD01"),
                                               ("E   MADRID21", "E  MADRID21"), ("IRLDUBLIN01", "IRLDUBLIN01")])
def test_erasmus_codes_are_padded_to_the_three_character_country_field(typed, stored):
    assert identifiers.normalise_erasmus_code(typed) == stored
    identifiers.validate_erasmus_code(stored)


@pytest.mark.parametrize("value", ["A", "SIS-2026-0042", "x" * 64, "urn:uuid:1"])
def test_valid_external_ids(value):
    identifiers.validate_external_id(value)


@pytest.mark.parametrize("value", ["", "with space", "x" * 65, "naïve", "tab\there"])
def test_invalid_external_ids(value):
    assert invalid(identifiers.validate_external_id, value) == [str(identifiers.EXTERNAL_ID_MESSAGE)]


# --- 2. ISCED-F 2013 ----------------------------------------------------------------------------------------


def test_the_isced_f_list_is_complete():
    fields = isced.fields()
    levels = [f.level for f in fields.values()]
    assert levels.count("broad") == 12  # 00–10 and 99 "field unknown"
    assert levels.count("narrow") == 40
    detailed = isced.detailed()
    assert len(detailed) == 91
    # 80 subject fields, 10 inter-disciplinary (x88) and 9999 "field unknown"
    assert len([f for f in detailed if not f.code.endswith("88") and f.code != "9999"]) == 80
    assert isced.name("0613") == "Software and applications development and analysis"
    assert isced.name("0731") == "Architecture and town planning"
    assert isced.name("0714") == "Electronics and automation"
    assert isced.name("06") == "Information and Communication Technologies (ICTs)"
    assert isced.name("0188") == "Inter-disciplinary programmes and qualifications involving education"
    for field in fields.values():  # every code nests under an existing parent
        assert field.parent is None or field.parent in fields, field.code
    assert isced.get("0613").uri == "http://data.europa.eu/snb/isced-f/0613"
    assert isced.fields() is fields  # read once


@pytest.mark.parametrize("value", ["0613", "061", "06", "9999", ""])
def test_valid_isced_codes(value):
    isced.validate(value)


@pytest.mark.parametrize("value", ["0619", "6", "0000", "abcd", "06130"])
def test_invalid_isced_codes(value):
    assert "is not an ISCED-F 2013 field" in invalid(isced.validate, value)[0]


def test_a_course_takes_its_programmes_field_unless_it_has_one(adm, world):
    programme = adm.programme
    programme.isced_f = "0613"
    programme.save()
    leader = world.people["CA_admin"]
    version = programme.curricula.create(number=max(programme.curricula.values_list("number", flat=True)) + 1)
    data = {"code": "X1", "title": "Course", "provider": world.ua, "ects": 5, "mandatory": True,
            "assessment_method": "online_exam", "supervision": "supervised_online"}
    default = programme_services.course_save(actor=leader, version=version, data=data)
    own = programme_services.course_save(actor=leader, version=version, data={**data, "code": "X2", "isced_f": "0612"})
    assert (default.isced_f, own.isced_f) == ("0613", "0612")
    with pytest.raises(ValidationError) as caught:
        programme_services.course_save(actor=leader, version=version, data={**data, "code": "X3", "isced_f": "0619"})
    assert "isced_f" in caught.value.message_dict


def test_programme_api_filters_by_isced_prefix_and_validates_updates(adm, world):
    adm.programme.isced_f = "0613"
    adm.programme.save()
    other = Programme.objects.exclude(pk=adm.programme.pk).filter(consortium=world.ca).first()
    client = token(world.ua)
    for query, found in (("06", True), ("061", True), ("0613", True), ("07", False), ("0612", False)):
        codes = [p["code"] for p in results(client.get(f"{API}/programmes/", {"isced_f": query}))]
        assert (adm.programme.code in codes) is found, query
        assert other is None or other.code not in codes
    row = client.get(f"{API}/programmes/{adm.programme.pk}/").json()
    assert (row["isced_f"], row["isced_f_name"]) == ("0613", "Software and applications development and analysis")
    admin = session(world.people["CA_admin"])
    assert admin.patch(f"{API}/programmes/{adm.programme.pk}/", {"isced_f": "0619"}, format="json").status_code == 400
    assert admin.patch(f"{API}/programmes/{adm.programme.pk}/", {"isced_f": "0731"}, format="json").status_code == 200
    assert Programme.objects.get(pk=adm.programme.pk).isced_f == "0731"


def test_course_api_shows_and_filters_the_field(adm, world):
    course = CourseFactory(version=adm.edition.curriculum, isced_f="0714")
    client = token(world.ua)
    rows = results(client.get(f"{API}/courses/", {"isced_f": "07"}))
    assert [r["id"] for r in rows] == [str(course.pk)] and rows[0]["isced_f"] == "0714"
    assert results(client.get(f"{API}/courses/", {"isced_f": "06"})) == []


def test_the_section_form_and_the_public_page_show_the_field(client, adm, world):
    adm.programme.isced_f = "0731"
    adm.programme.save()
    page = client.get(f"/programmes/{adm.programme.code}/")
    assert page.status_code == 200 and "0731 Architecture and town planning" in page.content.decode()
    client.force_login(world.people["CA_admin"])
    form = client.get(f"/manage/programmes/{adm.programme.pk}/section/basics/")
    assert form.status_code == 200
    html = form.content.decode()
    assert 'name="isced_f"' in html and '<option value="0613"' in html and "<optgroup" in html


# --- 3. Institutions: codes unique, exposed, filterable ------------------------------------------------------


def test_institution_codes_are_normalised_and_unique(world):
    admin = world.people["UA_admin"]
    updated = consortium_services.institution_update(actor=admin, institution=world.ua, data={
        "erasmus_code": "b leuven01", "schac_code": "KULeuven.BE"})
    assert (updated.erasmus_code, updated.schac_code) == ("B  LEUVEN01", "kuleuven.be")
    other = world.people["UB_admin"]
    with pytest.raises(ValidationError) as caught:
        consortium_services.institution_update(actor=other, institution=world.ub, data={"schac_code": "kuleuven.be"})
    assert "Another institution already has this SCHAC code." in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        consortium_services.institution_update(actor=other, institution=world.ub, data={"erasmus_code": "B LEUVEN01"})
    assert "Another institution already has this Erasmus code." in str(caught.value)


def test_the_api_and_the_form_store_the_codes_as_typed_in_their_canonical_spelling(world):
    from django.forms.models import model_to_dict

    from consortium.forms import InstitutionForm

    client = token(world.ua, "institutions:read", "institutions:write")
    answer = client.patch(f"{API}/institutions/{world.ua.pk}/", {"erasmus_code": "b leuven01",
                                                                "schac_code": "KULeuven.be"}, format="json")
    assert answer.status_code == 200, answer.content
    assert (answer.json()["erasmus_code"], answer.json()["schac_code"]) == ("B  LEUVEN01", "kuleuven.be")
    refused = client.patch(f"{API}/institutions/{world.ua.pk}/", {"erasmus_code": "LEUVEN 01"}, format="json")
    assert refused.status_code == 400 and "erasmus_code" in refused.json()
    data = {k: v for k, v in model_to_dict(world.ub).items() if v is not None and k not in ("logo",
                                                                                          "signatory_signature")}
    form = InstitutionForm(data={**data, "erasmus_code": "e madrid21", "schac_code": "UNED.es"}, instance=world.ub)
    assert form.is_valid(), form.errors
    assert (form.cleaned_data["erasmus_code"], form.cleaned_data["schac_code"]) == ("E  MADRID21", "uned.es")


def test_institutions_api_filters_by_schac_and_erasmus_code(world):
    Institution.objects.filter(pk=world.ua.pk).update(erasmus_code="B  LEUVEN01", schac_code="kuleuven.be")
    client = token(world.uc, "institutions:read")
    for query in ({"schac_code": "kuleuven.be"}, {"schac_code": "KULEUVEN.be"}, {"erasmus_code": "B  LEUVEN01"},
                  {"erasmus_code": "b leuven01"}):
        rows = results(client.get(f"{API}/institutions/", query))
        assert [r["short_name"] for r in rows] == ["UA"], query
        assert (rows[0]["erasmus_code"], rows[0]["schac_code"]) == ("B  LEUVEN01", "kuleuven.be")
    assert results(client.get(f"{API}/institutions/", {"schac_code": "nowhere.example"})) == []


def test_the_institution_page_shows_both_codes(client, world):
    Institution.objects.filter(pk=world.ua.pk).update(erasmus_code="B  LEUVEN01", schac_code="kuleuven.be")
    client.force_login(world.people["UB_staff"])
    html = client.get(f"/institutions/{world.ua.pk}/").content.decode()
    assert "B  LEUVEN01" in html and "kuleuven.be" in html


# --- 4. The European Student Identifier on the learner ------------------------------------------------------


def test_the_learner_sets_one_esi_unique_across_accounts():
    maria, jan = UserFactory(), UserFactory()
    typed = " URN:SCHAC:personalUniqueCode:int:esi:ES:12345678Z"
    saved = consortium_services.user_esi_set(actor=maria, user=maria, esi=typed)
    assert saved.esi == ESI and User.objects.get(pk=maria.pk).esi == ESI
    assert AuditEvent.objects.filter(action="account.esi_set", object_id=str(maria.pk)).count() == 1
    with pytest.raises(ValidationError) as caught:  # compared without case, as SCHAC does
        consortium_services.user_esi_set(actor=jan, user=jan, esi=ESI.replace("12345678Z", "12345678z"))
    assert caught.value.message_dict == {"esi": ["Another account already has this European Student Identifier."]}
    with pytest.raises(ValidationError) as caught:
        consortium_services.user_esi_set(actor=jan, user=jan, esi="12345678Z")
    assert "esi" in caught.value.message_dict
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        consortium_services.user_esi_set(actor=jan, user=maria, esi="")
    assert consortium_services.user_esi_set(actor=maria, user=maria, esi="").esi == ""


def test_the_application_form_and_my_page_edit_the_esi(client, adm):
    application = adm.edition.applications.create(applicant=UserFactory(), given_names="Ana", family_names="Ruiz",
                                                  email="ana@example.org")
    client.force_login(application.applicant)
    url = f"/my/applications/{application.pk}/edit/"
    assert 'name="esi"' in client.get(url).content.decode()
    base = {"given_names": "Ana", "family_names": "Ruiz", "email": "ana@example.org", "track": "assessed",
            "route": "standard", "action": "save"}
    refused = client.post(url, {**base, "esi": "my student number"})
    assert refused.status_code == 200 and "starts with" in refused.content.decode()
    assert client.post(url, {**base, "esi": ESI}).status_code == 302
    assert User.objects.get(pk=application.applicant_id).esi == ESI
    page = client.get("/my/esi/")
    assert page.status_code == 200 and ESI in page.content.decode()
    assert client.post("/my/esi/", {"esi": ""}).status_code == 302
    assert User.objects.get(pk=application.applicant_id).esi == ""
    assert "European Student Identifier" in client.get("/my/data/").content.decode()


def test_the_esi_is_exposed_filterable_and_searchable_in_the_api(adm, world):
    learner = UserFactory(esi=ESI)
    application = enrol(adm, applicant=learner)
    other = enrol(adm)
    client = token(world.ub)
    row = client.get(f"{API}/applications/{application.pk}/").json()
    assert (row["esi"], row["learner"]) == (ESI, str(learner.pk))
    assert client.get(f"{API}/applications/{other.pk}/").json()["esi"] == ""
    for query in ({"esi": ESI}, {"esi": ESI.replace(":es:", ":ES:")}, {"search": "12345678Z"}):
        assert [r["id"] for r in results(client.get(f"{API}/applications/", query))] == [str(application.pk)], query
    enrolments = results(client.get(f"{API}/enrolments/", {"esi": ESI}))
    assert [(r["id"], r["esi"]) for r in enrolments] == [(str(application.enrolment.pk), ESI)]
    assert [r["id"] for r in results(client.get(f"{API}/enrolments/", {"search": "12345678Z"}))] == [
        str(application.enrolment.pk)]


def test_the_staff_queue_finds_a_learner_by_esi(client, adm, world):
    application = submit(adm, applicant=UserFactory(esi=ESI))
    submit(adm)
    client.force_login(world.people["UB_students"])
    html = client.get(f"/admissions/editions/{adm.edition.pk}/queue/", {"q": "12345678Z"}).content.decode()
    assert str(application.pk) in html and html.count("/admissions/applications/") == 1


# --- 5. External ids -----------------------------------------------------------------------------------------


def test_a_partner_attaches_replaces_looks_up_and_removes_its_ids(adm, world):
    application = enrol(adm)
    enrolment = application.enrolment
    ub = token(world.ub)
    body = {"kind": "enrolment", "object_id": str(enrolment.pk), "value": "UB-2027-0001"}
    created = ub.put(f"{API}/external-ids/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["value"] == "UB-2027-0001" and created.json()["institution"] == str(world.ub.pk)
    assert ub.put(f"{API}/external-ids/", body, format="json").status_code == 200  # the same again: no change
    replaced = ub.put(f"{API}/external-ids/", {**body, "value": "UB-2027-0002"}, format="json")
    assert replaced.status_code == 200 and replaced.json()["id"] == created.json()["id"]
    learner = ub.put(f"{API}/external-ids/", {"kind": "learner", "object_id": str(application.applicant_id),
                                              "value": "S-991"}, format="json")
    assert learner.status_code == 201, learner.content
    actions = list(AuditEvent.objects.filter(action__startswith="external_id.").order_by("at")
                   .values_list("action", "institution_id", "changes"))
    assert [(a, i) for a, i, _c in actions] == [("external_id.attached", world.ub.pk),
                                                ("external_id.replaced", world.ub.pk),
                                                ("external_id.attached", world.ub.pk)]
    assert actions[1][2]["value"] == ["UB-2027-0001", "UB-2027-0002"]

    found = results(ub.get(f"{API}/enrolments/", {"external_id": "UB-2027-0002"}))
    assert [(r["id"], r["external_id"], r["learner_external_id"]) for r in found] == [
        (str(enrolment.pk), "UB-2027-0002", "S-991")]
    assert results(ub.get(f"{API}/enrolments/", {"external_id": "UB-2027-0001"})) == []
    assert [r["id"] for r in results(ub.get(f"{API}/enrolments/", {"learner_external_id": "S-991"}))] == [
        str(enrolment.pk)]
    apps = results(ub.get(f"{API}/applications/", {"learner_external_id": "S-991"}))
    assert [(r["id"], r["learner_external_id"]) for r in apps] == [(str(application.pk), "S-991")]
    mine = results(ub.get(f"{API}/external-ids/", {"kind": "enrolment"}))
    assert [r["value"] for r in mine] == ["UB-2027-0002"]

    removed = ub.delete(f"{API}/external-ids/{created.json()['id']}/")
    assert removed.status_code == 204
    assert results(ub.get(f"{API}/enrolments/", {"external_id": "UB-2027-0002"})) == []
    assert AuditEvent.objects.filter(action="external_id.removed", institution_id=world.ub.pk).count() == 1


def test_courses_carry_external_ids_too(adm, world):
    course = CourseFactory(version=adm.edition.curriculum, provider=world.ub)
    ub = token(world.ub)
    assert ub.put(f"{API}/external-ids/", {"kind": "course", "object_id": str(course.pk), "value": "UB-61022"},
                  format="json").status_code == 201
    rows = results(ub.get(f"{API}/courses/", {"external_id": "UB-61022"}))
    assert [(r["id"], r["external_id"]) for r in rows] == [(str(course.pk), "UB-61022")]
    version = ub.get(f"{API}/curriculum-versions/{adm.edition.curriculum_id}/").json()
    assert {c["code"]: c["external_id"] for c in version["courses"]}[course.code] == "UB-61022"


def test_institutions_never_see_each_others_external_ids(adm, world):
    enrolment = enrol(adm).enrolment
    ExternalIdFactory(institution=world.ub, kind="enrolment", object_id=enrolment.pk, value="UB-SECRET")
    ua = token(world.ua)  # the lead institution sees the enrolment, not UB's id for it
    [row] = results(ua.get(f"{API}/enrolments/"))
    assert row["id"] == str(enrolment.pk) and row["external_id"] is None
    assert results(ua.get(f"{API}/enrolments/", {"external_id": "UB-SECRET"})) == []
    assert results(ua.get(f"{API}/external-ids/")) == []
    theirs = ExternalId.objects.get(value="UB-SECRET")
    assert ua.get(f"{API}/external-ids/{theirs.pk}/").status_code == 404
    assert ua.delete(f"{API}/external-ids/{theirs.pk}/").status_code == 404
    # UA may use the same value for its own id: each institution has its own namespace.
    assert ua.put(f"{API}/external-ids/", {"kind": "enrolment", "object_id": str(enrolment.pk), "value": "UB-SECRET"},
                  format="json").status_code == 201
    assert ExternalId.objects.filter(value="UB-SECRET").count() == 2
    assert "UB-SECRET" not in ua.get(f"{API}/enrolments/{enrolment.pk}/").content.decode().replace(
        '"external_id":"UB-SECRET"', "")


def test_ids_attach_only_to_records_the_caller_may_see_within_its_scopes(adm, world):
    enrolment = enrol(adm).enrolment
    body = {"kind": "enrolment", "object_id": str(enrolment.pk), "value": "X-1"}
    uc = token(world.uc)  # another consortium
    refused = uc.put(f"{API}/external-ids/", body, format="json")
    assert refused.status_code == 400 and refused.json() == {"object_id": ["No such record among those your "
                                                                          "institution may see."]}
    no_read = token(world.ub, "external-ids:write")  # may write ids, may not read enrolments
    assert no_read.put(f"{API}/external-ids/", body, format="json").status_code == 400
    no_write = token(world.ub, "external-ids:read", "enrolments:read")
    assert no_write.put(f"{API}/external-ids/", body, format="json").status_code == 403
    assert no_write.get(f"{API}/external-ids/").status_code == 200
    assert token(world.ub, "enrolments:read").get(f"{API}/external-ids/").status_code == 403
    unknown = token(world.ub).put(f"{API}/external-ids/", {**body, "object_id": str(uuid.uuid4())}, format="json")
    assert unknown.status_code == 400
    bad = token(world.ub).put(f"{API}/external-ids/", {**body, "kind": "grade", "value": "has space"}, format="json")
    assert bad.status_code == 400 and set(bad.json()) == {"kind"}
    assert not ExternalId.objects.exists()


def test_one_record_per_value_and_one_value_per_record(adm, world):
    first, second = enrol(adm).enrolment, enrol(adm).enrolment
    ub = token(world.ub)
    assert ub.put(f"{API}/external-ids/", {"kind": "enrolment", "object_id": str(first.pk), "value": "E-1"},
                  format="json").status_code == 201
    clash = ub.put(f"{API}/external-ids/", {"kind": "enrolment", "object_id": str(second.pk), "value": "E-1"},
                   format="json")
    assert clash.status_code == 400
    assert "Your institution already uses this external id for another record." in clash.content.decode()
    bad = ub.put(f"{API}/external-ids/", {"kind": "enrolment", "object_id": str(second.pk), "value": "E 2"},
                 format="json")
    assert bad.status_code == 400 and "value" in bad.json()


def test_staff_attach_ids_for_their_own_institution_only(adm, world):
    enrolment = enrol(adm).enrolment
    body = {"kind": "enrolment", "object_id": str(enrolment.pk), "value": "UB-77"}
    assert session(world.people["UB_staff"]).put(f"{API}/external-ids/", body, format="json").status_code == 403
    assert session(world.people["UB_students"]).put(f"{API}/external-ids/", body, format="json").status_code == 201
    assert ExternalId.objects.get().institution_id == world.ub.pk
    superuser = session(world.people["superuser"])  # passes every policy, but keeps no institution's ids
    refused = superuser.put(f"{API}/external-ids/", {**body, "value": "X"}, format="json")
    assert refused.status_code == 400 and "act for no institution" in refused.json()["detail"]


def test_lists_show_external_ids_without_a_query_per_row(adm, world):
    ub = token(world.ub)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert ub.get(f"{API}/enrolments/").status_code == 200
            assert ub.get(f"{API}/applications/").status_code == 200
        return len(captured)

    application = enrol(adm, applicant=UserFactory(esi=ESI))
    ExternalIdFactory(institution=world.ub, kind="enrolment", object_id=application.enrolment.pk)
    queries()  # the first request also records the token's use
    one = queries()
    for _n in range(4):
        application = enrol(adm)
        ExternalIdFactory(institution=world.ub, kind="enrolment", object_id=application.enrolment.pk)
        ExternalIdFactory(institution=world.ub, kind="learner", object_id=application.applicant_id)
    assert queries() == one
    assert sum(r["external_id"] is not None for r in results(ub.get(f"{API}/enrolments/"))) == 5


def test_the_staff_application_page_shows_the_viewers_own_ids(client, adm, world):
    application = enrol(adm, applicant=UserFactory(esi=ESI))
    ExternalIdFactory(institution=world.ub, kind="learner", object_id=application.applicant_id, value="UB-S-1")
    ExternalIdFactory(institution=world.ub, kind="enrolment", object_id=application.enrolment.pk, value="UB-E-1")
    ExternalIdFactory(institution=world.ua, kind="learner", object_id=application.applicant_id, value="UA-S-1")
    client.force_login(world.people["UB_students"])
    html = client.get(f"/admissions/applications/{application.pk}/").content.decode()
    assert "UB-S-1" in html and "UB-E-1" in html and ESI in html and "UA-S-1" not in html


def test_erasure_removes_the_esi_and_the_learners_external_ids(world):
    learner = UserFactory(esi=ESI)
    ExternalIdFactory(institution=world.ub, kind="learner", object_id=learner.pk, value="UB-S-9")
    exported = personal_data.export_user(learner)["accounts"]
    assert exported["european_student_identifier"] == ESI
    assert exported["external_ids"] == [{"institution": "UB", "value": "UB-S-9"}]
    personal_data.erase_user(learner)
    assert User.objects.get(pk=learner.pk).esi == ""
    assert not ExternalId.objects.filter(object_id=learner.pk).exists()


# --- 6. Credentials ----------------------------------------------------------------------------------------------


def _issue(c, *, esi: str = ""):
    enrolment = c.enrolments[0]
    if esi:
        User.objects.filter(pk=enrolment.learner_id).update(esi=esi)
        enrolment.learner.refresh_from_db()
    c.programme.isced_f = "0613"
    c.programme.save()
    return certification_services.award_decide(actor=c.board, enrolment=enrolment).credentials.get()


def test_the_open_badge_names_the_learner_by_esi(awardable, vc2_schema):  # noqa: F811
    credential = _issue(awardable, esi=ESI)
    document = ob3.build_credential(credential)
    subject = document["credentialSubject"]
    assert subject["id"] == ESI
    [identity] = subject["identifier"]  # the salted e-mail hash stays
    assert identity["identityType"] == "emailAddress" and identity["hashed"] is True
    assert subject["achievement"]["fieldOfStudy"] == "Software and applications development and analysis"
    assert errors(vc2_schema, document) == []
    signed = issue.issue_signed(credential, proof=issue.DATA_INTEGRITY)  # the URN canonicalises as an IRI
    assert signed["credentialSubject"]["id"] == ESI
    User.objects.filter(pk=awardable.enrolments[0].learner_id).update(esi="")  # frozen at issue
    assert ob3.build_credential(credential)["credentialSubject"]["id"] == ESI


def test_without_an_esi_the_subject_has_no_id(awardable):  # noqa: F811
    subject = ob3.build_credential(_issue(awardable))["credentialSubject"]
    assert "id" not in subject and len(subject["identifier"]) == 1


def test_a_withheld_learner_has_no_subject_id(awardable):  # noqa: F811
    from certification import snapshot

    credential = _issue(awardable, esi=ESI)
    credential.snapshot = snapshot.withhold_learner(credential.snapshot)
    assert "id" not in ob3.build_credential(credential)["credentialSubject"]
    assert ESI not in str(elm.build_elm(credential))


def test_the_elm_export_carries_the_isced_field_and_the_esi(awardable):  # noqa: F811
    data = elm.build_elm(_issue(awardable, esi=ESI))
    spec = data["credentialSubject"]["hasClaim"][0]["specifiedBy"]
    [field] = spec["ISCEDFCode"]
    assert field["id"] == "http://data.europa.eu/snb/isced-f/0613" and field["notation"] == "0613"
    assert field["prefLabel"] == {"en": "Software and applications development and analysis"}
    assert field["inScheme"]["id"] == "http://data.europa.eu/snb/isced-f"
    [esi] = data["credentialSubject"]["identifier"]
    assert (esi["notation"], esi["schemeName"]) == (ESI, "European Student Identifier")


# --- 7. Demo data ------------------------------------------------------------------------------------------------


def test_the_demo_has_fields_esis_and_external_ids():
    import io

    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())
    assert set(Programme.objects.values_list("isced_f", flat=True)) == {"0714"}
    assert Course.objects.filter(isced_f="0612").exists() and not Course.objects.filter(isced_f="").exists()
    assert User.objects.exclude(esi="").exists()
    uned = Institution.objects.get(short_name="UNED")
    assert ExternalId.objects.filter(institution=uned, kind="enrolment").exists()
    assert ExternalId.objects.filter(institution=uned, kind="learner").exists()
    assert (uned.erasmus_code, uned.schac_code) == ("E  MADRID21", "uned.es")

"""What the API fuzz test (``test_api_fuzz.py``) found, kept as plain requests: odd input is a clear 4xx, never a
500, and the values and errors the API answers with are the ones its OpenAPI schema documents."""

import pytest
from rest_framework.exceptions import ValidationError
from rest_framework.test import APIClient

from consortium.rest.errors import exception_handler
from consortium.rest.filters import DATETIME_OUT_OF_RANGE

from ..factories import (
    AdmissionFrameworkFactory,
    AgreementFactory,
    AgreementPartyFactory,
    AgreementVersionFactory,
    ApplicationFactory,
    EditionFactory,
    EnrolmentFactory,
    MembershipFactory,
    ProgrammeFactory,
)

API = "/api/v1"
NOT_A_UUID = "0" * 36  # 36 characters, as the routes accept, but no UUID


@pytest.fixture
def schema(db) -> dict:
    return APIClient().get("/api/schema/?format=json").json()


def _property(schema: dict, component: str, field: str) -> dict:
    return schema["components"]["schemas"][component]["properties"][field]


def _admits_blank(schema: dict, prop: dict) -> bool:
    for option in prop.get("oneOf", [prop]):
        if "$ref" in option:
            option = schema["components"]["schemas"][option["$ref"].rsplit("/", 1)[-1]]
        if option.get("maxLength") == 0 or "" in option.get("enum", []):
            return True
    return False


# --- Odd input is a 400 or 404 with a message, not a 500 -------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("results", "updated_since"),
        ("awards", "decided_since"),
        ("applications", "updated_at__gte"),
        ("enrolments", "updated_at__gte"),
    ],
)
@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:01", "9999-12-31T23:59:59-01:00"])
def test_a_date_time_that_leaves_the_years_1_to_9999_in_utc_is_refused(world, token_client, path, parameter, value):
    """It overflowed in the database adapter (500)."""
    response = token_client(world.ua).get(f"{API}/{path}/", {parameter: value})
    assert response.status_code == 400
    assert response.json() == {parameter: [str(DATETIME_OUT_OF_RANGE)]}


@pytest.mark.parametrize(
    ("path", "parameter"),
    [("results", "updated_since"), ("applications", "updated_at__gte"), ("awards", "decided_since")],
)
def test_a_date_time_with_an_offset_beyond_postgresqls_zones_filters(world, token_client, path, parameter):
    """``+21:46`` is valid ISO 8601 but PostgreSQL refuses zone offsets beyond ±15:59 (a 500, found by schemathesis
    on PostgreSQL): the filter compares in UTC."""
    response = token_client(world.ua).get(f"{API}/{path}/", {parameter: "4550-04-26T09:48:34.9133+21:46"})
    assert response.status_code == 200, response.content


def test_a_date_time_at_the_edge_of_the_range_still_filters(world, token_client):
    response = token_client(world.ua).get(f"{API}/results/", {"updated_since": "0001-01-01T00:00:00Z"})
    assert response.status_code == 200


def test_a_grade_id_that_is_not_a_uuid_is_not_found(world, token_client):
    """It answered 400 ("… is not a valid UUID."), unlike every other detail route."""
    response = token_client(world.ua).get(f"{API}/results/{NOT_A_UUID}/")
    assert response.status_code == 404


def test_a_registration_of_ids_that_are_not_uuids_is_not_found(world, token_client):
    response = token_client(world.ua).patch(
        f"{API}/enrolments/{NOT_A_UUID}/registrations/{NOT_A_UUID}/", {"status": "registered"}, format="json"
    )
    assert response.status_code == 404


def test_a_nul_character_in_a_search_is_a_400_with_an_object(world, token_client):
    """It answered a bare list (``["Null characters are not allowed."]``), which the schema does not allow."""
    response = token_client(world.ua).get(f"{API}/consortia/", {"search": "a\x00b"})
    assert response.status_code == 400
    assert isinstance(response.json(), dict) and response.json()["detail"]


def test_a_bare_validation_message_is_answered_as_an_object():
    response = exception_handler(ValidationError("Null characters are not allowed."), {})
    assert response.status_code == 400
    assert response.data == {"detail": "Null characters are not allowed."}


# --- The values the API answers with are documented ---------------------------------------------------------------


def test_blank_and_null_values_are_documented(world, token_client, schema):
    """Read-only model fields lose ``allow_blank`` in DRF: the schema refused the "" and null the API answers."""
    programme = ProgrammeFactory(consortium=world.ca, lead_institution=world.ua, contact_email="", qf_ehea_cycle="")
    edition = EditionFactory(programme=programme)
    AdmissionFrameworkFactory(edition=edition, reviewing_institution=world.ua)
    application = ApplicationFactory(edition=edition, status="submitted", participant_profile="")
    enrolment = EnrolmentFactory(application=ApplicationFactory(edition=edition, status="enrolled",
                                                                date_of_birth=None))
    version = AgreementVersionFactory(agreement=AgreementFactory(consortium=world.ca))
    AgreementPartyFactory(version=version, institution=world.ua)
    client = token_client(world.ua)

    answered = {
        ("Programme", "contact_email"): client.get(f"{API}/programmes/{programme.pk}/").json()["contact_email"],
        ("Programme", "qf_ehea_cycle"): client.get(f"{API}/programmes/{programme.pk}/").json()["qf_ehea_cycle"],
        ("Application", "participant_profile"):
            client.get(f"{API}/applications/{application.pk}/").json()["participant_profile"],
        ("Enrolment", "date_of_birth"): client.get(f"{API}/enrolments/{enrolment.pk}/").json()["date_of_birth"],
        ("AgreementVersion", "sharing_basis"):
            client.get(f"{API}/agreement-versions/{version.pk}/").json()["sharing_basis"],
        ("AgreementVersion", "collecting_institution"):
            client.get(f"{API}/agreement-versions/{version.pk}/").json()["collecting_institution"],
        ("AgreementParty", "joined_by_addendum"):
            client.get(f"{API}/agreement-versions/{version.pk}/").json()["parties"][0]["joined_by_addendum"],
    }
    for (component, field), value in answered.items():
        prop = _property(schema, component, field)
        if value is None:
            assert prop.get("nullable"), (component, field)
        else:
            assert value == "" and _admits_blank(schema, prop), (component, field)
    # Null until the PDF is ready (the fuzz test sees it on a freshly issued credential).
    assert _property(schema, "Document", "download_url").get("nullable")


# --- The errors the API answers with are documented ---------------------------------------------------------------


def test_every_operation_documents_its_errors(schema):
    """Only the success (and a few views' own errors) were documented: every 404, 403, 401 and 429 was not."""
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert "429" in codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if operation.get("security") != [{}] and "tokenAuth" in str(operation.get("security")):
                assert {"401", "403"} <= codes, (method, path)
            if method in ("post", "patch") and "requestBody" in operation:
                assert {"400", "415"} <= codes, (method, path)
    error = schema["paths"][f"{API}/institutions/{{id}}/"]["get"]["responses"]["404"]
    assert error["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/memberships/{id}/end/"),
        ("patch", "/agreement-versions/{id}/"),
        ("post", "/agreement-versions/{id}/financial-model/"),
        ("post", "/agreement-versions/{id}/send-for-signature/"),
    ],
)
def test_refused_transitions_document_their_409_with_its_body(schema, method, path):
    conflict = schema["paths"][f"{API}{path}"][method]["responses"]["409"]
    assert conflict["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_ending_a_membership_twice_is_a_documented_409(world, schema):
    """It answered 409, which the schema did not list."""
    membership = MembershipFactory(consortium=world.ca, role="partner")
    client = APIClient()
    client.force_login(world.people["CA_admin"])
    assert client.post(f"{API}/memberships/{membership.pk}/end/", {}, format="json").status_code == 200
    response = client.post(f"{API}/memberships/{membership.pk}/end/", {}, format="json")
    assert response.status_code == 409
    assert "already left" in response.json()["detail"]
    assert "409" in schema["paths"][f"{API}/memberships/{{id}}/end/"]["post"]["responses"]

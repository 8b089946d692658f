"""Our Open Badges 3.0 credentials validate against the 1EdTech OB 3.0 AchievementCredential JSON Schema shipped in
``certification/vc/schemas/`` (see the README there): the unsigned JSON from ``ob3.build_credential``, the Data
Integrity variant (embedded ``proof``) and the payload of the VC-JOSE-COSE JWT. Offline: the schema's ``$ref`` are
all local (``#/$defs/...``) and the schema is registered under its ``$id`` in a ``referencing.Registry``.

The shipped schema is the OB 3.0 edition written for VC Data Model 1.1 (``issuanceDate`` required). Our
credentials follow OB 3.0.3 on VC Data Model 2.0 (``validFrom``); ``vc2_schema`` is the shipped schema with that one
rename (``issuanceDate``/``expirationDate`` → ``validFrom``/``validUntil``), and a test pins that the rename is the
only thing the unmodified schema objects to.
"""

import base64
import copy
import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft201909Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT201909

import certification
from certification import services
from certification.vc import issue, ob3

SCHEMA_PATH = Path(certification.__file__).parent / "vc" / "schemas" / "ob_v3p0_achievementcredential_schema.json"
SCHEMA_ID = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
ESCO = "http://data.europa.eu/esco/skill/4f3a1b2c-0000-4000-8000-000000000001"

# RFC 3339 date-time (jsonschema only checks "date-time" with an optional extra package; this keeps it offline).
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
FORMATS = FormatChecker(formats=())
FORMATS.checks("date-time")(lambda value: not isinstance(value, str) or bool(RFC3339.match(value)))


def load_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def vc2(schema: dict) -> dict:
    """The shipped (VC 1.1) schema with VC 2.0 validity dates: ``validFrom`` required instead of ``issuanceDate``."""
    schema = copy.deepcopy(schema)
    props = schema["properties"]
    props["validFrom"] = props.pop("issuanceDate")
    props["validUntil"] = props.pop("expirationDate")
    schema["required"] = ["validFrom" if r == "issuanceDate" else r for r in schema["required"]]
    return schema


def validator(schema: dict) -> Draft201909Validator:
    registry = Registry().with_resource(SCHEMA_ID, Resource(contents=schema, specification=DRAFT201909))
    return Draft201909Validator(schema, registry=registry, format_checker=FORMATS)


def errors(schema: dict, document: dict) -> list[str]:
    return sorted(f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
                  for e in validator(schema).iter_errors(document))


@pytest.fixture(scope="module")
def vc2_schema():
    return vc2(load_schema())


def award(c, django_capture_on_commit_callbacks, classification=""):
    c.outcomes[0].esco_uri = ESCO
    c.outcomes[0].save()
    with django_capture_on_commit_callbacks(execute=True):
        decided = services.award_decide(actor=c.board, enrolment=c.enrolments[0], classification=classification)
    return decided.credentials.get()


def jwt_payload(token: str) -> dict:
    segment = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def test_shipped_schema_is_the_1edtech_draft_2019_09_schema():
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2019-09/schema#"
    assert schema["$id"] == SCHEMA_ID
    Draft201909Validator.check_schema(schema)
    Draft201909Validator.check_schema(vc2(schema))
    # Every reference is local: validation never needs the network.
    refs = re.findall(r'"\$ref"\s*:\s*"([^"]+)"', SCHEMA_PATH.read_text(encoding="utf-8"))
    assert refs and all(ref.startswith("#/$defs/") for ref in refs)


@pytest.mark.parametrize("classification", ["", "8.1 (Joint scale)"])
def test_unsigned_credential_validates(awardable, django_capture_on_commit_callbacks, vc2_schema, classification):
    credential = award(awardable, django_capture_on_commit_callbacks, classification)
    document = ob3.build_credential(credential)
    assert errors(vc2_schema, document) == []
    if classification:  # the Result / ResultDescription branch is exercised
        assert document["credentialSubject"]["result"] and document["credentialSubject"]["achievement"][
            "resultDescription"]


def test_unmodified_schema_objects_only_to_the_vc2_validity_date(awardable, django_capture_on_commit_callbacks):
    document = ob3.build_credential(award(awardable, django_capture_on_commit_callbacks))
    assert errors(load_schema(), document) == ["<root>: 'issuanceDate' is a required property"]


def test_data_integrity_credential_validates(awardable, django_capture_on_commit_callbacks, vc2_schema):
    credential = award(awardable, django_capture_on_commit_callbacks)
    document = issue.issue_signed(credential, proof=issue.DATA_INTEGRITY)
    assert isinstance(document, dict)
    assert document["proof"]["type"] == "DataIntegrityProof"
    assert errors(vc2_schema, document) == []


def test_jwt_payload_validates(awardable, django_capture_on_commit_callbacks, vc2_schema):
    credential = award(awardable, django_capture_on_commit_callbacks)
    token = issue.issue_signed(credential, proof=issue.JWT)
    assert isinstance(token, str)
    payload = jwt_payload(token)
    assert payload == ob3.build_credential(credential)
    assert errors(vc2_schema, payload) == []


def test_schema_rejects_broken_credentials(awardable, django_capture_on_commit_callbacks, vc2_schema):
    """The validator is live: the schema's constraints catch the mistakes they are meant to catch."""
    document = ob3.build_credential(award(awardable, django_capture_on_commit_callbacks))

    missing_name = {k: v for k, v in document.items() if k != "name"}
    assert errors(vc2_schema, missing_name) == ["<root>: 'name' is a required property"]

    listed_identity = copy.deepcopy(document)
    listed_identity["credentialSubject"]["identifier"][0]["type"] = ["IdentityObject"]
    assert errors(vc2_schema, listed_identity) == [
        "credentialSubject/identifier/0/type: ['IdentityObject'] is not of type 'string'"]

    bad_date = {**document, "validFrom": "25 November 2026"}
    assert errors(vc2_schema, bad_date) == ["validFrom: '25 November 2026' is not a 'date-time'"]

    no_criteria = copy.deepcopy(document)
    del no_criteria["credentialSubject"]["achievement"]["criteria"]
    assert errors(vc2_schema, no_criteria) == [
        "credentialSubject/achievement: 'criteria' is a required property"]

"""The partner API of programmes: /api/v1/programmes/, /courses/, /curriculum-versions/ and /editions/.

A partner system reads, with its institution's token, every programme its institution participates in, and
nothing else. Writes follow the policy: the team leader (in a browser session) edits the programme and plans
editions; a token never writes.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consortium.models import AuditEvent, User
from programmes import services
from programmes.models import CurriculumVersion, Edition, Programme, ProgrammeStatus

from ..factories import (
    CourseFactory,
    CurriculumVersionFactory,
    EditionFactory,
    LearningOutcomeFactory,
    ProgrammeFactory,
    ProgrammePartnerFactory,
)

D = Decimal
PROGRAMMES = "/api/v1/programmes/"
COURSES = "/api/v1/courses/"
CURRICULA = "/api/v1/curriculum-versions/"
EDITIONS = "/api/v1/editions/"
READ_ALL = ["programmes:read", "editions:read"]


# --- Arrange ---------------------------------------------------------------------------------------------


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def leader(world) -> User:
    return fresh(world.people["UA_staff"])


def make_programme(world, code: str, partners=None, consortium=None, lead=None, **data) -> Programme:
    """A 5-ECTS CMF micro-credential created through the service by staff of the lead, who leads the team."""
    consortium = consortium or world.ca
    lead = lead or world.ua
    actor = fresh(world.people[f"{lead.short_name}_staff"])
    fields = {
        "code": code,
        "primary_language": "en",
        "ects": D("5"),
        "qualification_type": "cmf_micro_credential",
        "eqf_level": 6,
        "delivery_mode": "online",
        "synchronicity": "asynchronous",
        "pacing": "cohort",
        "duration_weeks": 10,
        "lead_institution": lead,
        "issuing_institution": lead,
        "qa_scheme": "Internal QA (ESG)",
        "contact_email": f"{code}@example.org",
        **data,
    }
    return services.programme_create(
        actor=actor,
        consortium=consortium,
        data=fields,
        title=f"Title of {code}",
        qualification_name="Certificate",
        partners=[world.ub] if partners is None else partners,
    )


def approve(world, programme: Programme) -> CurriculumVersion:
    """v1 with two courses (UA 3 ECTS, and UB 2 ECTS when UB participates), approved by a board member."""
    version = programme.curricula.get(number=1)
    provider = world.ub if programme.partners.filter(institution=world.ub).exists() else world.ua
    for code, institution, ects in [("CD1", world.ua, "3"), ("CD2", provider, "2")]:
        data = {
            "code": code,
            "title": f"Course {code}",
            "provider": institution,
            "ects": D(ects),
            "mandatory": True,
            "assessment_method": "online_exam",
            "supervision": "supervised_online",
        }
        services.course_save(actor=leader(world), version=version, data=data)
    services.curriculum_submit(actor=leader(world), version=version)
    board = fresh(world.people["UB_staff"] if provider == world.ub else world.people["UA_admin"])
    services.board_member_appoint(
        actor=fresh(world.people["CA_admin"]), programme=programme, email=board.email, role="programme_board"
    )
    return services.curriculum_approve(actor=fresh(board), version=version)


def approved_v2(programme: Programme) -> CurriculumVersion:
    """An approved version next to the draft v1 (arranged directly: only editions need it here)."""
    return CurriculumVersionFactory(programme=programme, number=2, status="approved")


@pytest.fixture
def three(world):
    """``shared`` (CA, UA + UB, approved v1 and an edition), ``ua_only`` (CA, UA) and ``cb`` (CB, UC)."""
    shared = make_programme(world, "shared")
    version = approve(world, shared)
    EditionFactory(programme=shared, curriculum=version, intake_code="shared-2026")
    ua_only = make_programme(world, "ua-only", partners=[])
    EditionFactory(programme=ua_only, intake_code="ua-only-2026", curriculum=approved_v2(ua_only))
    cb = make_programme(world, "cb", partners=[], consortium=world.cb, lead=world.uc)
    CourseFactory(version=cb.curricula.get(), provider=world.uc, code="CB1")
    EditionFactory(programme=cb, intake_code="cb-2026", curriculum=approved_v2(cb))
    return shared, ua_only, cb


def codes(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["code"] for row in response.json()["results"]]


# --- Reading: what a partner token sees --------------------------------------------------------------------


def test_a_partner_token_lists_only_the_programmes_its_institution_participates_in(world, token_client, three):
    shared, ua_only, cb = three
    client = token_client(world.ub, ["programmes:read"])

    assert codes(client.get(PROGRAMMES)) == ["shared"]

    detail = client.get(f"{PROGRAMMES}{shared.pk}/")
    assert detail.status_code == 200
    body = detail.json()
    assert body["code"] == "shared"
    assert body["texts"][0]["title"] == "Title of shared"
    assert {p["institution"] for p in body["partners"]} == {str(world.ua.pk), str(world.ub.pk)}
    assert client.get(f"{PROGRAMMES}{cb.pk}/").status_code == 404
    assert client.get(f"{PROGRAMMES}{ua_only.pk}/").status_code == 404
    # The lead's token sees both of its programmes, and UC's only the programme of consortium B.
    assert codes(token_client(world.ua, ["programmes:read"]).get(PROGRAMMES)) == ["shared", "ua-only"]
    assert codes(token_client(world.uc, ["programmes:read"]).get(PROGRAMMES)) == ["cb"]


def test_courses_and_curriculum_versions_follow_the_programmes(world, token_client, three):
    shared, _ua_only, cb = three
    client = token_client(world.ub, ["programmes:read"])

    courses = client.get(COURSES)
    assert codes(courses) == ["CD1", "CD2"]
    assert {row["programme"] for row in courses.json()["results"]} == {str(shared.pk)}
    versions = client.get(CURRICULA)
    assert versions.status_code == 200
    assert [(row["programme"], row["number"], row["status"]) for row in versions.json()["results"]] == [
        (str(shared.pk), 1, "approved")
    ]
    assert [c["code"] for c in versions.json()["results"][0]["courses"]] == ["CD1", "CD2"]
    cb_v1 = cb.curricula.get(number=1)
    assert client.get(f"{COURSES}{cb_v1.courses.get().pk}/").status_code == 404
    assert client.get(f"{CURRICULA}{cb_v1.pk}/").status_code == 404
    assert client.get(f"{CURRICULA}{shared.curricula.get().pk}/").status_code == 200


def test_the_programmes_read_scope_is_required(world, token_client, three):
    shared = three[0]
    client = token_client(world.ub, ["editions:read"])

    for path in [PROGRAMMES, f"{PROGRAMMES}{shared.pk}/", COURSES, CURRICULA]:
        assert client.get(path).status_code == 403, path
    assert client.get(EDITIONS).status_code == 200


def test_editions_need_the_editions_read_scope(world, token_client, three):
    shared = three[0]
    edition = shared.editions.get()
    client = token_client(world.ub, ["programmes:read"])
    assert client.get(EDITIONS).status_code == 403
    assert client.get(f"{EDITIONS}{edition.pk}/").status_code == 403

    client.token.scopes = READ_ALL  # the institution's administrator widens the token
    client.token.save(update_fields=["scopes"])
    response = client.get(EDITIONS)
    assert response.status_code == 200
    assert [row["intake_code"] for row in response.json()["results"]] == ["shared-2026"]
    assert client.get(f"{EDITIONS}{edition.pk}/").json()["curriculum"] == str(edition.curriculum_id)
    cb_edition = three[2].editions.get()
    assert client.get(f"{EDITIONS}{cb_edition.pk}/").status_code == 404


def test_anonymous_callers_are_refused(api_client, three):
    assert api_client.get(PROGRAMMES).status_code in (401, 403)
    assert api_client.get(EDITIONS).status_code in (401, 403)


def test_filters_and_search(world, token_client):
    make_programme(world, "alpha")
    beta = make_programme(world, "beta")
    services.programme_update(actor=leader(world), programme=beta, data={"eqf_level": 7})
    gamma = make_programme(world, "gamma")
    approve(world, gamma)
    services.outcome_add(actor=leader(world), programme=gamma, category="knowledge", text="Explain")
    texts = {f: "Described." for f in services.TEXT_FIELDS if f not in ("title", "qualification_name")}
    services.programme_text_save(
        actor=leader(world), programme=gamma, language="en", data={**texts, "title": "Quantum sensing"}
    )
    services.programme_publish(actor=leader(world), programme=gamma)
    client = token_client(world.ub, ["programmes:read"])

    assert codes(client.get(PROGRAMMES, {"status": "published"})) == ["gamma"]
    assert codes(client.get(PROGRAMMES, {"status": "draft"})) == ["alpha", "beta"]
    assert codes(client.get(PROGRAMMES, {"eqf_level": 7})) == ["beta"]
    assert codes(client.get(PROGRAMMES, {"eqf_level": 6, "status": "draft"})) == ["alpha"]
    assert codes(client.get(PROGRAMMES, {"search": "quantum"})) == ["gamma"]
    assert codes(client.get(PROGRAMMES, {"search": "alph"})) == ["alpha"]
    assert codes(client.get(PROGRAMMES, {"search": "Title of"})) == ["alpha", "beta"]
    assert codes(client.get(PROGRAMMES, {"ordering": "-code"})) == ["gamma", "beta", "alpha"]
    assert client.get(PROGRAMMES, {"eqf_level": "x"}).status_code == 400
    assert codes(client.get(COURSES, {"version__status": "approved"})) == ["CD1", "CD2"]
    assert codes(client.get(COURSES, {"search": "CD2"})) == ["CD2"]


# --- Writing: the team leader edits, a token never does ----------------------------------------------------


def test_the_team_leader_patches_a_programme_and_it_is_audited(world, api_client):
    programme = make_programme(world, "shared")
    api_client.force_login(world.people["UA_staff"])

    response = api_client.patch(
        f"{PROGRAMMES}{programme.pk}/", {"duration_weeks": 12, "contact_name": "Programme office"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["duration_weeks"] == 12
    assert response.json()["contact_name"] == "Programme office"
    programme.refresh_from_db()
    assert (programme.duration_weeks, programme.contact_name) == (12, "Programme office")
    event = AuditEvent.objects.get(action="programme.updated", object_id=str(programme.pk))
    assert event.via == "api"
    assert event.actor == world.people["UA_staff"]
    assert set(event.changes) == {"duration_weeks", "contact_name"}


def test_a_patch_whose_ects_do_not_fit_the_type_is_a_400_on_ects(world, api_client):
    programme = make_programme(world, "shared")
    api_client.force_login(world.people["UA_staff"])

    response = api_client.patch(f"{PROGRAMMES}{programme.pk}/", {"ects": "7"}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["ects"]
    assert "does not fit a cmf micro-credential programme" in response.json()["ects"][0]
    programme.refresh_from_db()
    assert programme.ects == D("5.0")
    assert not AuditEvent.objects.filter(action="programme.updated").exists()
    # With the type it fits, the same volume is accepted.
    response = api_client.patch(
        f"{PROGRAMMES}{programme.pk}/", {"ects": "7", "qualification_type": "short_programme"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["ects"] == "7.0"


def test_a_token_cannot_patch(world, token_client):
    programme = make_programme(world, "shared")
    client = token_client(world.ua, None)  # every scope there is

    response = client.patch(f"{PROGRAMMES}{programme.pk}/", {"duration_weeks": 12}, format="json")

    assert response.status_code == 403
    programme.refresh_from_db()
    assert programme.duration_weeks == 10


def test_staff_of_a_partner_outside_the_team_cannot_patch(world, api_client):
    programme = make_programme(world, "shared")
    api_client.force_login(world.people["UB_staff"])

    assert api_client.get(f"{PROGRAMMES}{programme.pk}/").status_code == 200
    assert api_client.patch(f"{PROGRAMMES}{programme.pk}/", {"duration_weeks": 12}, format="json").status_code == 403
    programme.refresh_from_db()
    assert programme.duration_weeks == 10


def edition_body(programme: Programme, version: CurriculumVersion, **overrides) -> dict:
    now = timezone.now()
    body = {
        "programme": str(programme.pk),
        "intake_code": "2027-spring",
        "time_zone": "Europe/Madrid",
        "application_opens_at": (now + dt.timedelta(days=10)).isoformat(),
        "application_closes_at": (now + dt.timedelta(days=40)).isoformat(),
        "starts_on": (now + dt.timedelta(days=50)).date().isoformat(),
        "ends_on": (now + dt.timedelta(days=140)).date().isoformat(),
        "capacity": 20,
        "curriculum": str(version.pk),
    }
    body.update(overrides)
    return body


def test_the_leader_cannot_plan_an_edition_on_a_draft_curriculum(world, api_client):
    programme = make_programme(world, "shared")
    draft = programme.curricula.get()
    api_client.force_login(world.people["UA_staff"])

    response = api_client.post(EDITIONS, edition_body(programme, draft), format="json")

    assert response.status_code == 400, response.content
    assert response.json()["curriculum"] == ["An edition runs an approved curriculum version of its programme."]
    assert not Edition.objects.exists()


def test_the_leader_plans_an_edition_on_an_approved_curriculum(world, api_client):
    programme = make_programme(world, "shared")
    version = approve(world, programme)
    api_client.force_login(world.people["UA_staff"])

    response = api_client.post(EDITIONS, edition_body(programme, version), format="json")

    assert response.status_code == 201, response.content
    edition = Edition.objects.get()
    assert (edition.programme, edition.curriculum, edition.status) == (programme, version, "planned")
    assert response.json()["id"] == str(edition.pk)
    assert AuditEvent.objects.get(action="edition.saved").via == "api"


def test_editions_cannot_be_planned_by_others(world, api_client, token_client):
    programme = make_programme(world, "shared")
    version = approve(world, programme)
    body = edition_body(programme, version)
    assert token_client(world.ua, None).post(EDITIONS, body, format="json").status_code == 403
    api_client.force_login(world.people["UB_staff"])  # a partner's staff member, not the team leader
    assert api_client.post(EDITIONS, body, format="json").status_code == 403
    api_client.force_login(world.people["UC_staff"])  # cannot even see the programme
    assert api_client.post(EDITIONS, body, format="json").status_code == 403
    assert not Edition.objects.exists()


# --- Query counts do not grow with the rows ----------------------------------------------------------------


def _programme_for_ub(world) -> Programme:
    programme = ProgrammeFactory(consortium=world.ca, lead_institution=world.ua)
    ProgrammePartnerFactory(programme=programme, institution=world.ub)
    LearningOutcomeFactory(programme=programme)
    return programme


def _rows(world, endpoint: str, count: int, state: dict) -> None:
    """``count`` more rows that UB's token sees at ``endpoint``."""
    for _ in range(count):
        if endpoint == PROGRAMMES:
            _programme_for_ub(world)
        elif endpoint == COURSES:
            if "version" not in state:
                state["version"] = CurriculumVersionFactory(programme=_programme_for_ub(world), number=1)
            CourseFactory(version=state["version"])
        elif endpoint == CURRICULA:
            version = CurriculumVersionFactory(programme=_programme_for_ub(world), number=1, status="approved")
            CourseFactory(version=version)
        else:
            EditionFactory(programme=_programme_for_ub(world))


@pytest.mark.parametrize("endpoint", [PROGRAMMES, COURSES, CURRICULA, EDITIONS])
def test_list_endpoints_use_a_constant_number_of_queries(world, token_client, endpoint, django_assert_max_num_queries):
    client = token_client(world.ub, READ_ALL)
    state: dict = {}
    _rows(world, endpoint, 5, state)
    assert client.get(endpoint).json()["count"] == 5  # warm up (the token's last use is recorded)
    with CaptureQueriesContext(connection) as few:
        client.get(endpoint)
    _rows(world, endpoint, 25, state)

    with django_assert_max_num_queries(len(few)):
        response = client.get(endpoint)

    assert response.status_code == 200
    assert response.json()["count"] == 30
    assert len(response.json()["results"]) == 30


def test_programme_list_rows_carry_their_relations(world, token_client):
    programme = _programme_for_ub(world)
    response = token_client(world.ub, READ_ALL).get(PROGRAMMES)
    row = response.json()["results"][0]
    assert row["id"] == str(programme.pk)
    assert row["status"] == ProgrammeStatus.DRAFT
    assert len(row["outcomes"]) == 1 and len(row["texts"]) == 1
    assert {p["institution"] for p in row["partners"]} == {str(programme.lead_institution_id), str(world.ub.pk)}

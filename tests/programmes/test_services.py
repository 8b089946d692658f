"""Programme services (D2, D3): creation, course team, board, versioned curricula, editions, publication,
cloning, overlaps and the audit trail. Messages are matched: the user must get a clear reason."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from consortium import policy
from consortium.api import DomainError, TransitionError
from consortium.models import AuditEvent, Membership, RoleAssignment, User
from programmes import services as s
from programmes.models import (
    Course,
    CurriculumStatus,
    CurriculumVersion,
    Edition,
    EditionStatus,
    Programme,
    ProgrammeStatus,
    StackingLink,
    TeamMember,
)

from ..factories import CourseFactory, StaffFactory, UserFactory

UTC = dt.UTC
D = Decimal


def who(w, name: str) -> User:
    """A fresh copy of the person: the policy caches roles on the user object, and tests grant roles as they go."""
    return User.objects.get(pk=w.people[name].pk)


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def programme_data(w, **overrides):
    data = {
        "code": "chip-design", "primary_language": "en", "languages": ["en"], "ects": D("5"),
        "qualification_type": "cmf_micro_credential", "eqf_level": 6, "delivery_mode": "online",
        "synchronicity": "asynchronous", "pacing": "cohort", "duration_weeks": 10,
        "lead_institution": w.ua, "issuing_institution": w.ua,
        "qa_scheme": "Internal QA of the lead university (ESG)", "contact_email": "chip@example.org",
    }
    data.update(overrides)
    return data


def create(w, actor="UA_staff", partners=None, leader=None, **overrides) -> Programme:
    return s.programme_create(actor=who(w, actor) if isinstance(actor, str) else actor, consortium=w.ca,
                              data=programme_data(w, **overrides), title="Chip design",
                              qualification_name="Certificate", partners=[w.ub] if partners is None else partners,
                              leader=leader)


@pytest.fixture
def prog(world):
    """A 5-ECTS CMF micro-credential led by UA (team leader UA_staff) with partner UB."""
    return create(world)


@pytest.fixture
def board(world, prog):
    """A UB staff member appointed to the programme board by the consortium administrator."""
    person = StaffFactory(institution=world.ub).user
    s.board_member_appoint(actor=who(world, "CA_admin"), programme=prog, email=person.email, role="programme_board")
    return fresh(person)


def leader(w) -> User:
    return who(w, "UA_staff")


def course(w, version, code, provider, ects, mandatory=True, **extra):
    data = {"code": code, "title": f"Course {code}", "provider": provider, "ects": D(ects), "mandatory": mandatory,
            "assessment_method": "online_exam", "supervision": "supervised_online", **extra}
    return s.course_save(actor=leader(w), version=version, data=data)


def v1(prog) -> CurriculumVersion:
    return prog.curricula.get(number=1)


def approved_curriculum(w, prog, board) -> CurriculumVersion:
    version = v1(prog)
    course(w, version, "CD1", w.ua, "3")
    course(w, version, "CD2", w.ub, "2")
    s.curriculum_submit(actor=leader(w), version=version)
    return s.curriculum_approve(actor=board, version=version, comment="Fine.")


def complete_for_publication(w, prog, board) -> None:
    texts = {f: f"Text for {f}" for f in s.TEXT_FIELDS if f not in ("title", "qualification_name")}
    s.programme_text_save(actor=leader(w), programme=prog, language="en", data=texts)
    s.outcome_add(actor=leader(w), programme=prog, category="knowledge", text="Explain the chip design flow")
    approved_curriculum(w, prog, board)


def edition_data(prog, version, **overrides):
    data = {
        "intake_code": "2027-spring", "time_zone": "Europe/Brussels",
        "application_opens_at": dt.datetime(2026, 11, 1, 9, tzinfo=UTC),
        "application_closes_at": dt.datetime(2027, 1, 15, 17, tzinfo=UTC),
        "starts_on": dt.date(2027, 2, 1), "ends_on": dt.date(2027, 4, 30), "capacity": 25, "curriculum": version,
    }
    data.update(overrides)
    return data


def events(action, obj=None):
    qs = AuditEvent.objects.filter(action=action)
    return qs.filter(object_id=str(obj.pk)) if obj is not None else qs


# --- programme_create ---------------------------------------------------------------------------------


def test_create_builds_texts_partners_curriculum_and_leader(world):
    programme = create(world, partners=[world.ub, world.ea])
    assert programme.status == ProgrammeStatus.DRAFT
    assert programme.languages == ["en"]
    text = programme.texts.get()
    assert (text.language, text.title, text.qualification_name) == ("en", "Chip design", "Certificate")
    assert dict(programme.partners.values_list("institution__short_name", "role")) == {
        "UA": "lead", "UB": "partner", "EA": "associated"}
    version = programme.curricula.get()
    assert (version.number, version.status, version.courses.count()) == (1, CurriculumStatus.DRAFT, 0)
    member = programme.team.get()
    assert (member.user, member.role, member.institution) == (world.people["UA_staff"], "leader", world.ua)
    grant = RoleAssignment.objects.get(user=world.people["UA_staff"], role="team_leader")
    assert (grant.target_id, grant.institution_id) == (programme.id, world.ua.id)
    assert policy.can(leader(world), "programme.manage_team", programme)


def test_create_adds_an_issuing_institution_other_than_the_lead_as_partner(world):
    programme = create(world, partners=[], issuing_institution=world.ub)
    assert dict(programme.partners.values_list("institution__short_name", "role")) == {"UA": "lead", "UB": "partner"}


def test_create_with_a_named_leader(world):
    """A partner's staff drafts the programme and names the lead university's pen holder."""
    programme = create(world, actor="UB_staff", leader=world.people["UA_staff"])
    assert programme.team.get(role="leader").user == world.people["UA_staff"]


def test_create_refuses_an_actor_who_cannot_lead_without_naming_a_leader(world):
    with pytest.raises(DomainError, match="team leader must be a staff member of the lead institution"):
        create(world, actor="UB_staff")
    assert not Programme.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"ects": D("7"), "qualification_type": "cmf_micro_credential"}, "ects",
         r"7 ECTS does not fit a cmf micro-credential programme \(4 ≤ ECTS ≤ 6\); it is a short"),
        ({"ects": D("3.9"), "qualification_type": "cmf_micro_credential"}, "ects", r"3\.9 ECTS does not fit"),
        ({"ects": D("41"), "qualification_type": "microdegree"}, "ects", r"above 40"),
        ({"ects": None}, "ects", r"cannot be null"),
        ({"primary_language": "en", "languages": ["fr", "xx"]}, "languages",
         r"primary language must be one of the programme's languages"),
        ({"lifespan": "recurring", "recurring_until": dt.date(2020, 1, 1)}, "recurring_until",
         r"end of recurrence is in the past"),
    ],
)
def test_create_refuses_invalid_programme_data_on_the_field(world, overrides, field, message):
    with pytest.raises(ValidationError, match=message) as exc:
        create(world, **overrides)
    assert field in exc.value.message_dict
    assert not Programme.objects.exists()


@pytest.mark.parametrize("field", ["lead_institution", "issuing_institution"])
def test_create_refuses_lead_or_issuing_institution_outside_the_consortium(world, field):
    with pytest.raises(ValidationError, match="Must be an active member of the consortium") as exc:
        create(world, actor="CA_admin", **{field: world.uc})
    assert list(exc.value.message_dict) == [field]


def test_create_refuses_an_issuing_institution_that_left_the_consortium(world):
    Membership.objects.filter(consortium=world.ca, institution=world.ub).update(left_on=dt.date(2025, 6, 1))
    with pytest.raises(ValidationError, match="Must be an active member") as exc:
        create(world, partners=[], issuing_institution=world.ub)
    assert list(exc.value.message_dict) == ["issuing_institution"]


def test_create_refuses_a_partner_outside_the_consortium(world):
    with pytest.raises(DomainError, match="UC is not an active member of the consortium"):
        create(world, partners=[world.ub, world.uc])
    assert not Programme.objects.exists()


@pytest.mark.parametrize("actor", ["UC_staff", "learner"])
def test_create_refused_to_people_outside_the_consortium(world, actor):
    with pytest.raises(PermissionDenied, match=r"programme\.create"):
        create(world, actor=actor)


def test_create_refused_to_staff_of_an_associated_partner(world):
    employer_staff = StaffFactory(institution=world.ea).user
    with pytest.raises(PermissionDenied):
        create(world, actor=employer_staff, leader=world.people["UA_staff"])


def test_create_refused_in_a_consortium_the_actor_does_not_belong_to(world):
    with pytest.raises(PermissionDenied):
        s.programme_create(actor=who(world, "UA_staff"), consortium=world.cb,
                           data=programme_data(world, lead_institution=world.uc, issuing_institution=world.uc),
                           title="T", qualification_name="Q")


# --- programme_update -----------------------------------------------------------------------------------


def test_update_revalidates_volume_and_records_the_changes(world, prog):
    with pytest.raises(ValidationError, match=r"15 ECTS does not fit a cmf micro-credential"):
        s.programme_update(actor=leader(world), programme=prog, data={"ects": D("15")})
    prog.refresh_from_db()
    assert prog.ects == D("5")
    s.programme_update(actor=leader(world), programme=prog,
                       data={"ects": D("15"), "qualification_type": "short_programme"})
    event = events("programme.updated", prog).get()
    assert event.changes == {"ects": ["5.0", "15.0"], "qualification_type": ["cmf_micro_credential", "short_programme"]}
    s.programme_update(actor=leader(world), programme=prog, data={"ects": D("15")})
    assert events("programme.updated", prog).count() == 1  # nothing changed, nothing recorded


def test_update_applies_the_national_cap_of_a_new_issuing_institution(world, prog):
    s.programme_update(actor=leader(world), programme=prog,
                       data={"ects": D("15"), "qualification_type": "short_programme"})
    with pytest.raises(ValidationError, match=r"\(ES\) caps micro-credentials below 15 ECTS"):
        s.programme_update(actor=leader(world), programme=prog, data={"issuing_institution": world.ub})


def test_update_moves_the_lead_role_with_the_lead_institution(world, prog):
    s.programme_update(actor=who(world, "CA_admin"), programme=prog, data={"lead_institution": world.ub})
    assert dict(prog.partners.values_list("institution__short_name", "role")) == {"UA": "partner", "UB": "lead"}


def test_update_refused_to_people_outside_the_team(world, prog):
    with pytest.raises(PermissionDenied):
        s.programme_update(actor=who(world, "UB_staff"), programme=prog, data={"eqf_level": 7})


# --- Course team ------------------------------------------------------------------------------------------


def test_partner_staff_joins_as_member_with_a_role_on_the_programme(world, prog):
    member = s.team_member_add(actor=leader(world), programme=prog, email=world.people["UB_staff"].email,
                               role="member")
    assert (member.institution, member.role) == (world.ub, "member")
    grant = RoleAssignment.objects.get(user=world.people["UB_staff"], role="team_member")
    assert grant.target_id == prog.id
    assert policy.can(who(world, "UB_staff"), "programme.change", prog)
    assert not policy.can(who(world, "UB_staff"), "programme.manage_team", prog)


def test_member_must_be_staff_of_a_participating_institution(world, prog):
    with pytest.raises(DomainError, match=r"Team members represent a participating institution; .* is not staff"):
        s.team_member_add(actor=leader(world), programme=prog, email=world.people["UC_staff"].email, role="member")
    with pytest.raises(DomainError, match="represent a participating institution"):
        s.team_member_add(actor=leader(world), programme=prog, email=world.people["learner"].email, role="member")
    assert prog.team.count() == 1


def test_member_of_a_university_that_is_not_a_programme_partner_is_refused_until_it_joins(world):
    programme = create(world, partners=[])
    email = world.people["UB_staff"].email
    with pytest.raises(DomainError, match="represent a participating institution"):
        s.team_member_add(actor=leader(world), programme=programme, email=email, role="member")
    s.partner_add(actor=leader(world), programme=programme, institution=world.ub)
    assert s.team_member_add(actor=leader(world), programme=programme, email=email, role="member").pk


def test_duplicate_team_member_refused(world, prog):
    email = world.people["UB_staff"].email
    s.team_member_add(actor=leader(world), programme=prog, email=email, role="member")
    with pytest.raises(DomainError, match="is already in the team"):
        s.team_member_add(actor=leader(world), programme=prog, email=email.upper(), role="member")
    with pytest.raises(DomainError, match="is already in the team"):
        s.team_member_add(actor=leader(world), programme=prog, email=world.people["UA_staff"].email, role="member")
    assert prog.team.count() == 2


def test_unknown_email_refused(world, prog):
    with pytest.raises(DomainError, match=r"No account uses nobody@example\.org"):
        s.team_member_add(actor=leader(world), programme=prog, email="nobody@example.org", role="member")


def test_leader_must_be_lead_institution_staff_and_unique(world, prog):
    with pytest.raises(DomainError, match="already has a team leader"):
        s.team_member_add(actor=who(world, "CA_admin"), programme=prog, email=world.people["UA_admin"].email,
                          role="leader")
    s.team_member_remove(actor=who(world, "CA_admin"), member=prog.team.get(role="leader"))
    with pytest.raises(DomainError, match="team leader must be a staff member of the lead institution"):
        s.team_member_add(actor=who(world, "CA_admin"), programme=prog, email=world.people["UB_staff"].email,
                          role="leader")
    new = s.team_member_add(actor=who(world, "CA_admin"), programme=prog, email=world.people["UA_admin"].email,
                            role="leader")
    assert new.role == "leader"
    assert RoleAssignment.objects.filter(user=world.people["UA_admin"], role="team_leader", target_id=prog.id).exists()


def test_learner_representative_and_external_stakeholder(world, prog):
    rep = s.team_member_add(actor=leader(world), programme=prog, email=world.people["learner"].email,
                            role="learner_rep")
    assert rep.institution is None
    outsider = UserFactory()
    stakeholder = s.team_member_add(actor=leader(world), programme=prog, email=outsider.email, role="stakeholder")
    assert stakeholder.role == "stakeholder"
    # Neither gets a role that lets them change the programme.
    assert not RoleAssignment.objects.filter(user__in=[rep.user, outsider]).exists()
    with pytest.raises(DomainError, match="External stakeholders come from an associated partner"):
        s.team_member_add(actor=leader(world), programme=prog, email=world.people["UC_staff"].email,
                          role="stakeholder")


def test_removing_a_member_revokes_the_role(world, prog):
    member = s.team_member_add(actor=leader(world), programme=prog, email=world.people["UB_staff"].email,
                               role="member")
    s.team_member_remove(actor=leader(world), member=member)
    assert not TeamMember.objects.filter(pk=member.pk).exists()
    assert not RoleAssignment.objects.filter(user=world.people["UB_staff"], target_id=prog.id).exists()
    assert not policy.can(who(world, "UB_staff"), "programme.change", prog)
    assert events("programme.team_member_removed", prog).get().changes["role"] == "member"


def test_only_a_consortium_admin_removes_the_leader(world, prog):
    leader_row = prog.team.get(role="leader")
    with pytest.raises(DomainError, match="Only a consortium administrator can remove the team leader"):
        s.team_member_remove(actor=leader(world), member=leader_row)
    assert RoleAssignment.objects.filter(user=world.people["UA_staff"], role="team_leader").exists()
    s.team_member_remove(actor=who(world, "CA_admin"), member=leader_row)
    assert not prog.team.filter(role="leader").exists()
    assert not RoleAssignment.objects.filter(user=world.people["UA_staff"], role="team_leader").exists()


def test_team_members_do_not_manage_the_team(world, prog):
    s.team_member_add(actor=leader(world), programme=prog, email=world.people["UB_staff"].email, role="member")
    with pytest.raises(PermissionDenied, match=r"programme\.manage_team"):
        s.team_member_add(actor=who(world, "UB_staff"), programme=prog, email=world.people["UB_admin"].email,
                          role="member")
    with pytest.raises(PermissionDenied):
        s.team_member_remove(actor=who(world, "UB_staff"), member=prog.team.get(role="leader"))


def test_tasks_have_an_owner_in_the_team_a_phase_and_a_due_date(world, prog):
    with pytest.raises(DomainError, match="owner must be a member of the course team"):
        s.task_add(actor=leader(world), programme=prog, title="Draft outcomes", phase="design",
                   owner=world.people["UB_staff"])
    task = s.task_add(actor=leader(world), programme=prog, title="Draft outcomes", phase="design",
                      owner=world.people["UA_staff"], due_on=dt.date(2026, 3, 1))
    assert (task.owner, task.phase, task.due_on) == (world.people["UA_staff"], "design", dt.date(2026, 3, 1))
    with pytest.raises(ValidationError, match="not a valid choice"):
        s.task_add(actor=leader(world), programme=prog, title="X", phase="marketing")
    s.task_complete(actor=leader(world), task=task, done_on=dt.date(2026, 2, 20))
    with pytest.raises(TransitionError, match="already done on 2026-02-20"):
        s.task_complete(actor=leader(world), task=task)


def test_timeline_warns_when_phases_are_shorter_than_recommended(world, prog):
    s.programme_update(actor=leader(world), programme=prog, data={
        "design_starts_on": dt.date(2026, 1, 15), "development_starts_on": dt.date(2026, 4, 14),
        "implementation_starts_on": dt.date(2026, 10, 14), "design_started_on": dt.date(2026, 2, 1)})
    prog.refresh_from_db()
    rows = {r["key"]: r for r in s.timeline(prog)}
    assert rows["design"]["months"] == 2
    assert rows["design"]["warning"] == "Planned 2 months; at least 3 are recommended."
    assert rows["design"]["actual_start"] == dt.date(2026, 2, 1)
    assert (rows["development"]["months"], rows["development"]["warning"]) == (6, "")
    assert rows["implementation"]["months"] is None


# --- Boards -------------------------------------------------------------------------------------------------


def test_board_appointed_only_by_the_consortium_admin(world, prog):
    email = world.people["UB_admin"].email
    with pytest.raises(PermissionDenied, match=r"programme\.appoint_board"):
        s.board_member_appoint(actor=leader(world), programme=prog, email=email, role="programme_board")
    s.board_member_appoint(actor=who(world, "CA_admin"), programme=prog, email=email, role="programme_board")
    grant = RoleAssignment.objects.get(user=world.people["UB_admin"], role="programme_board")
    assert (grant.target_id, grant.institution_id) == (prog.id, world.ub.id)
    assert events("programme.board_appointed", prog).get().consortium_id == world.ca.id


@pytest.mark.parametrize(
    ("person", "role", "message"),
    [
        ("UC_staff", "programme_board", "Board members are staff of a participating institution"),
        ("learner", "programme_board", "Board members are staff of a partner institution; .* is not"),
        ("UB_admin", "team_leader", "Choose the programme board or the examination board"),
    ],
)
def test_board_appointment_refusals(world, prog, person, role, message):
    with pytest.raises(DomainError, match=message):
        s.board_member_appoint(actor=who(world, "CA_admin"), programme=prog, email=world.people[person].email,
                               role=role)
    assert not RoleAssignment.objects.filter(user=world.people[person], target_id=prog.id).exists()


# --- Curriculum ---------------------------------------------------------------------------------------------


def test_curriculum_problems_list_every_reason(world, prog):
    version = v1(prog)
    assert s.curriculum_problems(version) == ["Add at least one course."]
    course(world, version, "CD1", world.ua, "3")
    course(world, version, "CD2", world.ub, "1", mandatory=False)
    s.curriculum_elective_set(actor=leader(world), version=version, required_elective_ects=D("2.5"))
    CourseFactory(version=version, code="X9", provider=world.uc, ects=D("1"), mandatory=False)
    version.refresh_from_db()
    assert s.curriculum_problems(version) == [
        "Mandatory ECTS (3.0) plus required elective ECTS (2.5) make 5.5; the programme has 5.0 ECTS.",
        "Electives offer 2.0 ECTS but 2.5 are required.",
        "Courses provided by non-participating institutions: UC.",
    ]


def test_curriculum_problems_electives_insufficient(world, prog):
    version = v1(prog)
    course(world, version, "CD1", world.ua, "3")
    course(world, version, "CD2", world.ub, "1", mandatory=False)
    s.curriculum_elective_set(actor=leader(world), version=version, required_elective_ects=D("2"))
    version.refresh_from_db()
    assert s.curriculum_problems(version) == ["Electives offer 1.0 ECTS but 2.0 are required."]
    course(world, version, "CD3", world.ub, "1", mandatory=False)
    assert s.curriculum_problems(version) == []
    assert s.curriculum_totals(version) == {"mandatory": D("3"), "elective_offered": D("2"),
                                            "elective_required": D("2"), "total": D("5"), "target": D("5")}


def test_course_provider_must_participate(world, prog):
    with pytest.raises(ValidationError, match="provider must be a participating institution") as exc:
        course(world, v1(prog), "CD9", world.uc, "1")
    assert list(exc.value.message_dict) == ["provider"]


def test_negative_required_electives_refused(world, prog):
    with pytest.raises(ValidationError, match="Cannot be negative"):
        s.curriculum_elective_set(actor=leader(world), version=v1(prog), required_elective_ects=D("-1"))


def test_submit_refused_with_the_details(world, prog):
    version = v1(prog)
    course(world, version, "CD1", world.ua, "3")
    with pytest.raises(DomainError, match="cannot be submitted yet") as exc:
        s.curriculum_submit(actor=leader(world), version=version)
    assert list(exc.value.details) == [
        "Mandatory ECTS (3.0) plus required elective ECTS (0.0) make 3.0; the programme has 5.0 ECTS."]
    version.refresh_from_db()
    assert version.status == CurriculumStatus.DRAFT


def test_submit_then_board_approves_and_the_version_is_frozen(world, prog, board):
    version = v1(prog)
    c1 = course(world, version, "CD1", world.ua, "3")
    course(world, version, "CD2", world.ub, "2")
    s.curriculum_submit(actor=leader(world), version=version)
    version.refresh_from_db()
    assert (version.status, version.submitted_at is not None) == (CurriculumStatus.SUBMITTED, True)
    with pytest.raises(TransitionError, match="frozen"):
        course(world, version, "CD3", world.ub, "1")  # a submitted version is frozen too
    with pytest.raises(PermissionDenied, match=r"curriculum\.decide"):
        s.curriculum_approve(actor=leader(world), version=version)
    with pytest.raises(PermissionDenied, match=r"curriculum\.decide"):
        s.curriculum_approve(actor=who(world, "CA_admin"), version=version)
    s.curriculum_approve(actor=board, version=version, comment="Well balanced.")
    version.refresh_from_db()
    assert (version.status, version.decided_by, version.decision_comment) == (
        CurriculumStatus.APPROVED, board, "Well balanced.")
    with pytest.raises(TransitionError, match=r"Curriculum v1 is Approved and frozen; start a new version"):
        course(world, version, "CD3", world.ub, "1")
    with pytest.raises(TransitionError, match="frozen"):
        s.course_save(actor=leader(world), version=version, course=c1, data={"ects": D("2")})
    with pytest.raises(TransitionError, match="frozen"):
        s.course_remove(actor=leader(world), course=c1)
    with pytest.raises(TransitionError, match="frozen"):
        s.curriculum_elective_set(actor=leader(world), version=version, required_elective_ects=D("1"))
    assert sorted(version.courses.values_list("code", "ects")) == [("CD1", D("3")), ("CD2", D("2"))]


def test_a_team_leader_on_the_board_still_does_not_approve_their_own_curriculum(world, prog, board):
    s.board_member_appoint(actor=who(world, "CA_admin"), programme=prog, email=world.people["UA_staff"].email,
                           role="programme_board")
    version = v1(prog)
    course(world, version, "CD1", world.ua, "5")
    s.curriculum_submit(actor=leader(world), version=version)
    with pytest.raises(PermissionDenied):
        s.curriculum_approve(actor=leader(world), version=version)
    with pytest.raises(PermissionDenied):
        s.curriculum_return(actor=leader(world), version=version, comment="Mine")


def test_team_members_edit_courses_but_only_the_leader_submits(world, prog):
    s.team_member_add(actor=leader(world), programme=prog, email=world.people["UB_staff"].email, role="member")
    version = v1(prog)
    s.course_save(actor=who(world, "UB_staff"), version=version,
                  data={"code": "CD1", "title": "T", "provider": world.ub, "ects": D("5"), "mandatory": True,
                        "assessment_method": "assignment", "supervision": "unsupervised"})
    with pytest.raises(PermissionDenied, match=r"curriculum\.submit"):
        s.curriculum_submit(actor=who(world, "UB_staff"), version=version)
    with pytest.raises(PermissionDenied, match=r"programme\.change"):
        s.course_save(actor=who(world, "UC_staff"), version=version, data={"code": "CD2"})
    assert list(version.courses.values_list("code", flat=True)) == ["CD1"]


def test_return_requires_comments_then_the_team_revises_and_resubmits(world, prog, board):
    version = v1(prog)
    course(world, version, "CD1", world.ua, "5")
    s.curriculum_submit(actor=leader(world), version=version)
    with pytest.raises(DomainError, match="comments are required when returning"):
        s.curriculum_return(actor=board, version=version, comment="   ")
    version.refresh_from_db()
    assert version.status == CurriculumStatus.SUBMITTED
    s.curriculum_return(actor=board, version=version, comment="Split CD1 between partners.")
    version.refresh_from_db()
    assert (version.status, version.decision_comment) == (CurriculumStatus.RETURNED, "Split CD1 between partners.")
    c1 = version.courses.get()
    s.course_save(actor=leader(world), version=version, course=c1, data={"ects": D("3")})
    course(world, version, "CD2", world.ub, "2")
    s.curriculum_submit(actor=leader(world), version=version)
    s.curriculum_approve(actor=board, version=version)
    version.refresh_from_db()
    assert version.status == CurriculumStatus.APPROVED
    assert [e.action for e in AuditEvent.objects.filter(object_id=str(version.pk),
                                                        action__in=["curriculum.submitted", "curriculum.returned",
                                                                    "curriculum.approved"]).order_by("id")] == [
        "curriculum.submitted", "curriculum.returned", "curriculum.submitted", "curriculum.approved"]


def test_curriculum_transition_table():
    expected = {"draft": {"submitted"}, "returned": {"submitted"}, "submitted": {"approved", "returned"},
                "approved": set()}
    assert expected == s.CURRICULUM_TRANSITIONS


ILLEGAL_CURRICULUM = [(source, target) for source in CurriculumStatus for target in
                      (CurriculumStatus.SUBMITTED, CurriculumStatus.APPROVED, CurriculumStatus.RETURNED)
                      if target not in s.CURRICULUM_TRANSITIONS[source]]


@pytest.mark.parametrize(("source", "target"), ILLEGAL_CURRICULUM)
def test_illegal_curriculum_transitions_are_refused(world, prog, board, source, target):
    version = v1(prog)
    course(world, version, "CD1", world.ua, "5")  # complete, so only the transition itself can be refused
    CurriculumVersion.objects.filter(pk=version.pk).update(status=source)
    call = {
        CurriculumStatus.SUBMITTED: lambda: s.curriculum_submit(actor=leader(world), version=version),
        CurriculumStatus.APPROVED: lambda: s.curriculum_approve(actor=board, version=version),
        CurriculumStatus.RETURNED: lambda: s.curriculum_return(actor=board, version=version, comment="Redo"),
    }[target]
    with pytest.raises(TransitionError, match=rf"Curriculum v1 is {CurriculumStatus(source).label}; "
                                              rf"it cannot become {CurriculumStatus(target).label}\."):
        call()
    version.refresh_from_db()
    assert version.status == source
    assert not AuditEvent.objects.filter(action=f"curriculum.{target}", object_id=str(version.pk)).exists()


def test_illegal_curriculum_table_is_not_empty():
    assert len(ILLEGAL_CURRICULUM) == 8


def test_a_new_version_copies_the_last_approved_one_and_the_diff_shows_changes(world, prog, board):
    old = approved_curriculum(world, prog, board)
    new = s.curriculum_version_start(actor=leader(world), programme=prog)
    assert (new.number, new.status, new.based_on) == (2, CurriculumStatus.DRAFT, old)
    assert sorted(new.courses.values_list("code", "provider__short_name", "ects")) == [
        ("CD1", "UA", D("3")), ("CD2", "UB", D("2"))]
    assert s.curriculum_diff(old, new) == {"added": [], "removed": [], "changed": [], "elective": None}
    with pytest.raises(TransitionError, match=r"Curriculum v2 is still Draft; finish it first"):
        s.curriculum_version_start(actor=leader(world), programme=prog)

    cd1 = new.courses.get(code="CD1")
    s.course_save(actor=leader(world), version=new, course=cd1, data={"ects": D("2.5"), "title": "Design flow"})
    s.course_remove(actor=leader(world), course=new.courses.get(code="CD2"))
    course(world, new, "CD3", world.ub, "2.5")
    s.curriculum_elective_set(actor=leader(world), version=new, required_elective_ects=D("0"))
    diff = s.curriculum_diff(old, new)
    assert [c.code for c in diff["added"]] == ["CD3"]
    assert [c.code for c in diff["removed"]] == ["CD2"]
    assert diff["changed"] == [{"code": "CD1", "title": "Design flow",
                                "fields": {"title": ("Course CD1", "Design flow"), "ects": ("3.0", "2.5")}}]
    assert diff["elective"] is None
    # The approved version is untouched.
    assert sorted(old.courses.values_list("code", "ects")) == [("CD1", D("3")), ("CD2", D("2"))]


def test_a_course_of_another_version_is_refused(world, prog, board):
    old = approved_curriculum(world, prog, board)
    new = s.curriculum_version_start(actor=leader(world), programme=prog)
    with pytest.raises(DomainError, match="belongs to another curriculum version"):
        s.course_save(actor=leader(world), version=new, course=old.courses.first(), data={"ects": D("1")})


# --- Editions ------------------------------------------------------------------------------------------------


def test_edition_created_on_an_approved_curriculum(world, prog, board):
    version = approved_curriculum(world, prog, board)
    edition = s.edition_save(actor=leader(world), programme=prog, data=edition_data(prog, version))
    edition.refresh_from_db()
    assert (edition.status, edition.curriculum, edition.capacity) == (EditionStatus.PLANNED, version, 25)
    event = events("edition.saved", edition).get()
    assert event.changes["intake_code"] == [None, "2027-spring"]
    assert event.consortium_id == world.ca.id


def test_edition_needs_an_approved_curriculum_of_its_own_programme(world, prog, board):
    with pytest.raises(ValidationError, match="runs an approved curriculum version of its programme") as exc:
        s.edition_save(actor=leader(world), programme=prog, data=edition_data(prog, v1(prog)))
    assert list(exc.value.message_dict) == ["curriculum"]
    other = create(world, code="other")
    other_version = v1(other)
    course(world, other_version, "O1", world.ua, "5")
    s.curriculum_submit(actor=leader(world), version=other_version)
    s.board_member_appoint(actor=who(world, "CA_admin"), programme=other, email=board.email, role="programme_board")
    s.curriculum_approve(actor=fresh(board), version=other_version)
    with pytest.raises(ValidationError, match="runs an approved curriculum version of its programme"):
        s.edition_save(actor=leader(world), programme=prog, data=edition_data(prog, other_version))
    assert not Edition.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"application_closes_at": dt.datetime(2026, 11, 1, 9, tzinfo=UTC)}, "application_closes_at",
         "Applications must close after they open"),
        ({"application_closes_at": dt.datetime(2026, 10, 1, tzinfo=UTC)}, "application_closes_at",
         "Applications must close after they open"),
        ({"application_closes_at": dt.datetime(2027, 2, 2, tzinfo=UTC)}, "application_closes_at",
         "Applications must close before the edition starts"),
        # 00:30 in Brussels on 1 February is still 31 January in UTC: the edition's own time zone decides.
        ({"starts_on": dt.date(2027, 1, 31), "application_closes_at":
          dt.datetime(2027, 2, 1, 0, 30, tzinfo=ZoneInfo("Europe/Brussels"))}, "application_closes_at",
         "Applications must close before the edition starts"),
        ({"ends_on": dt.date(2027, 1, 31)}, "ends_on", "cannot end before it starts"),
        ({"capacity": 0}, "capacity", "a capacity of 0 admits nobody"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Unknown time zone Mars/Olympus"),
        ({"intake_code": "not a slug"}, "intake_code", "valid"),
    ],
)
def test_edition_window_and_dates_are_validated(world, prog, board, overrides, field, message):
    version = approved_curriculum(world, prog, board)
    with pytest.raises(ValidationError, match=message) as exc:
        s.edition_save(actor=leader(world), programme=prog, data=edition_data(prog, version, **overrides))
    assert field in exc.value.message_dict
    assert not Edition.objects.exists()


def test_edition_without_capacity_limit_and_closing_on_the_start_day(world, prog, board):
    version = approved_curriculum(world, prog, board)
    edition = s.edition_save(actor=leader(world), programme=prog, data=edition_data(
        prog, version, capacity=None, application_closes_at=dt.datetime(2027, 2, 1, 12, tzinfo=UTC)))
    assert edition.capacity is None


def test_duplicate_intake_code_refused(world, prog, board):
    version = approved_curriculum(world, prog, board)
    s.edition_save(actor=leader(world), programme=prog, data=edition_data(prog, version))
    with pytest.raises(ValidationError, match="already exists"):
        s.edition_save(actor=leader(world), programme=prog, data=edition_data(prog, version))


def test_an_edition_is_saved_only_through_its_own_programme(world, prog, board):
    version = approved_curriculum(world, prog, board)
    edition = s.edition_save(actor=leader(world), programme=prog, data=edition_data(prog, version))
    mine = create(world, actor="CA_admin", code="mine")
    with pytest.raises(DomainError, match="belongs to another programme"):
        s.edition_save(actor=who(world, "CA_admin"), programme=mine, data={"capacity": 1}, edition=edition)
    edition.refresh_from_db()
    assert edition.capacity == 25


def test_opening_an_edition_requires_a_published_programme(world, prog, board):
    version = approved_curriculum(world, prog, board)
    edition = s.edition_save(actor=leader(world), programme=prog, data=edition_data(prog, version))
    with pytest.raises(TransitionError, match="Publish the programme before opening an edition"):
        s.edition_transition(actor=leader(world), edition=edition, target=EditionStatus.OPEN)
    edition.refresh_from_db()
    assert edition.status == EditionStatus.PLANNED


def test_edition_transition_table():
    expected = {"planned": {"open", "closed"}, "open": {"running", "closed"}, "running": {"closed"}, "closed": set()}
    assert expected == s.EDITION_TRANSITIONS


@pytest.mark.parametrize(("source", "target"), [
    (source, target) for source in EditionStatus for target in EditionStatus])
def test_edition_transitions(world, prog, board, source, target):
    version = approved_curriculum(world, prog, board)
    edition = s.edition_save(actor=leader(world), programme=prog, data=edition_data(prog, version))
    Programme.objects.filter(pk=prog.pk).update(status=ProgrammeStatus.PUBLISHED)
    Edition.objects.filter(pk=edition.pk).update(status=source)
    if target in s.EDITION_TRANSITIONS[source]:
        s.edition_transition(actor=leader(world), edition=edition, target=target)
        edition.refresh_from_db()
        assert edition.status == target
        assert events(f"edition.{target}", edition).get().changes == {"status": [source, target]}
    else:
        with pytest.raises(TransitionError, match=rf"The edition is {EditionStatus(source).label}; it cannot become"):
            s.edition_transition(actor=leader(world), edition=edition, target=target)
        edition.refresh_from_db()
        assert edition.status == source


def test_closed_edition_is_frozen_and_an_opened_one_keeps_its_curriculum(world, prog, board):
    old = approved_curriculum(world, prog, board)
    edition = s.edition_save(actor=leader(world), programme=prog, data=edition_data(prog, old))
    new = s.curriculum_version_start(actor=leader(world), programme=prog)
    s.curriculum_submit(actor=leader(world), version=new)
    s.curriculum_approve(actor=board, version=new)
    Edition.objects.filter(pk=edition.pk).update(status=EditionStatus.OPEN)
    with pytest.raises(TransitionError, match="curriculum of an edition that has opened cannot change"):
        s.edition_save(actor=leader(world), programme=prog, data={"curriculum": new}, edition=edition)
    assert s.edition_save(actor=leader(world), programme=prog, data={"capacity": 40}, edition=edition).capacity == 40
    Edition.objects.filter(pk=edition.pk).update(status=EditionStatus.CLOSED)
    with pytest.raises(TransitionError, match="A closed edition cannot be changed"):
        s.edition_save(actor=leader(world), programme=prog, data={"capacity": 50}, edition=edition)


def test_clone_edition_shifts_dates_and_takes_the_newest_approved_curriculum(world, prog, board):
    old = approved_curriculum(world, prog, board)
    edition = s.edition_save(actor=leader(world), programme=prog, data=edition_data(prog, old))
    Edition.objects.filter(pk=edition.pk).update(status=EditionStatus.CLOSED)
    new = s.curriculum_version_start(actor=leader(world), programme=prog)
    s.curriculum_submit(actor=leader(world), version=new)
    s.curriculum_approve(actor=board, version=new)
    edition.refresh_from_db()
    clone = s.edition_clone(actor=leader(world), edition=edition, intake_code="2028-spring")
    assert clone.pk != edition.pk
    assert (clone.intake_code, clone.status, clone.curriculum) == ("2028-spring", EditionStatus.PLANNED, new)
    assert clone.application_opens_at == edition.application_opens_at + dt.timedelta(days=365)
    assert clone.application_closes_at == edition.application_closes_at + dt.timedelta(days=365)
    assert (clone.starts_on, clone.ends_on) == (dt.date(2028, 2, 1), dt.date(2028, 4, 29))  # 2028 is a leap year
    assert (clone.capacity, clone.time_zone) == (edition.capacity, edition.time_zone)
    short = s.edition_clone(actor=leader(world), edition=edition, intake_code="2027-summer", shift_days=120)
    assert short.starts_on == dt.date(2027, 6, 1)
    with pytest.raises(ValidationError, match="already exists"):
        s.edition_clone(actor=leader(world), edition=edition, intake_code="2028-spring")


def test_edition_managed_only_by_the_leader_or_consortium_admin(world, prog, board):
    version = approved_curriculum(world, prog, board)
    s.team_member_add(actor=leader(world), programme=prog, email=world.people["UB_staff"].email, role="member")
    with pytest.raises(PermissionDenied, match=r"edition\.manage"):
        s.edition_save(actor=who(world, "UB_staff"), programme=prog, data=edition_data(prog, version))
    assert s.edition_save(actor=who(world, "CA_admin"), programme=prog, data=edition_data(prog, version)).pk


# --- Publication and archive ---------------------------------------------------------------------------------


def test_publish_refused_with_the_missing_checklist_items_then_allowed(world, prog, board):
    with pytest.raises(DomainError, match="cannot be published yet") as exc:
        s.programme_publish(actor=leader(world), programme=prog)
    details = list(exc.value.details)
    assert len(details) == 1
    assert details[0].startswith("Missing for the public page: Target group and objectives, Learning outcomes, "
                                 "Prerequisites, Assessment, ")
    assert details[0].endswith("Resources available, An approved curriculum.")
    for present in ("Mode of delivery", "Partners", "Contact", "Quality assurance", "Language,"):
        assert present not in details[0]
    prog.refresh_from_db()
    assert prog.status == ProgrammeStatus.DRAFT

    complete_for_publication(world, prog, board)
    assert s.publication_problems(prog) == []
    s.programme_publish(actor=leader(world), programme=prog)
    prog.refresh_from_db()
    assert prog.status == ProgrammeStatus.PUBLISHED
    with pytest.raises(TransitionError, match="already published"):
        s.programme_publish(actor=leader(world), programme=prog)


def test_publish_lists_only_what_is_still_missing(world, prog, board):
    approved_curriculum(world, prog, board)
    s.programme_text_save(actor=leader(world), programme=prog, language="en",
                          data={f: "x" for f in s.TEXT_FIELDS if f != "prerequisites"})
    with pytest.raises(DomainError) as exc:
        s.programme_publish(actor=leader(world), programme=prog)
    assert list(exc.value.details) == ["Missing for the public page: Learning outcomes, Prerequisites."]


def test_team_members_do_not_publish(world, prog, board):
    complete_for_publication(world, prog, board)
    s.team_member_add(actor=leader(world), programme=prog, email=world.people["UB_staff"].email, role="member")
    with pytest.raises(PermissionDenied, match=r"programme\.publish"):
        s.programme_publish(actor=who(world, "UB_staff"), programme=prog)


def test_archive_refused_while_an_edition_is_open(world, prog, board):
    complete_for_publication(world, prog, board)
    s.programme_publish(actor=leader(world), programme=prog)
    version = prog.curricula.get(status="approved")
    edition = s.edition_save(actor=leader(world), programme=prog, data=edition_data(prog, version))
    s.edition_transition(actor=leader(world), edition=edition, target=EditionStatus.OPEN)
    with pytest.raises(TransitionError, match="Close its open and running editions first"):
        s.programme_archive(actor=leader(world), programme=prog)
    s.edition_transition(actor=leader(world), edition=edition, target=EditionStatus.RUNNING)
    with pytest.raises(TransitionError, match="Close its open and running editions first"):
        s.programme_archive(actor=leader(world), programme=prog)
    s.edition_transition(actor=leader(world), edition=edition, target=EditionStatus.CLOSED)
    s.programme_archive(actor=leader(world), programme=prog)
    prog.refresh_from_db()
    assert prog.status == ProgrammeStatus.ARCHIVED
    with pytest.raises(TransitionError, match="already archived"):
        s.programme_archive(actor=leader(world), programme=prog)


# --- Clone ---------------------------------------------------------------------------------------------------


def test_programme_clone_copies_everything_as_a_new_draft(world, prog, board):
    target = create(world, actor="CA_admin", code="microdegree", ects=D("20"), qualification_type="microdegree")
    complete_for_publication(world, prog, board)
    s.outcome_add(actor=leader(world), programme=prog, category="skills", text="Apply timing analysis",
                  esco_uri="http://data.europa.eu/esco/skill/abc")
    s.stacking_set(actor=leader(world), programme=prog, targets=[target], stand_alone=False, external="MSc EE")
    s.programme_publish(actor=leader(world), programme=prog)
    s.curriculum_version_start(actor=leader(world), programme=prog)  # an open v2 is not what gets cloned
    s.course_remove(actor=leader(world), course=prog.curricula.get(number=2).courses.get(code="CD2"))

    clone = s.programme_clone(actor=leader(world), programme=prog, code="chip-design-2")
    assert (clone.code, clone.status, clone.ects, clone.external_stacking) == (
        "chip-design-2", ProgrammeStatus.DRAFT, D("5"), "MSc EE")
    assert clone.texts.get().title == "Chip design"
    assert clone.texts.get().resources == "Text for resources"
    assert list(clone.outcomes.values_list("category", "text", "esco_uri")) == list(
        prog.outcomes.values_list("category", "text", "esco_uri"))
    assert sorted(clone.partners.values_list("institution__short_name", "role")) == [("UA", "lead"),
                                                                                      ("UB", "partner")]
    assert list(StackingLink.objects.filter(programme=clone).values_list("target", flat=True)) == [target.id]
    version = clone.curricula.get()
    assert (version.number, version.status) == (1, CurriculumStatus.DRAFT)
    assert sorted(version.courses.values_list("code", "ects")) == [("CD1", D("3")), ("CD2", D("2"))]
    assert clone.team.get().user == world.people["UA_staff"]
    assert not clone.editions.exists()
    # The source is untouched.
    assert prog.texts.count() == 1 and prog.curricula.count() == 2
    assert events("programme.cloned", clone).get().changes == {"from": "chip-design"}


def test_programme_clone_needs_a_free_code(world, prog):
    with pytest.raises(ValidationError, match="already exists") as exc:
        s.programme_clone(actor=leader(world), programme=prog, code="chip-design")
    assert list(exc.value.message_dict) == ["code"]


def test_programme_clone_refused_outside_the_team(world, prog):
    with pytest.raises(PermissionDenied):
        s.programme_clone(actor=who(world, "UB_staff"), programme=prog, code="copy")


# --- Overlaps -------------------------------------------------------------------------------------------------


def test_overlaps_flagged_on_both_programmes(world, prog):
    other = create(world, actor="CA_admin", code="other")
    unrelated = create(world, actor="CA_admin", code="unrelated")
    elsewhere = s.programme_create(
        actor=who(world, "UC_staff"), consortium=world.cb,
        data=programme_data(world, code="elsewhere", lead_institution=world.uc, issuing_institution=world.uc),
        title="Elsewhere", qualification_name="Q")
    assert s.overlaps(prog) == []

    course(world, v1(prog), "SHARED", world.ub, "2")
    s.course_save(actor=who(world, "CA_admin"), version=v1(other), data={
        "code": "SHARED", "title": "Same course", "provider": world.ub, "ects": D("2"),
        "assessment_method": "assignment", "supervision": "unsupervised"})
    # Same code at another provider is not the same course.
    course(world, v1(prog), "SAMECODE", world.ua, "1")
    s.course_save(actor=who(world, "CA_admin"), version=v1(unrelated), data={
        "code": "SAMECODE", "title": "Different", "provider": world.ub, "ects": D("1"),
        "assessment_method": "assignment", "supervision": "unsupervised"})
    CourseFactory(version=v1(elsewhere), code="SHARED", provider=world.ub)

    uri = "http://data.europa.eu/esco/skill/timing"
    s.outcome_add(actor=leader(world), programme=prog, category="skills", text="Apply timing analysis", esco_uri=uri)
    s.outcome_add(actor=who(world, "CA_admin"), programme=other, category="skills", text="Analyse timing", esco_uri=uri)
    s.outcome_add(actor=leader(world), programme=prog, category="knowledge", text="Explain the design flow")
    s.outcome_add(actor=who(world, "CA_admin"), programme=other, category="knowledge",
                  text="  explain the DESIGN flow ")
    s.outcome_add(actor=who(world, "CA_admin"), programme=unrelated, category="knowledge", text="Something else")
    s.outcome_add(actor=who(world, "UC_staff"), programme=elsewhere, category="skills", text="Apply timing analysis",
                  esco_uri=uri)

    mine = s.overlaps(prog)
    assert [o["programme"] for o in mine] == [other]
    assert mine[0]["courses"] == ["SHARED"]
    assert mine[0]["outcomes"] == ["  explain the DESIGN flow ", "Analyse timing"]
    theirs = s.overlaps(other)
    assert [o["programme"] for o in theirs] == [prog]
    assert theirs[0]["courses"] == ["SHARED"]
    assert theirs[0]["outcomes"] == ["Apply timing analysis", "Explain the design flow"]
    assert s.overlaps(unrelated) == []
    assert s.overlaps(elsewhere) == []


# --- Audit trail ------------------------------------------------------------------------------------------------


def test_changes_are_recorded_in_the_audit_trail_of_the_consortium(world, prog, board):
    s.programme_update(actor=leader(world), programme=prog, data={"eqf_level": 7})
    version = approved_curriculum(world, prog, board)
    s.programme_text_save(actor=leader(world), programme=prog, language="en",
                          data={f: "x" for f in s.TEXT_FIELDS})
    s.outcome_add(actor=leader(world), programme=prog, category="knowledge", text="Outcome")
    s.programme_publish(actor=leader(world), programme=prog)

    for action, obj, actor, changes in [
        ("programme.created", prog, world.people["UA_staff"], {"code": "chip-design", "title": "Chip design"}),
        ("programme.updated", prog, world.people["UA_staff"], {"eqf_level": [6, 7]}),
        ("curriculum.approved", version, board, {"status": ["submitted", "approved"], "comment": "Fine."}),
        ("programme.published", prog, world.people["UA_staff"], {"status": ["draft", "published"]}),
    ]:
        event = events(action, obj).get()
        assert (event.consortium_id, event.institution_id) == (world.ca.id, world.ua.id), action
        assert (event.actor, event.actor_label) == (actor, actor.email), action
        assert event.changes == changes, action
    assert events("programme.team_member_added", prog).get().changes == {
        "user": world.people["UA_staff"].email, "role": "leader"}
    assert events("curriculum.course_saved", version).count() == 2
    assert AuditEvent.objects.filter(action="role.granted", changes__role="team_leader").exists()


def test_refused_changes_leave_no_trace(world, prog):
    with pytest.raises(ValidationError):
        s.programme_update(actor=leader(world), programme=prog, data={"eqf_level": 9})
    assert not events("programme.updated").exists()
    assert Course.objects.count() == 0

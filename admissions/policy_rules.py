"""Who may see and decide what in the joint admission procedure (see docs/privacy.md).

- Learners see and act on their own applications only.
- The reviewing institution's student administrators (and its partner system) review every application of
  the edition and see the documents.
- Student administrators of the other participating institutions, the team leader and consortium
  administrators follow the applications; they see documents only once a decision is made.
"""

from django.db.models import Q

from consortium.api import ExternalIdKind, Role, User, identifiers, policy
from programmes.api import Edition, Programme

from .models import Application, ApplicationStatus, Enrolment, ExemptionRequest, InstitutionRegistration

Actor = policy.Actor
SA = Role.STUDENT_ADMIN
DECIDED = {ApplicationStatus.ADMITTED, ApplicationStatus.WAITLISTED, ApplicationStatus.REJECTED,
           ApplicationStatus.OFFER_ACCEPTED, ApplicationStatus.AWAITING_PAYMENT, ApplicationStatus.ENROLLED,
           ApplicationStatus.SUSPENDED, ApplicationStatus.COMPLETED, ApplicationStatus.DECLINED,
           ApplicationStatus.LAPSED}


def _edition(obj) -> Edition | None:
    if isinstance(obj, Edition):
        return obj
    if isinstance(obj, Application):
        return obj.edition
    if isinstance(obj, (InstitutionRegistration,)):
        return obj.enrolment.edition
    if isinstance(obj, ExemptionRequest):
        return obj.application.edition
    return getattr(obj, "edition", None)


def _reviewing_institution_id(edition: Edition):
    framework = getattr(edition, "admission_framework", None)
    return framework.reviewing_institution_id if framework else None


def _student_admin_of(actor: Actor) -> set:
    return actor.institutions_with_role(SA) | (set(actor.institution_ids) if actor.is_partner_system else set())


def _follows(actor: Actor, edition: Edition) -> bool:
    """Staff who follow the applications of an edition (without deciding)."""
    programme = edition.programme
    if actor.has_role(Role.CONSORTIUM_ADMIN, consortium=programme.consortium_id):
        return True
    if actor.has_role(Role.TEAM_LEADER, target=programme.id):
        return True
    institutions = _student_admin_of(actor)
    # Iterate the partners rather than ask the database: lists prefetch them, so checking every row of a
    # page costs no query per row (and a programme has a handful of partners when they are not prefetched).
    return bool(institutions) and any(p.institution_id in institutions for p in programme.partners.all())


@policy.rule("application.apply")
def _apply(actor: Actor, edition) -> bool:
    return actor.is_authenticated and not actor.is_partner_system


@policy.rule("application.edit")
def _edit(actor: Actor, application) -> bool:
    """The applicant's own draft and answers."""
    if application is None:
        return not actor.is_partner_system
    return actor.user is not None and application.applicant_id == getattr(actor.user, "pk", None)


@policy.rule("application.respond")
def _respond(actor: Actor, application) -> bool:
    """The applicant accepts or declines an offer, withdraws, asks for exemptions."""
    return _edit(actor, application)


@policy.rule("application.view", api_scope="applications:read")
def _view(actor: Actor, obj) -> bool:
    if obj is None:
        return bool(_student_admin_of(actor) or actor.targets_with_role(Role.TEAM_LEADER)
                    or actor.consortia_with_role(Role.CONSORTIUM_ADMIN))
    if isinstance(obj, Application) and _edit(actor, obj):
        return True
    edition = _edition(obj)
    return edition is not None and (_follows(actor, edition)
                                    or _reviewing_institution_id(edition) in _student_admin_of(actor))


@policy.scope("application.view")
def _view_scope(actor: Actor, qs):
    institutions = _student_admin_of(actor)
    programmes = Programme.objects.filter(
        Q(partners__institution_id__in=institutions)
        | Q(id__in=actor.targets_with_role(Role.TEAM_LEADER))
        | Q(consortium_id__in=actor.consortia_with_role(Role.CONSORTIUM_ADMIN))).values("id")
    prefix = {"Application": "edition__", "Enrolment": "edition__", "InstitutionRegistration": "enrolment__edition__",
              "ExemptionRequest": "application__edition__"}.get(qs.model.__name__, "")
    # An ``IN (subquery)`` on a forward foreign key repeats no row: no DISTINCT, which on a list of applications made
    # PostgreSQL sort every visible row with all its columns (and count them the same way) to serve a page of 50.
    return qs.filter(**{f"{prefix}programme_id__in": programmes})


@policy.rule("application.review", api_scope="applications:write")
def _review(actor: Actor, obj) -> bool:
    """Decisions belong to the reviewing institution (one institution reviews everyone, D4)."""
    if obj is None:
        return bool(_student_admin_of(actor))
    edition = _edition(obj)
    return edition is not None and _reviewing_institution_id(edition) in _student_admin_of(actor)


def importing_institution_ids(actor: Actor) -> set:
    """The institutions for which the actor brings in applicants: those where it is a student administrator, or its
    partner system's institution."""
    return _student_admin_of(actor)


@policy.rule("application.import", api_scope="applications:write")
def _import(actor: Actor, obj) -> bool:
    """Partners import the applicants they collected (bulk exchange): the student administrators of an institution
    taking part in the programme, or its partner system. The reviewing institution still reviews every one."""
    institutions = importing_institution_ids(actor)
    if obj is None:
        return bool(institutions)
    edition = _edition(obj)
    return edition is not None and bool(institutions) and any(
        p.institution_id in institutions for p in edition.programme.partners.all())


@policy.rule("application.documents", api_scope="applications:read")
def _documents(actor: Actor, application) -> bool:
    """Documents are private to the applicant and the reviewing institution until a decision is made."""
    if application is None:
        return False
    if _edit(actor, application) or _review(actor, application):
        return True
    return application.status in DECIDED and _view(actor, application)


@policy.rule("admissions.configure")
def _configure(actor: Actor, edition) -> bool:
    if edition is None:
        return bool(actor.targets_with_role(Role.TEAM_LEADER) or actor.consortia_with_role(Role.CONSORTIUM_ADMIN))
    programme = edition.programme
    return (actor.has_role(Role.TEAM_LEADER, target=programme.id)
            or actor.has_role(Role.CONSORTIUM_ADMIN, consortium=programme.consortium_id))


@policy.rule("enrolment.view", api_scope="enrolments:read")
def _enrolment_view(actor: Actor, obj) -> bool:
    return _view(actor, obj)


@policy.scope("enrolment.view")
def _enrolment_scope(actor: Actor, qs):
    return _view_scope(actor, qs)


@policy.rule("registration.update", api_scope="enrolments:write")
def _registration_update(actor: Actor, registration) -> bool:
    """Each institution reports its own registrations (its partner system or its student administrators)."""
    if registration is None:
        return bool(_student_admin_of(actor))
    return registration.institution_id in _student_admin_of(actor)


@policy.rule("exemption.decide")
def _exemption_decide(actor: Actor, exemption) -> bool:
    """The examination board of the programme, or an examiner of the course."""
    if exemption is None:
        return bool(actor.targets_with_role(Role.EXAM_BOARD, Role.EXAMINER))
    programme_id = exemption.application.edition.programme_id
    return actor.has_role(Role.EXAM_BOARD, target=programme_id) or actor.has_role(Role.EXAMINER,
                                                                                  target=exemption.course_id)


# --- External ids (consortium.identifiers): on the learners and enrolments an institution may see -------------------


def _visible_learners(user):
    """Applicants of the submitted applications the caller follows (drafts are the learners' own)."""
    applications = policy.filter(user, "application.view",
                                 Application.objects.exclude(status=ApplicationStatus.DRAFT))
    return User.objects.filter(pk__in=applications.values("applicant_id"))


identifiers.register_kind(ExternalIdKind.LEARNER, visible=_visible_learners)
identifiers.register_kind(
    ExternalIdKind.ENROLMENT, visible=lambda user: policy.filter(user, "enrolment.view", Enrolment.objects.all())
)

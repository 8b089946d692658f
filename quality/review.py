"""The annual quality review (D8, D10): a programme's review per academic year, its findings, the improvement plan,
the programme board's decision and the PDF report.

Writes are one function per action, each in ``transaction.atomic`` with the review row locked (then the action's,
for an action of the plan: always in that order), checked by the policy and recorded in the audit trail. The
lifecycle is one table, ``REVIEW_TRANSITIONS``, which also says who makes each move:

* draft / returned → submitted: the team (``quality.manage``: team leader, consortium administrators, the lead
  institution's quality-assurance officers), once the review has at least one finding. Submitting freezes the
  evidence (``quality.evidence``) on the review and tells the programme board by email;
* submitted → approved or returned: the programme board (``review.decide``: its members, never the programme's
  team leader), not the person who submitted it. Approving queues the final PDF; returning (comments required)
  drops the freeze, so the evidence is live again while the team revises. Until the team submits it again, the
  review keeps who returned it, when, and the comments; submitting clears them (the audit trail keeps every return).

Findings, the plan's actions and the summary change only while the review is a draft or returned. The actions'
progress (``ACTION_TRANSITIONS``: planned → in progress → done, or dropped with a reason) is followed up at any
time, after approval too: that is what the plan is for. The approved report keeps the plan as it was approved.

Reports (``ReviewReport``): a draft on request by anyone who sees the review (marked DRAFT; a newer one replaces
it), the final one when the board approves. Each holds the content it shows, frozen when it is asked for, and is
rendered once by ``quality.tasks.review_report_render`` after commit (in-process when Celery runs eagerly).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Mapping
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consortium.api import DomainError, RoleAssignment, TransitionError, audit, policy, save_validated
from programmes.api import Programme, in_partnership

from . import evidence as ev
from .models import (
    REVIEW_YEAR_MIN,
    ActionStatus,
    Finding,
    ImprovementAction,
    QualityReview,
    ReportStatus,
    ReviewReport,
    ReviewStatus,
    academic_year_label,
    academic_year_of,
)
from .models.review import OPEN_ACTION_STATUSES
from .saving import record, save_checked

logger = logging.getLogger(__name__)

R = ReviewStatus
A = ActionStatus

#: Who makes each move of a review: {from: {to: policy action}}.
REVIEW_TRANSITIONS: dict[str, dict[str, str]] = {
    R.DRAFT: {R.SUBMITTED: "quality.manage"},
    R.RETURNED: {R.SUBMITTED: "quality.manage"},
    R.SUBMITTED: {R.APPROVED: "review.decide", R.RETURNED: "review.decide"},
    R.APPROVED: {},
}
#: The moves of an improvement action (each by ``quality.manage``).
ACTION_TRANSITIONS: dict[str, set[str]] = {
    A.PLANNED: {A.IN_PROGRESS, A.DONE, A.DROPPED},
    A.IN_PROGRESS: {A.DONE, A.DROPPED},
    A.DONE: set(),
    A.DROPPED: set(),
}
#: The transition names used in URLs and buttons → the target status.
ACTION_MOVES = {"start": A.IN_PROGRESS, "complete": A.DONE, "drop": A.DROPPED}

FINDING_FIELDS = ("kind", "theme", "text")
ACTION_FIELDS = ("title", "description", "owner", "owner_institution", "due_on", "finding")
REPORT_SCHEMA = 1

NOT_EDITABLE = gettext_lazy("The review is with the programme board or approved: its summary, findings and "
                            "improvement plan no longer change. The board can return it to the team.")
YEAR_RANGE = gettext_lazy("Choose an academic year from %(first)s to %(last)s.")
REVIEW_EXISTS = gettext_lazy("The programme already has a quality review for %(year)s.")
NO_FINDINGS = gettext_lazy("Add at least one finding before submitting the review to the programme board.")
OWN_SUBMISSION = gettext_lazy("You submitted this review; another member of the programme board decides on it.")
COMMENT_REQUIRED = gettext_lazy("Say what the team should change: comments are required when returning a review.")
REVIEW_MOVES = {
    (R.SUBMITTED, R.SUBMITTED): gettext_lazy("The review is with the programme board already."),
    (R.APPROVED, R.SUBMITTED): gettext_lazy("The review is approved: it no longer changes."),
    (R.APPROVED, R.APPROVED): gettext_lazy("The review is approved already."),
    (R.APPROVED, R.RETURNED): gettext_lazy("The review is approved: it can no longer be returned."),
}
NOT_SUBMITTED = gettext_lazy("Only a review submitted to the programme board can be approved or returned.")
ACTION_MOVE_REFUSED = {
    A.DONE: gettext_lazy("This action is done already."),
    A.DROPPED: gettext_lazy("This action was dropped; add a new one if it is needed again."),
    A.IN_PROGRESS: gettext_lazy("This action is in progress already."),
}
DROP_REASON = gettext_lazy("Say why the action is dropped.")
UNKNOWN_MOVE = gettext_lazy("Unknown step for an action.")
FINDING_OTHER_REVIEW = gettext_lazy("Choose a finding of this review.")
OWNER_INSTITUTION = gettext_lazy("Choose the lead or a partner institution of the programme.")
REPORT_PENDING = gettext_lazy("A PDF of this review is being prepared; it will be ready shortly.")
FINAL_READY = gettext_lazy("The review is approved and its final report is ready to download.")
NULL_CHARACTER = gettext_lazy("The text contains a null character, which is not accepted.")


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) and getattr(actor, "pk", None) else None


def _clean_text(errors: dict[str, list[str]], name: str, value: Any) -> str:
    text = str(value or "").strip()
    if "\x00" in text:
        errors.setdefault(name, []).append(str(NULL_CHARACTER))
    return text


# --- Years ---------------------------------------------------------------------------------------------------------


def years_allowed(*, today: dt.date | None = None) -> range:
    """The academic years a review may be started for: from ``REVIEW_YEAR_MIN`` to the next academic year."""
    return range(REVIEW_YEAR_MIN, academic_year_of(today or timezone.localdate()) + 2)


def years_to_start(programme: Programme, *, today: dt.date | None = None) -> list[int]:
    """Suggested years for a new review, newest first: the current academic year and those in which an edition of
    the programme ended or ends, without the years that have a review (two queries)."""
    allowed = years_allowed(today=today)
    current = academic_year_of(today or timezone.localdate())
    years = {academic_year_of(day) for day in programme.editions.values_list("ends_on", flat=True)} | {current}
    taken = set(QualityReview.objects.filter(programme=programme).values_list("year", flat=True))
    return sorted((y for y in years - taken if y in allowed), reverse=True)


# --- Reviews -------------------------------------------------------------------------------------------------------


def _locked(review: QualityReview) -> QualityReview:
    return (QualityReview.objects.select_for_update(of=("self",))
            .select_related("programme__consortium", "programme__lead_institution").get(pk=review.pk))


def _editable(review: QualityReview) -> None:
    if not review.editable:
        raise TransitionError(str(NOT_EDITABLE))


@transaction.atomic
def review_create(*, actor, programme: Programme, year: int) -> QualityReview:
    """Start the programme's review of academic ``year`` (2026: 2026/27). One per programme and year."""
    policy.require(actor, "quality.manage", programme)
    allowed = years_allowed()
    if not isinstance(year, int) or isinstance(year, bool) or year not in allowed:
        raise ValidationError({"year": [str(YEAR_RANGE) % {"first": allowed[0], "last": allowed[-1]}]})
    if QualityReview.objects.filter(programme=programme, year=year).exists():
        raise ValidationError({"year": [str(REVIEW_EXISTS) % {"year": academic_year_label(year)}]})
    review = QualityReview(programme=programme, year=year)
    save_validated(review)
    record(actor, "review.created", review, programme, {"year": year})
    return review


@transaction.atomic
def review_update(*, actor, review: QualityReview, data: Mapping[str, Any]) -> QualityReview:
    """Change the team's summary and conclusions (while the team holds the review)."""
    review = _locked(review)
    policy.require(actor, "quality.manage", review)
    _editable(review)
    errors: dict[str, list[str]] = {}
    before = audit.snapshot(review, ("summary",))
    if "summary" in data:
        review.summary = _clean_text(errors, "summary", data["summary"])
    save_checked(review, errors, update_fields=("summary",))
    changes = audit.diff(before, audit.snapshot(review, ("summary",)))
    if changes:
        record(actor, "review.updated", review, review.programme, changes)
    return review


def review_evidence(review: QualityReview) -> ev.Evidence:
    """The review's evidence: as frozen when it was submitted, else computed now."""
    if review.evidence is not None:
        return ev.from_json(review.evidence)
    return ev.review_evidence(programme=review.programme, year=review.year)


def _allowed(actor, review: QualityReview, target: str) -> None:
    """The one check of a review's moves: the actor may make this move (``REVIEW_TRANSITIONS`` says who), and the
    review's status allows it."""
    action = next(moves[target] for moves in REVIEW_TRANSITIONS.values() if target in moves)
    policy.require(actor, action, review)
    if target not in REVIEW_TRANSITIONS[review.status]:
        if target in (R.APPROVED, R.RETURNED) and review.status in (R.DRAFT, R.RETURNED):
            raise TransitionError(str(NOT_SUBMITTED))
        raise TransitionError(str(REVIEW_MOVES.get((review.status, target), NOT_SUBMITTED)))


def _move(actor, review: QualityReview, target: str, changes: Mapping[str, Any] | None = None) -> None:
    _allowed(actor, review, target)
    before = review.status
    review.status = target
    review.save()
    record(actor, f"review.{target}", review, review.programme, {"status": [before, target], **(changes or {})})


@transaction.atomic
def review_submit(*, actor, review: QualityReview) -> QualityReview:
    """The team submits the review to the programme board: the evidence is frozen as it is now."""
    review = _locked(review)
    _allowed(actor, review, R.SUBMITTED)
    if not review.findings.exists():
        raise TransitionError(str(NO_FINDINGS))
    now = timezone.now()
    evidence = ev.review_evidence(programme=review.programme, year=review.year, now=now)
    review.evidence = ev.to_json(evidence)
    review.evidence_frozen_at = now
    review.submitted_at = now
    review.submitted_by = _user(actor)
    # A re-submitted review waits for a new decision: the return (its comments are in the audit trail) is over.
    review.decided_at, review.decided_by, review.board_comment = None, None, ""
    _move(actor, review, R.SUBMITTED, {"editions": len(evidence.editions), "findings": review.findings.count(),
                                       "actions": review.actions.count()})
    _notify_board(review)
    return review


def _notify_board(review: QualityReview) -> None:
    """Email the programme's board members after commit: a review waits for their decision."""
    programme = review.programme
    emails = sorted({a.user.email for a in RoleAssignment.objects.filter(
        role="programme_board", target_id=programme.pk).select_related("user") if a.user.email and a.user.is_active})
    if not emails:
        return
    link = f"{settings.PUBLIC_BASE_URL}{reverse('review-detail', args=[review.pk])}"
    with translation.override(programme.primary_language):
        subject = _("Quality review %(year)s of %(programme)s: for the board's decision") % {
            "year": review.year_label, "programme": programme.title}
        body = _("Hello,\n\nThe team of %(programme)s submitted its annual quality review %(year)s to the programme "
                 "board. Read the evidence, the findings and the improvement plan, then approve the review or "
                 "return it with your comments:\n%(link)s\n") % {
            "programme": programme.title, "year": review.year_label, "link": link}
    transaction.on_commit(partial(send_mail, subject, body, None, emails, fail_silently=True), robust=True)


def _decision(actor, review: QualityReview, target: str, comment: Any) -> str:
    _allowed(actor, review, target)
    if _user(actor) is not None and review.submitted_by_id == actor.pk:
        raise DomainError(str(OWN_SUBMISSION))
    errors: dict[str, list[str]] = {}
    comment = _clean_text(errors, "comment", comment)
    if target == R.RETURNED and not comment:
        errors.setdefault("comment", []).append(str(COMMENT_REQUIRED))
    if errors:
        raise ValidationError(errors)
    review.decided_at = timezone.now()
    review.decided_by = _user(actor)
    review.board_comment = comment
    return comment


@transaction.atomic
def review_approve(*, actor, review: QualityReview, comment: str = "") -> QualityReview:
    """The programme board approves the review: it is final, and its report is rendered."""
    review = _locked(review)
    comment = _decision(actor, review, R.APPROVED, comment)
    _move(actor, review, R.APPROVED, {"comment": comment} if comment else None)
    report = ReviewReport.objects.create(review=review, final=True, requested_by=_user(actor),
                                         content=report_content(review, final=True))
    _queue(report)
    return review


@transaction.atomic
def review_return(*, actor, review: QualityReview, comment: str) -> QualityReview:
    """The programme board returns the review to the team with comments; the evidence is live again."""
    review = _locked(review)
    comment = _decision(actor, review, R.RETURNED, comment)
    review.evidence = None
    review.evidence_frozen_at = None
    _move(actor, review, R.RETURNED, {"comment": comment})
    return review


def review_rows(programme: Programme):
    """The programme's reviews, newest year first, with their counts (one query)."""
    today = timezone.localdate()
    return (QualityReview.objects.filter(programme=programme).order_by("-year")
            .annotate(finding_count=Count("findings", distinct=True),
                      action_count=Count("actions", distinct=True),
                      open_count=Count("actions", filter=Q(actions__status__in=OPEN_ACTION_STATUSES), distinct=True),
                      overdue_count=Count("actions", filter=Q(actions__status__in=OPEN_ACTION_STATUSES,
                                                              actions__due_on__lt=today), distinct=True)))


# --- Findings ------------------------------------------------------------------------------------------------------


def _take_finding(finding: Finding, data: Mapping[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    for name in FINDING_FIELDS:
        if name in data:
            value = _clean_text(errors, name, data[name]) if name == "text" else data[name]
            setattr(finding, name, value)
    save_checked(finding, errors, update_fields=None if finding._state.adding else FINDING_FIELDS)


@transaction.atomic
def finding_add(*, actor, review: QualityReview, data: Mapping[str, Any]) -> Finding:
    """A finding at the end of the review's list (``data``: kind, theme, text)."""
    review = _locked(review)
    policy.require(actor, "quality.manage", review)
    _editable(review)
    last = review.findings.order_by("-position").values_list("position", flat=True).first()
    finding = Finding(review=review, position=0 if last is None else last + 1)
    _take_finding(finding, data)
    record(actor, "review.finding_added", finding, review.programme, audit.snapshot(finding, FINDING_FIELDS))
    return finding


@transaction.atomic
def finding_update(*, actor, finding: Finding, data: Mapping[str, Any]) -> Finding:
    review = _locked(finding.review)
    policy.require(actor, "quality.manage", review)
    _editable(review)
    finding = Finding.objects.get(pk=finding.pk)
    before = audit.snapshot(finding, FINDING_FIELDS)
    _take_finding(finding, data)
    changes = audit.diff(before, audit.snapshot(finding, FINDING_FIELDS))
    if changes:
        record(actor, "review.finding_changed", finding, review.programme, changes)
    return finding


@transaction.atomic
def finding_remove(*, actor, finding: Finding) -> None:
    """Remove a finding; the actions that answered it stay in the plan, unlinked."""
    review = _locked(finding.review)
    policy.require(actor, "quality.manage", review)
    _editable(review)
    finding = Finding.objects.get(pk=finding.pk)
    record(actor, "review.finding_removed", finding, review.programme, audit.snapshot(finding, FINDING_FIELDS))
    finding.delete()


# --- The improvement plan ------------------------------------------------------------------------------------------


def _action_snapshot(action: ImprovementAction) -> dict[str, Any]:
    return {**audit.snapshot(action, ("title", "description", "owner", "due_on")),
            "owner_institution": str(action.owner_institution_id) if action.owner_institution_id else None,
            "finding": str(action.finding_id) if action.finding_id else None}


def _take_action(action: ImprovementAction, review: QualityReview, data: Mapping[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    for name in ACTION_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name in ("title", "description", "owner"):
            value = _clean_text(errors, name, value)
        setattr(action, name, value)
    if action.finding_id and not Finding.objects.filter(pk=action.finding_id, review=review).exists():
        errors.setdefault("finding", []).append(str(FINDING_OTHER_REVIEW))
    if action.owner_institution_id and not in_partnership(review.programme, action.owner_institution_id):
        errors.setdefault("owner_institution", []).append(str(OWNER_INSTITUTION))
    # An existing action: what it is, never its progress (a transition may have moved it meanwhile).
    save_checked(action, errors, update_fields=None if action._state.adding else ACTION_FIELDS)


@transaction.atomic
def action_add(*, actor, review: QualityReview, data: Mapping[str, Any]) -> ImprovementAction:
    """An action of the improvement plan (``data``: title, owner, due_on, and optionally description,
    owner_institution, finding)."""
    review = _locked(review)
    policy.require(actor, "quality.manage", review)
    _editable(review)
    last = review.actions.order_by("-position").values_list("position", flat=True).first()
    action = ImprovementAction(review=review, position=0 if last is None else last + 1)
    _take_action(action, review, data)
    record(actor, "review.action_added", action, review.programme, _action_snapshot(action))
    return action


@transaction.atomic
def action_update(*, actor, action: ImprovementAction, data: Mapping[str, Any]) -> ImprovementAction:
    """Change what an action is (not its progress: see the transitions), while the team holds the review."""
    review = _locked(action.review)
    policy.require(actor, "quality.manage", review)
    _editable(review)
    action = _locked_action(action)
    before = _action_snapshot(action)
    _take_action(action, review, data)
    changes = audit.diff(before, _action_snapshot(action))
    if changes:
        record(actor, "review.action_changed", action, review.programme, changes)
    return action


def _locked_action(action: ImprovementAction) -> ImprovementAction:
    """The action's row, locked; its review's row is locked first (``_locked``), by every writer of actions."""
    return (ImprovementAction.objects.select_for_update(of=("self",))
            .select_related("review__programme").get(pk=action.pk))


#: What a transition of an action writes (``_move_action``); what the action is stays as ``action_update`` left it.
ACTION_PROGRESS_FIELDS = ("status", "started_at", "done_at", "dropped_at", "dropped_reason")


def _move_action(actor, action: ImprovementAction, target: str, reason: Any = None) -> ImprovementAction:
    """The one place an action changes status (``ACTION_TRANSITIONS``). Locks as ``action_update`` does: the
    review, then the action."""
    _locked(QualityReview(pk=action.review_id))
    action = _locked_action(action)
    policy.require(actor, "quality.manage", action)
    if target not in ACTION_TRANSITIONS[action.status]:
        raise TransitionError(str(ACTION_MOVE_REFUSED.get(action.status, UNKNOWN_MOVE)))
    changes: dict[str, Any] = {}
    if target == A.DROPPED:
        errors: dict[str, list[str]] = {}
        reason = _clean_text(errors, "reason", reason)
        if not reason:
            errors.setdefault("reason", []).append(str(DROP_REASON))
        if errors:
            raise ValidationError(errors)
        changes["reason"] = reason
    now = timezone.now()
    before = action.status
    action.status = target
    if target == A.IN_PROGRESS:
        action.started_at = now
    elif target == A.DONE:
        action.done_at = now
        action.started_at = action.started_at or now
    elif target == A.DROPPED:
        action.dropped_at = now
        action.dropped_reason = reason
    action.save(update_fields=[*ACTION_PROGRESS_FIELDS, "updated_at"])
    record(actor, f"review.action_{target}", action, action.review.programme,
            {"status": [before, target], **changes})
    return action


@transaction.atomic
def action_start(*, actor, action: ImprovementAction) -> ImprovementAction:
    return _move_action(actor, action, A.IN_PROGRESS)


@transaction.atomic
def action_complete(*, actor, action: ImprovementAction) -> ImprovementAction:
    return _move_action(actor, action, A.DONE)


@transaction.atomic
def action_drop(*, actor, action: ImprovementAction, reason: str) -> ImprovementAction:
    """Drop an action that will not be carried out, saying why (kept in the plan, struck out)."""
    return _move_action(actor, action, A.DROPPED, reason=reason)


@transaction.atomic
def action_transition(*, actor, action: ImprovementAction, move: str, reason: str = "") -> ImprovementAction:
    """One of ``ACTION_MOVES`` by its name (the buttons of the plan); ``reason`` only matters for a drop."""
    target = ACTION_MOVES.get(move) if isinstance(move, str) else None
    if target is None:
        raise DomainError(str(UNKNOWN_MOVE))
    return _move_action(actor, action, target, reason=reason)


# --- Reports -------------------------------------------------------------------------------------------------------


def _name(user) -> str:
    return (getattr(user, "full_name", "") or getattr(user, "email", "")) if user else ""


def _when(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def report_content(review: QualityReview, *, final: bool, now: dt.datetime | None = None) -> dict[str, Any]:
    """Everything the review's PDF shows, as JSON (labels in the programme's primary language): the review, the
    evidence (frozen, or computed now for a draft), the findings and the improvement plan."""
    now = now or timezone.now()
    programme = review.programme
    evidence = review_evidence(review)
    findings = list(review.findings.order_by("position", "created_at"))
    actions = list(review.actions.select_related("owner_institution", "finding").order_by("position", "created_at"))
    today = timezone.localdate(now)
    numbers = {f.pk: n for n, f in enumerate(findings, start=1)}
    with translation.override(programme.primary_language):
        return {
            "schema": REPORT_SCHEMA,
            "final": final,
            "language": programme.primary_language,
            "generated_at": _when(now),
            "review": {
                "id": str(review.pk), "year": review.year, "year_label": review.year_label,
                "programme_title": programme.title, "programme_code": programme.code,
                "consortium": programme.consortium.name, "lead_institution": programme.lead_institution.legal_name,
                "status": review.status, "status_label": str(R(review.status).label), "summary": review.summary,
                "submitted_at": _when(review.submitted_at), "submitted_by": _name(review.submitted_by),
                "decided_at": _when(review.decided_at), "decided_by": _name(review.decided_by),
                "board_comment": review.board_comment, "evidence_frozen_at": _when(review.evidence_frozen_at),
            },
            "evidence": ev.to_json(evidence),
            "findings": [{"number": numbers[f.pk], "kind": f.kind, "kind_label": f.get_kind_display(),
                          "theme": f.theme, "theme_label": f.get_theme_display(), "text": f.text} for f in findings],
            "actions": [{"title": a.title, "description": a.description, "owner": a.owner,
                         "owner_institution": a.owner_institution.short_name if a.owner_institution else "",
                         "due_on": a.due_on.isoformat(), "status": a.status, "status_label": a.get_status_display(),
                         "overdue": a.is_overdue(today), "finding": numbers.get(a.finding_id)} for a in actions],
        }


def _queue(report: ReviewReport) -> None:
    from .tasks import review_report_render

    review_report_render.delay_on_commit(str(report.pk))


def current_report(review: QualityReview) -> ReviewReport | None:
    """The report the review's page offers: the final one once approved, else the latest draft."""
    reports = ReviewReport.objects.filter(review=review)
    return reports.filter(final=True).first() or reports.filter(final=False).order_by("-created_at").first()


def _stale(report: ReviewReport) -> bool:
    """Still queued long after it was asked for: its message was lost (a broker outage); it may be sent again."""
    after = dt.timedelta(seconds=getattr(settings, "DOCUMENT_SWEEP_AFTER", 600))
    return report.status == ReportStatus.QUEUED and report.updated_at < timezone.now() - after


@transaction.atomic
def report_request(*, actor, review: QualityReview) -> ReviewReport:
    """A PDF of the review now: a draft (replacing the previous draft) while it is not approved; for an approved
    review, the final report again if its rendering failed or was lost."""
    review = _locked(review)
    policy.require(actor, "review.view", review)
    if review.status == R.APPROVED:
        final = ReviewReport.objects.select_for_update().filter(review=review, final=True).first()
        if final is None:
            final = ReviewReport.objects.create(review=review, final=True, requested_by=_user(actor),
                                                content=report_content(review, final=True))
        elif final.status == ReportStatus.READY:
            raise TransitionError(str(FINAL_READY))
        elif final.status == ReportStatus.QUEUED and not _stale(final):
            raise TransitionError(str(REPORT_PENDING))
        else:
            final.status, final.error = ReportStatus.QUEUED, ""
            final.save(update_fields=["status", "error", "updated_at"])
        _queue(final)
        record(actor, "review.report_requested", final, review.programme, {"final": True})
        return final
    drafts = list(ReviewReport.objects.select_for_update().filter(review=review, final=False))
    pending = [d for d in drafts if d.status == ReportStatus.QUEUED and not _stale(d)]
    if pending:
        raise TransitionError(str(REPORT_PENDING))
    files = [d.file.name for d in drafts if d.file]
    ReviewReport.objects.filter(pk__in=[d.pk for d in drafts]).delete()
    if files:
        storage = ReviewReport._meta.get_field("file").storage
        transaction.on_commit(lambda: [storage.delete(name) for name in files], robust=True)
    report = ReviewReport.objects.create(review=review, final=False, requested_by=_user(actor),
                                         content=report_content(review, final=False))
    _queue(report)
    record(actor, "review.report_requested", report, review.programme, {"final": False})
    return report


def report_render(report_id) -> ReviewReport | None:
    """Render one report (the task's work): HTML → PDF/A-3b, then its SHA-256. Idempotent: a ready report is
    returned unchanged. None when the report is gone (a draft replaced by a newer one): nothing to do."""
    from .rendering import render_report_pdf

    with transaction.atomic():
        report = ReviewReport.objects.select_for_update().filter(pk=report_id).first()
        if report is None or report.status == ReportStatus.READY:
            return report
        report.attempts += 1
        report.save(update_fields=["attempts", "updated_at"])
    pdf = render_report_pdf(report.content)
    with transaction.atomic():
        report = (ReviewReport.objects.select_for_update(of=("self",)).select_related("review__programme")
                  .filter(pk=report_id).first())
        if report is None or report.status == ReportStatus.READY:
            return report
        stored = report_filename(report).removesuffix(".pdf") + f"-{report.pk.hex[:12]}.pdf"
        report.file.save(stored, ContentFile(pdf), save=False)
        report.sha256 = hashlib.sha256(pdf).hexdigest()
        report.status = ReportStatus.READY
        report.error = ""
        report.rendered_at = timezone.now()
        report.save()
    return report


def report_failed(report_id, error: str, *, retrying: bool = False) -> None:
    """A rendering attempt failed: ``error`` (for staff and the logs; the page says it in general terms) is kept on
    the report. While the task will retry, the report stays queued (the page says it is being prepared, and no
    one can ask for it again meanwhile); once the retries are used up it is failed and may be asked for again."""
    logger.warning("Quality review report %s: rendering failed%s: %s", report_id,
                   " (retrying)" if retrying else "", error)
    changes: dict[str, Any] = {"error": error[:2000], "updated_at": timezone.now()}
    if not retrying:
        changes["status"] = ReportStatus.FAILED
    ReviewReport.objects.filter(pk=report_id).exclude(status=ReportStatus.READY).update(**changes)


def report_filename(report: ReviewReport) -> str:
    review = report.review
    return (f"quality-review-{review.programme.code}-{review.year}-{review.year + 1}"
            f"{'' if report.final else '-draft'}.pdf")

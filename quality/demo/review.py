"""Demo quality review (issue 12, D8): the annual review of Chip Design Fundamentals (CDF) for the academic year in
which its demo edition ends, with the evidence computed from the demo data (results and resit, the exemption,
awards, the withdrawal and the suspension, the learner survey, the applications), three findings written from those
figures, and an improvement plan of four actions.

Everything goes through ``quality.review``, as the people of the demo consortium would act: the team leader starts
the review, writes the summary, findings and plan and submits it (the evidence is frozen); the programme board's
chair (board@kuleuven.example) approves it, which queues the final PDF (rendered in-process with ``make run``, where
Celery is eager, once the seed commits); then the plan is followed up: one action done, one in progress, one dropped,
one still planned and overdue. The demo edition's dates lie ahead (its results and awards were entered in advance),
so its "time to award" is negative: the awards came before the scheduled end.

Idempotent: once CDF has a review, nothing is added again."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from programmes.api import Edition

from .. import review as services
from ..evidence import Evidence, review_evidence
from ..models import QualityReview, academic_year_of


def _theme(evidence: Evidence, theme: str):
    feedback = evidence.total.feedback
    return next((t for t in (feedback.themes if feedback else []) if t.theme == theme and t.shown), None)


def _findings(evidence: Evidence) -> list[dict]:
    total = evidence.total
    rates = [c.pass_rate for c in total.courses if c.pass_rate is not None]
    learning = _theme(evidence, "learning")
    workload = total.feedback.workload if total.feedback else None
    assessment = _theme(evidence, "assessment")
    findings = [{
        "kind": "strength", "theme": "learning",
        "text": ("Results are strong: "
                 + (f"every course has a pass rate of {rates[0]} %" if min(rates) == max(rates)
                    else f"the pass rates of the courses range from {min(rates)} % to {max(rates)} %")
                 + f" (final results, the CDF1 resit included), {total.completion.awarded} of "
                 f"{total.completion.enrolled} learners were awarded"
                 + (f", and learners rate the quality of learning {learning.mean} out of 5." if learning else "."))
        if rates else "The partners' courses are running as planned.",
    }]
    if workload is not None and workload.shown:
        findings.append({
            "kind": "weakness", "theme": "workload",
            "text": (f"The workload exceeds the stated ECTS: learners report {workload.mean_hours} hours on average "
                     f"against {workload.expected_low}–{workload.expected_high} hours for {workload.ects} ECTS, and "
                     f"{workload.above} of {workload.respondents} respondents report more than "
                     f"{workload.expected_high} hours."),
        })
    findings.append({
        "kind": "risk", "theme": "assessment",
        "text": ("Assessment transparency is among the lowest-rated themes"
                 + (f" ({assessment.mean} out of 5)" if assessment else "")
                 + "; learners' comments ask for clearer marking criteria in CDF2. Unclear criteria put the "
                   "mutual recognition of grades between the partners at risk."),
    })
    return findings


def seed(ctx: dict) -> list[str]:
    edition = (Edition.objects.filter(programme__code="euchip-cdf", status="open").select_related("programme")
               .first())
    if edition is None:
        return []
    programme = edition.programme
    if QualityReview.objects.filter(programme=programme).exists():
        return ["Demo quality review already exists."]
    people, institutions = ctx["people"], ctx["institutions"]
    leader, chair = people["leader@kuleuven.example"], people["board@kuleuven.example"]
    year = academic_year_of(edition.ends_on)
    review = services.review_create(actor=leader, programme=programme, year=year)
    evidence = review_evidence(programme=programme, year=year)
    services.review_update(actor=leader, review=review, data={"summary": (
        f"In {evidence.year_label} Chip Design Fundamentals ran {len(evidence.editions)} edition(s) "
        f"({', '.join(e.intake_code for e in evidence.editions)}) with {evidence.total.completion.enrolled} enrolled "
        "learners, taught by KU Leuven, UNED and Open Universiteit. Results and learner satisfaction are good; "
        "the workload is heavier than the 5 ECTS promise, and the marking criteria of the verification course need "
        "to be clearer. The plan below addresses both for the next edition.")})
    findings = [services.finding_add(actor=leader, review=review, data=data) for data in _findings(evidence)]
    today = timezone.localdate()
    workload = next((f for f in findings if f.kind == "weakness"), findings[0])
    risk = findings[-1]
    uned, ou, kul = (institutions[name] for name in ("UNED", "OU NL", "KU Leuven"))
    plan = [
        ("Rebalance the CDF2 verification assignment to fit the stated workload", "Course coordinator CDF2", uned,
         today + dt.timedelta(days=60), workload),
        ("Publish the marking rubric of every assessment before the edition starts", "Secretary of the examination "
         "board", ou, today - dt.timedelta(days=14), risk),
        ("Send the verification tool licences two weeks before the start", "UNED IT services", uned,
         today + dt.timedelta(days=30), workload),
        ("Add a mid-edition workload check-in", "Programme team leader", kul, today + dt.timedelta(days=90), workload),
    ]
    actions = [services.action_add(actor=leader, review=review, data={
        "title": title, "owner": owner, "owner_institution": institution, "due_on": due, "finding": finding})
        for title, owner, institution, due, finding in plan]
    services.review_submit(actor=leader, review=review)
    services.review_approve(actor=chair, review=review,
                            comment="Approved. Report back on the workload of CDF2 after the next edition.")
    # The plan is followed up after the approval.
    services.action_start(actor=leader, action=actions[0])
    services.action_complete(actor=leader, action=actions[2])
    services.action_drop(actor=leader, action=actions[3], reason="The survey's workload question and the weekly "
                         "seminars already show the workload; a further survey would tire the learners.")
    return [f"Quality review {review.year_label} of {programme.code}: evidence from the demo data, {len(findings)} "
            f"findings, {len(actions)} actions (done, in progress, dropped, one planned and overdue), approved by "
            f"{chair.email}; the final PDF is rendered once the seed commits (in-process with `make run`). "
            f"/quality/reviews/{review.pk}/ (leader@kuleuven.example, quality@kuleuven.example, {chair.email})."]


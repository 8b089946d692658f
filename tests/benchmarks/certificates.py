"""Certificate issuance benchmark: `make bench` (BENCH_N learners, default 200).

In one process, against a throw-away test database:
1. builds a cohort of BENCH_N eligible learners and awards them (snapshots, queued documents);
2. renders every certificate + supplement through the real task (`render_document`, as a worker would);
3. renders the very same HTML with WeasyPrint alone (raw time, no Django, no storage);
4. renders the yardstick `../shared/bench/reference-certificate.html` once per award, interleaved with the above
   (the machine's load moves by tens of percent within a run; interleaving makes the ratios hold).

Prints documents/s, median and p95 per document, peak RSS, the ratio of the task path to the libraries doing the
same work (raw WeasyPrint on the same HTML + the seal alone; target ≤ 1.15), and one award (certificate +
supplement) as a multiple of the yardstick (target ≤ 4): its rendering (HTML → PDF/A), and its whole task path with
the PAdES seal and the embedded credential (added by the verifiable-credentials issue).
"""

from __future__ import annotations

import logging
import os
import resource
import statistics
import time

from tests.benchmarks.common import ROOT, setup_django, test_database

YARDSTICK = ROOT.parent / "shared" / "bench" / "reference-certificate.html"


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _cohort(n: int):
    """An approved, fully graded cohort of ``n`` learners (built with the project's own services)."""
    from decimal import Decimal as D

    from django.utils import timezone

    from admissions.models import AdmissionFramework, Application, Enrolment
    from assessment import services as a
    from assessment.grading import numeric_scale, proportional_mapping
    from assessment.models import GradingScale
    from consortium.models import RoleAssignment
    from programmes.models import (
        Course,
        CurriculumVersion,
        Edition,
        LearningOutcome,
        Programme,
        ProgrammePartner,
        ProgrammeText,
    )
    from tests.factories import ConsortiumFactory, InstitutionFactory, MembershipFactory, StaffFactory, UserFactory

    consortium = ConsortiumFactory(acronym="BENCH")
    universities = [InstitutionFactory(short_name=f"U{i}", country=c) for i, c in enumerate(("BE", "ES", "NL"))]
    for index, institution in enumerate(universities):
        MembershipFactory(consortium=consortium, institution=institution, role="lead" if index == 0 else "partner")
    lead = universities[0]
    programme = Programme.objects.create(
        consortium=consortium, code="bench", primary_language="en", languages=["en"], ects=D("5.0"),
        qualification_type="cmf_micro_credential", eqf_level=6, delivery_mode="online", synchronicity="mixed",
        pacing="cohort", duration_weeks=10, lead_institution=lead, issuing_institution=lead,
        participation_form="Online, individual study with weekly live seminars",
        qa_scheme="Internal quality assurance of the lead university according to the ESG")
    ProgrammeText.objects.create(programme=programme, language="en", title="Chip Design Fundamentals",
                                 qualification_name="CMF micro-credential in Chip Design Fundamentals",
                                 prerequisites="A bachelor's degree in a STEM field")
    for text in ("Explain the digital design flow", "Verify RTL by simulation", "Apply synthesis flows"):
        LearningOutcome.objects.create(programme=programme, category="skills", text=text)
    for institution in universities:
        ProgrammePartner.objects.create(programme=programme, institution=institution,
                                        role="lead" if institution == lead else "partner")
    version = CurriculumVersion.objects.create(programme=programme, number=1, status="approved")
    courses = [Course.objects.create(version=version, code=f"C{i}", title=f"Course {i}", provider=u,
                                     ects=D(e), mandatory=True, assessment_method="online_exam",
                                     supervision="supervised_online", position=i)
               for i, (u, e) in enumerate(zip(universities, ("2.0", "1.5", "1.5"), strict=True))]
    now = timezone.now()
    edition = Edition.objects.create(programme=programme, intake_code="bench", application_opens_at=now,
                                     application_closes_at=now + timezone.timedelta(days=1),
                                     starts_on=now.date(), ends_on=now.date(), curriculum=version, status="running")
    AdmissionFramework.objects.create(edition=edition, reviewing_institution=lead)
    joint = GradingScale.objects.create(name="Joint 0–20", grades=list(numeric_scale(D(0), D(20), D(1), D(10)).grades),
                                        pass_grade="10")

    def grant(user, role, target, institution=None):
        RoleAssignment.objects.create(user=user, role=role, target_id=target.id, institution=institution,
                                      scope_key=RoleAssignment.make_scope_key(
                                          institution_id=institution and institution.id, target_id=target.id))

    leader, board = StaffFactory(institution=lead).user, StaffFactory(institution=universities[1]).user
    grant(leader, "team_leader", programme, lead)
    grant(board, "exam_board", programme, universities[1])
    regulation = a.regulation_create(actor=leader, programme=programme, data={"joint_scale": joint})
    for institution in universities:
        a.conversion_set(actor=leader, regulation=regulation, institution=institution, national_scale=joint,
                         mapping=proportional_mapping(joint.scale, joint.scale))
    a.regulation_approve(actor=board, regulation=regulation)
    a.edition_regulation_set(actor=leader, edition=edition, regulation=regulation)
    enrolments = []
    for i in range(n):
        learner = UserFactory(full_name=f"Learner {i}")
        application = Application.objects.create(edition=edition, applicant=learner, status="enrolled",
                                                 given_names=f"Learner{i}", family_names="Benchmark",
                                                 email=learner.email)
        enrolments.append(Enrolment.objects.create(application=application, edition=edition, learner=learner,
                                                   enrolled_at=now))
    for course in courses:
        assessment = a.assessment_save(actor=leader, edition=edition, course=course, data={
            "title": "Exam", "method": "online_exam", "weight": D("100"), "supervision": "supervised_online"})
        examiner = StaffFactory(institution=course.provider).user
        grant(examiner, "examiner", course, course.provider)
        sheet = a.sheet_for(edition=edition, course=course)
        a.grades_enter(actor=examiner, sheet=sheet, rows=[(e, assessment, "14") for e in enrolments])
        a.sheet_submit(actor=examiner, sheet=sheet)
        a.sheet_approve(actor=board, sheet=sheet)
    return edition, board, enrolments


def run(n: int) -> dict[str, float]:
    from weasyprint import HTML

    from certification import rendering, services
    from certification.models import Document
    from certification.tasks import render_document
    from certification.vc import seal
    from consortium.celery import app

    app.conf.task_always_eager = True
    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)  # no "Task … succeeded" line per document
    started = time.perf_counter()
    edition, board, enrolments = _cohort(n)
    # Award without enqueuing: the documents are rendered below through the task, one by one and timed.
    from unittest import mock

    with mock.patch.object(render_document, "delay_on_commit"):
        for enrolment in enrolments:
            services.award_decide(actor=board, enrolment=enrolment)
    setup = time.perf_counter() - started
    documents = list(Document.objects.filter(credential__award__enrolment__edition=edition)
                     .select_related("credential").order_by("credential_id", "kind"))

    # Warm-up (fonts, first template compile) outside the measurement, as in a long-running worker.
    first = documents[0]
    rendering.render_pdf(first.credential.snapshot, credential_id=first.credential.credential_id, kind=first.kind,
                         language=first.language)

    # Interleaved, so all measurements see the same machine load: the task path for a document (render, embed the
    # signed credential, seal, store), then raw WeasyPrint on exactly the HTML that document renders, then the
    # seal alone (embedding + pyHanko) on that raw PDF.
    task_times, raw_times, seal_times, yard_times = [], [], [], []
    raw_cache: dict = {}  # raw WeasyPrint keeps its own image cache, as a separate worker process would
    reference = YARDSTICK.read_text()
    HTML(string=reference).write_pdf()  # warm-up
    # Quick runs measure the libraries alone on every other award (a sample of the same documents, interleaved with
    # the rest); BENCH_FULL=1 measures them on every document.
    every = 1 if os.environ.get("BENCH_FULL", "") not in ("", "0") else 2
    sampled_task_times = []
    for index, document in enumerate(documents):
        if index % 2 == 0:  # the yardstick once per award, interleaved, so it sees the same machine load
            t = time.perf_counter()
            HTML(string=reference).write_pdf()
            yard_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        render_document.apply(args=[str(document.pk)], throw=True)
        task_times.append(time.perf_counter() - t)
        if (index // 2) % every:
            continue
        sampled_task_times.append(task_times[-1])
        html = rendering.render_html(document.credential.snapshot, credential_id=document.credential.credential_id,
                                     kind=document.kind, language=document.language)
        t = time.perf_counter()
        raw = rendering.html_to_pdf(html, cache=raw_cache)
        raw_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        seal.seal_issued(raw, document.credential)
        seal_times.append(time.perf_counter() - t)

    awards = len(enrolments)
    task_total, raw_total, seal_total = sum(task_times), sum(raw_times), sum(seal_times)
    per_award = task_total / awards
    render_per_award = raw_total / (len(raw_times) / 2)  # certificate + supplement of each sampled award
    yardstick = statistics.median(yard_times)
    return {
        "awards": awards, "documents": len(documents), "setup_s": setup,
        "docs_per_s": len(documents) / task_total, "median_ms": statistics.median(task_times) * 1000,
        "p95_ms": _p95(task_times) * 1000, "raw_median_ms": statistics.median(raw_times) * 1000,
        "seal_median_ms": statistics.median(seal_times) * 1000,
        "ratio_raw": sum(sampled_task_times) / (raw_total + seal_total), "sampled": len(raw_times),
        "per_award_ms": per_award * 1000,
        "render_per_award_ms": render_per_award * 1000, "yardstick_ms": yardstick * 1000,
        "award_vs_yardstick": per_award / yardstick, "render_vs_yardstick": render_per_award / yardstick,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    setup_django()
    n = int(os.environ.get("BENCH_N", "200"))
    with test_database() as connection:
        figures = run(n)
    print(f"Certificate issuance benchmark — {figures['awards']} awards, {figures['documents']} documents "
          f"(certificate + supplement), one process, {connection.vendor}")
    print(f"  throughput            {figures['docs_per_s']:8.2f} documents/s through render_document")
    print(f"  per document          median {figures['median_ms']:7.1f} ms   p95 {figures['p95_ms']:7.1f} ms")
    print(f"  raw WeasyPrint        median {figures['raw_median_ms']:7.1f} ms (same HTML, no Django, no storage)")
    print(f"  raw seal              median {figures['seal_median_ms']:7.1f} ms (embed the signed credential, PAdES)")
    print(f"  ratio to raw          {figures['ratio_raw']:8.2f}   task ÷ (raw WeasyPrint + raw seal) (target ≤ 1.15), "
          f"on {figures['sampled']} of the documents")
    print(f"  yardstick             {figures['yardstick_ms']:8.1f} ms   ../shared/bench/reference-certificate.html")
    print(f"  per award, rendering  {figures['render_per_award_ms']:8.1f} ms   → "
          f"{figures['render_vs_yardstick']:.2f} × yardstick (target ≤ 4) — certificate + supplement, HTML → PDF/A")
    print(f"  per award, task path  {figures['per_award_ms']:8.1f} ms   → {figures['award_vs_yardstick']:.2f} × "
          f"yardstick — rendering + sealing + storage")
    print(f"  peak RSS              {figures['peak_rss_mb']:8.1f} MB   (target ≤ 400)")
    print(f"  cohort setup          {figures['setup_s']:8.1f} s (not part of the figures above)")


if __name__ == "__main__":
    main()

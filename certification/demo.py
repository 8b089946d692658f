"""Demo certification: the examination board awards every eligible learner of the CDF cohort.

In `make run` Celery runs eagerly, so the certificates and supplements are rendered while seeding.
"""

from programmes.api import Edition

from . import services
from .models import Award


def seed(ctx: dict) -> list[str]:
    if Award.objects.exists():
        return ["Demo awards already exist."]
    board = ctx["people"]["exam.board@ou.example"]
    edition = Edition.objects.filter(programme__code="euchip-cdf", status="open").first()
    if edition is None:
        return []
    previews = services.bulk_preview(edition)
    eligible = [p.enrolment for p in previews if p.eligible]
    bulk = services.bulk_award(actor=board, edition=edition, enrolments=eligible)
    progress = services.bulk_progress(bulk)
    awarded = Award.objects.filter(enrolment__edition=edition).select_related("enrolment__learner")
    emails = ", ".join(a.enrolment.learner.email for a in awarded[:3])
    return [f"Certification: {len(bulk.enrolment_ids)} awards for the CDF cohort ({emails}, …), "
            f"{progress['documents']} PDFs queued for rendering (in-process with `make run`, else by the workers); "
            f"{len(previews) - len(eligible)} enrolments not (yet) eligible."]

"""Documents in another language of the programme, on request; the overall grade recorded with the award."""

import pytest
from pypdf import PdfReader

from certification import services
from certification.models import Award, DocumentStatus
from consortium.errors import DomainError
from programmes.models import ProgrammeText


def _award(c, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.award_decide(actor=c.board, enrolment=c.enrolments[0])


def test_the_award_records_the_weighted_average(awardable, django_capture_on_commit_callbacks):
    award = _award(awardable, django_capture_on_commit_callbacks)
    # A: 0.6 × 2.0 + 0.4 × 1.7 (German) → joint 16 and 17.x; B 7.5 (Spanish) → 15; E 6.0 → 12: weighted by ECTS.
    assert award.classification.endswith("(Joint 0–20)")
    average = float(award.classification.split(" ")[0])
    assert 12 < average < 18
    assert Award.objects.get(pk=award.pk).credentials.get().snapshot["results"]["classification"] == \
        award.classification


def test_documents_in_another_language_on_request(awardable, django_capture_on_commit_callbacks):
    c = awardable
    c.programme.languages = ["en", "es"]
    c.programme.save()
    ProgrammeText.objects.create(programme=c.programme, language="es", title="Calificación conjunta",
                                 qualification_name="Microcredencial en calificación")
    award = _award(c, django_capture_on_commit_callbacks)
    credential = award.credentials.get()
    learner = c.enrolments[0].learner
    with pytest.raises(DomainError, match="offered in en, es only"):
        services.documents_request_language(actor=learner, credential=credential, language="fr")
    with django_capture_on_commit_callbacks(execute=True):
        documents = services.documents_request_language(actor=learner, credential=credential, language="es")
    assert {d.kind for d in documents} == {"certificate", "supplement"}
    certificate = credential.documents.get(kind="certificate", language="es")
    assert certificate.status == DocumentStatus.READY
    text = "".join(page.extract_text() for page in PdfReader(certificate.file.open("rb")).pages)
    assert "Calificación conjunta" in text
    with pytest.raises(DomainError, match="exist already"):
        services.documents_request_language(actor=learner, credential=credential, language="es")

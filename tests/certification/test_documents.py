"""The issued documents (D6): the 11 EU elements and the learner's values on the PDFs of joint, double and
attendance awards; refusal when an element has no data; idempotent, retried rendering; PDF/A-3b with the
verification URL; no remote or local resources; Unicode names; a frozen snapshot."""

import io
import posixpath
import re

import pypdf
import pytest
from weasyprint.urls import URLFetcher

from certification import rendering, services, tasks
from certification import snapshot as snap
from certification.models import Award, Document, DocumentKind, DocumentStatus
from consortium.errors import DomainError
from programmes.models import ProgrammeText

from ..assessment.conftest import enrol

# --- Helpers -------------------------------------------------------------------------------------------------


def pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def document_text(document: Document) -> str:
    with document.file.open("rb") as handle:
        return pdf_text(handle.read())


def squash(text: str) -> str:
    """Without any whitespace: table cells wrap labels and values over lines ("micro-\\ncredential")."""
    return re.sub(r"\s+", "", text)


def assert_contains(text: str, *expected: str) -> None:
    flat = squash(text)
    missing = [e for e in expected if squash(e) not in flat]
    assert not missing, f"Not in the PDF text: {missing}"


def issue(c, enrolment=None):
    award = services.award_decide(actor=c.board, enrolment=enrolment or c.enrolments[0])
    return award.credentials.get()


def element_labels() -> list[str]:
    return [f"({number}) {label}" for number, (_key, label) in enumerate(snap.ELEMENTS, start=1)]


def learner_values(c, credential, bodies) -> list[str]:
    application = credential.award.enrolment.application
    return [
        f"{application.given_names} {application.family_names}",  # (1)
        "Grading",  # (2)
        *(b.country.name for b in bodies),  # (3)
        *(b.legal_name for b in bodies),  # (4)
        credential.snapshot["issued_at"][:10],  # (5)
        c.outcomes[0].text,  # (6)
        "6.0 ECTS",  # (7)
        "EQF 6",  # (8)
        "Online exam",  # (9)
        "Assignment / project",
        c.programme.participation_form,  # (10)
        c.programme.qa_scheme,  # (11)
    ]


# --- Joint, double and attendance awards -----------------------------------------------------------------


def test_joint_award_of_three_universities_shows_every_element(awardable, third_university, world, render_all):
    c = awardable
    credential = issue(c)
    documents = render_all(credential)
    assert [(d.kind, d.status) for d in documents] == [("certificate", "ready"), ("supplement", "ready")]
    bodies = [world.ua, world.ub, third_university]
    assert [b["short_name"] for b in credential.snapshot["awarding_bodies"]] == ["UA", "UB", "UD"]
    for document in documents:
        text = document_text(document)
        assert_contains(text, *element_labels(), *learner_values(c, credential, bodies))
        # One document signed by every rector.
        assert_contains(text, *(b.signatory_name for b in bodies))
    certificate, supplement = documents
    assert_contains(document_text(certificate), "Joint Micro-credential Certificate")
    assert_contains(document_text(supplement), "Qualification Supplement", "Joint single certificate signed by all",
                    "Course A", "Course B", "Elective E", "ECTS credits earned: 6.0 of 6.0")


def test_double_award_gives_one_certificate_per_institution(awardable, world, render_all):
    c = awardable
    c.programme.award_kind = "double"
    c.programme.save()
    credential = issue(c)
    documents = render_all(credential)
    certificates = [d for d in documents if d.kind == DocumentKind.CERTIFICATE]
    supplements = [d for d in documents if d.kind == DocumentKind.SUPPLEMENT]
    assert len(supplements) == 1 and all(d.status == DocumentStatus.READY for d in documents)
    assert sorted(d.institution.short_name for d in certificates) == ["UA", "UB"]
    for certificate in certificates:
        own = certificate.institution
        other = world.ub if own == world.ua else world.ua
        text = document_text(certificate)
        assert_contains(text, *element_labels(), *learner_values(c, credential, [world.ua, world.ub]))
        assert_contains(text, own.signatory_name, "This certificate is part of a double award")
        assert squash(other.signatory_name) not in squash(text)  # each institution signs its own certificate
        assert "Joint Micro-credential Certificate" not in text
    supplement_text = document_text(supplements[0])
    assert_contains(supplement_text, *element_labels(), "Double certificates, one per institution",
                    world.ua.legal_name, world.ub.legal_name)


def test_attendance_track_gives_a_certificate_of_attendance_without_ects(awardable, render_all):
    c = awardable
    attendee = enrol(c.edition, 7, track="attendance")
    credential = issue(c, attendee)
    assert credential.award.kind == "attendance"
    documents = render_all(credential)
    assert [(d.kind, d.status) for d in documents] == [("attendance", "ready")]
    text = document_text(documents[0])
    assert_contains(text, "Certificate of Attendance", "This is a certificate of attendance", "No ECTS",
                    "no ECTS credits are awarded", "Attendance only, not assessed", *element_labels(),
                    attendee.application.full_name)
    assert "6.0 ECTS" not in text


@pytest.mark.parametrize(
    "change, missing",
    [
        ("qa_scheme", "(11) Type of quality assurance"),
        ("outcomes", "(6) Learning outcomes"),
    ],
)
def test_issuing_is_refused_with_the_missing_elements(awardable, change, missing):
    c = awardable
    if change == "qa_scheme":
        c.programme.qa_scheme = ""
        c.programme.save()
    else:
        c.programme.outcomes.all().delete()
    with pytest.raises(DomainError) as refused:
        services.award_decide(actor=c.board, enrolment=c.enrolments[0])
    assert refused.value.details == [missing]
    assert not Award.objects.exists() and not Document.objects.exists()  # nothing half-issued


def test_documents_use_the_primary_language_texts_only(awardable, render_all):
    c = awardable
    ProgrammeText.objects.filter(programme=c.programme, language="en").update(
        prerequisites="A bachelor's degree in any field")
    ProgrammeText.objects.create(programme=c.programme, language="es", title="Calificación",
                                 qualification_name="Microcredencial", prerequisites="Un título de grado")
    c.programme.primary_language, c.programme.languages = "es", ["es", "en"]
    c.programme.save()
    credential = issue(c)
    supplement = next(d for d in render_all(credential) if d.kind == DocumentKind.SUPPLEMENT)
    assert supplement.language == "es"
    text = document_text(supplement)
    assert_contains(text, "Calificación", "Microcredencial", "Access requirements: Un título de grado")
    assert "bachelor's degree" not in text


# --- Rendering: idempotent, retried ----------------------------------------------------------------------


def _stored_files(document) -> list[str]:
    """Every file of this credential in the document's storage folder."""
    storage, folder = document.file.storage, posixpath.dirname(document.file.name)
    _dirs, files = storage.listdir(folder)
    return sorted(f for f in files if f.startswith(f"{document.credential.credential_id}-"))


def test_running_the_render_task_twice_keeps_one_file_and_one_hash(awardable):
    c = awardable
    credential = issue(c)
    document = credential.documents.get(kind=DocumentKind.CERTIFICATE)
    first = tasks.render_document.apply(args=[str(document.pk)])
    document.refresh_from_db()
    name, digest = document.file.name, document.sha256
    second = tasks.render_document.apply(args=[str(document.pk)])
    document.refresh_from_db()
    assert first.get() == second.get() == digest and len(digest) == 64
    assert (document.file.name, document.sha256, document.attempts) == (name, digest, 1)
    assert _stored_files(document) == [posixpath.basename(name)]


def test_a_transient_failure_is_retried_and_then_succeeds(awardable, monkeypatch):
    c = awardable
    credential = issue(c)
    document = credential.documents.get(kind=DocumentKind.SUPPLEMENT)
    real = rendering.html_to_pdf
    calls, seen = [], []

    def flaky(html):
        calls.append(1)
        if len(calls) == 1:
            raise OSError("disk full")
        return real(html)

    def failed(document_id, error):
        original_failed(document_id, error)
        seen.append(Document.objects.values_list("status", "error").get(pk=document_id))

    original_failed = services.document_failed
    monkeypatch.setattr(rendering, "html_to_pdf", flaky)
    monkeypatch.setattr(services, "document_failed", failed)
    # Eagerly, apply() runs the retry at once (countdown ignored); with throw=True (CELERY_TASK_EAGER_PROPAGATES)
    # it would raise the Retry signal instead of running it, as a worker's tracer does not.
    result = tasks.render_document.apply(args=[str(document.pk)], throw=False)
    document.refresh_from_db()
    assert result.successful() and len(calls) == 2
    assert seen == [("failed", "OSError: disk full (attempt 1; retried automatically)")]
    assert (document.status, document.attempts, document.error) == ("ready", 2, "")
    assert document.sha256 == result.get()


def test_a_permanent_failure_is_not_retried_and_the_board_can_retry(awardable, monkeypatch):
    c = awardable
    credential = issue(c)
    document = credential.documents.get(kind=DocumentKind.CERTIFICATE)
    real = rendering.html_to_pdf
    monkeypatch.setattr(rendering, "html_to_pdf", lambda html: (_ for _ in ()).throw(ValueError("bad template")))
    result = tasks.render_document.apply(args=[str(document.pk)], throw=False)
    document.refresh_from_db()
    assert result.failed()
    assert (document.status, document.attempts, document.error) == ("failed", 1, "ValueError: bad template")
    monkeypatch.setattr(rendering, "html_to_pdf", real)
    services.document_retry(actor=c.board, document=document)  # queued again (enqueued after commit)
    tasks.render_document.apply(args=[str(document.pk)])
    document.refresh_from_db()
    assert (document.status, document.attempts, document.error) == ("ready", 2, "")


# --- PDF/A, verification URL, URL fetcher ----------------------------------------------------------------


def test_documents_are_pdfa3b_and_carry_the_verification_url(awardable, settings, render_all):
    settings.PUBLIC_BASE_URL = "https://verify.jointcred.example.eu"
    c = awardable
    credential = issue(c)
    url = f"https://verify.jointcred.example.eu/verify/{credential.credential_id}/"
    for document in render_all(credential):
        with document.file.open("rb") as handle:
            content = handle.read()
        reader = pypdf.PdfReader(io.BytesIO(content))
        catalog = reader.trailer["/Root"]
        xmp = catalog["/Metadata"].get_object().get_data().decode()
        assert re.search(r'pdfaid:part(="|>)3', xmp) and re.search(r'pdfaid:conformance(="|>)B', xmp), xmp
        assert "/OutputIntents" in catalog  # PDF/A embeds its output colour profile
        assert_contains(pdf_text(content), url, credential.credential_id)


@pytest.mark.parametrize(
    "html",
    [
        '<img src="http://example.com/x.png">',
        '<img src="https://example.com/x.png">',
        '<img src="file:///etc/passwd">',
        '<link rel="stylesheet" href="file:///etc/passwd">',
        '<style>@import url("http://example.com/x.css");</style>',
    ],
)
def test_the_url_fetcher_refuses_anything_but_data_uris(html, monkeypatch):
    opened = []
    monkeypatch.setattr(URLFetcher, "open", lambda self, *args, **kwargs: opened.append(args))
    with pytest.raises(rendering.UnsafeResource):
        rendering.html_to_pdf(f"<html><head>{html}</head><body><p>x</p>{html}</body></html>")
    assert opened == []  # refused before anything was fetched


def test_data_uris_are_rendered():
    pixel = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ"
             "AAAABJRU5ErkJggg==")
    pdf = rendering.html_to_pdf(f'<html><body><p>Signed</p><img src="{pixel}"></body></html>')
    assert pdf.startswith(b"%PDF") and "Signed" in pdf_text(pdf)


# --- Unicode names -------------------------------------------------------------------------------------------

NAMES = [
    pytest.param("Łukasz", "Żółć", None, id="polish"),
    pytest.param("Søren", "Ørsted", None, id="danish"),
    pytest.param("Jürgen", "Weiß", None, id="german"),
    pytest.param("نور", "حداد", "fonts-noto-core", id="arabic"),
    pytest.param("太郎", "山田", "fonts-noto-cjk", id="japanese"),
]


@pytest.mark.parametrize("given, family, font_package", NAMES)
def test_unicode_names_render(awardable, render_all, given, family, font_package):
    c = awardable
    application = c.enrolments[0].application
    application.given_names, application.family_names = given, family
    application.save()
    credential = issue(c)
    documents = render_all(credential)
    failed = [d for d in documents if d.status == DocumentStatus.FAILED]
    if failed:
        # No installed font has the glyphs: the render fails, naming the characters and the fonts to install,
        # rather than printing empty boxes for the learner's name (and breaking PDF/A).
        assert font_package is not None, f"Latin-script names must always render: {failed[0].error}"
        for document in failed:
            assert document.error.startswith("MissingGlyphs: ") and font_package in document.error
            assert all(ch in document.error for ch in family)
        pytest.skip(f"No font for this script is installed: install the Debian package {font_package} "
                    f"(see .ci/system-deps) to render and check it.")
    for document in documents:
        assert document.status == DocumentStatus.READY
        text = document_text(document)
        assert given in text and family in text, text[:500]


# --- Frozen snapshot -----------------------------------------------------------------------------------------


def test_a_snapshot_is_frozen(awardable, world, render_all, api_client):
    c = awardable
    credential = issue(c)
    documents = render_all(credential)
    old_rector = world.ua.signatory_name
    before = snap.elements(credential.snapshot)
    verified = api_client.get(f"/api/v1/verify/{credential.credential_id}/").json()
    texts = {d.pk: document_text(d) for d in documents}

    ProgrammeText.objects.filter(programme=c.programme).update(title="Renamed programme")
    c.programme.qa_scheme = "Something else"
    c.programme.save()
    world.ua.signatory_name = "Dr. New Rector"
    world.ua.save()

    credential.refresh_from_db()
    assert snap.elements(credential.snapshot) == before
    assert api_client.get(f"/api/v1/verify/{credential.credential_id}/").json() == verified
    assert verified["title"] == "Grading"
    for document in documents:  # rendered again from the same credential
        pdf = rendering.render_pdf(credential.snapshot, credential_id=credential.credential_id,
                                   kind=document.kind, language=document.language)
        text = pdf_text(pdf)
        assert text == texts[document.pk]
        assert_contains(text, "Grading", old_rector)
        assert "Renamed programme" not in text and "New Rector" not in text
    # A re-run of the task keeps the issued file.
    tasks.render_document.apply(args=[str(documents[0].pk)])
    documents[0].refresh_from_db()
    assert "Renamed programme" not in document_text(documents[0])

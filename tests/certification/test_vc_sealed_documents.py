# ruff: noqa: F811  (pytest fixtures imported from test_views are used as arguments)
"""Issued PDFs are sealed (PAdES, the issuing institution's seal) and carry the signed OB 3.0 credential; the public
verification page and ``POST /api/v1/verify/`` check an uploaded PDF's seal, its embedded credential and its hash."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from certification import services
from certification.models import Credential, Document
from certification.tasks import render_document
from certification.vc import issue, ob3, seal, verifier

from .test_views import awarded, graded, text_of, upload  # noqa: F401  (fixtures)

API = "/api/v1/verify/"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    from django.core.cache import cache

    cache.clear()


def issued_bytes(document: Document) -> bytes:
    with document.file.open("rb") as handle:
        return handle.read()


def by_name(results: list) -> dict:
    return {c["name"]: c for c in results} if isinstance(results[0], dict) else {c.name: c for c in results}


def post_pdf(client, content: bytes, name="certificate.pdf"):
    return client.post(API, {"pdf": SimpleUploadedFile(name, content, content_type="application/pdf")})


# --- The pipeline seals ---------------------------------------------------------------------------------------


def test_every_issued_document_is_sealed_and_embeds_the_kept_signed_credential(awarded):
    c = awarded
    credential = Credential.objects.get(pk=c.credential.pk)
    assert credential.signed_json and credential.signed_json["id"] == ob3.credential_url(credential)
    for document in credential.documents.all():
        content = issued_bytes(document)
        check = seal.check_pdf(content)
        assert check["sealed"] and check["intact"] and check["trusted"], (document.kind, check["message"])
        assert c.programme.issuing_institution.legal_name in check["signer"]
        assert check["fingerprint"] == document.seal_fingerprint != ""
        # The embedded JSON is exactly the kept copy, which the downloads serve too.
        assert check["credential"] == credential.signed_json
        assert verifier.is_valid(verifier.verify(check["credential"]))
        # Still PDF/A-3 (a PDF 1.7 profile: no PDF 2.0 extension from the seal) with the credential as an
        # associated file, and the text still extractable.
        reader = PdfReader(io.BytesIO(content))
        root = reader.trailer["/Root"]
        page_text = "".join(reader.pages[0].extract_text().split())  # a long id may wrap at its hyphen
        assert "/AF" in root and credential.credential_id in page_text
        assert root.get("/Version") in (None, "/1.7") and "/ISO_" not in root.get("/Extensions", {})
        assert content.startswith(b"%PDF-1.7")
        assert b"pdfaid:part" in root["/Metadata"].get_object().get_data()


def test_signed_copy_is_signed_once_and_downloads_serve_it(awarded, client):
    c = awarded
    credential = Credential.objects.get(pk=c.credential.pk)
    kept = credential.signed_json
    assert issue.signed_copy(credential) == kept
    response = client.get(reverse("verify-open-badge", args=[credential.credential_id]))
    assert json.loads(response.content) == kept  # no new proof per request
    jwt = client.get(reverse("verify-open-badge-jwt", args=[credential.credential_id]))
    assert jwt.status_code == 200 and jwt["Content-Type"] == "application/vc+jwt"
    token = jwt.content.decode()
    assert Credential.objects.get(pk=credential.pk).signed_jwt == token
    assert client.get(reverse("verify-open-badge-jwt", args=[credential.credential_id])).content.decode() == token
    assert verifier.is_valid(verifier.verify(token))


def test_missing_seal_fails_the_document_with_the_reason(graded, settings, django_capture_on_commit_callbacks):
    c = graded
    settings.SEAL_DEMO_AUTO = False
    with django_capture_on_commit_callbacks(execute=False):
        award = services.award_decide(actor=c.board, enrolment=c.enrolments[0])
    for document in Document.objects.filter(credential__award=award):
        result = render_document.apply(args=[str(document.pk)], throw=False)
        assert isinstance(result.result, seal.SealError)  # configuration: failed at once, not retried
    documents = list(Document.objects.filter(credential__award=award))
    assert documents and all(d.status == "failed" and not d.file for d in documents)
    assert all("No seal for" in d.error and "seal_certificate" in d.error for d in documents)


# --- The public page ------------------------------------------------------------------------------------------


def test_verification_page_shows_the_signature_checks_and_both_downloads(awarded, client):
    c = awarded
    html = text_of(client.get(reverse("verify", args=[c.credential.credential_id])))
    assert "passes every check" in html
    for label in ("Issuer&#x27;s key", "Signature", "Validity dates", "Revocation status", "The 11 EU elements"):
        assert label in html
    assert reverse("verify-open-badge-jwt", args=[c.credential.credential_id]) in html

    services.credential_revoke(actor=c.board, credential=c.credential, reason="Awarded in error")
    html = text_of(client.get(reverse("verify", args=[c.credential.credential_id])))
    assert "does not pass every check" in html and "has been revoked" in html


def test_uploaded_sealed_pdf_passes_every_check_on_the_page(awarded, client):
    c = awarded
    html = text_of(upload(client, c.credential, issued_bytes(c.certificate)))
    assert "Authentic." in html and "Seal and embedded credential: every check passes" in html
    assert "the PDF is unchanged since sealing" in html


def test_pdf_of_another_credential_fails_the_embedded_credential_check(awarded, client):
    c = awarded
    other = Document.objects.get(credential__award__enrolment=c.enrolments[1], kind="certificate")
    results = verifier.verify_pdf(issued_bytes(other), expected_url=ob3.credential_url(c.credential))
    checks = by_name(results)
    assert checks["seal"].ok  # a genuine document ...
    assert not checks["embedded_credential"].ok and "not this one" in checks["embedded_credential"].message
    assert not checks["issued_document"].ok and "another credential" in checks["issued_document"].message
    html = text_of(upload(client, c.credential, issued_bytes(other)))
    assert "some checks fail" in html


# --- The API --------------------------------------------------------------------------------------------------


def test_api_verifies_an_issued_pdf(awarded, client):
    c = awarded
    response = post_pdf(client, issued_bytes(c.certificate))
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is True and body["failed"] == []
    assert [x["name"] for x in body["checks"]] == list(verifier.PDF_CHECKS + verifier.CHECKS)
    assert c.credential.credential_id in by_name(body["checks"])["issued_document"]["message"]


def test_api_one_changed_byte_fails_seal_and_hash(awarded, client):
    c = awarded
    tampered = bytearray(issued_bytes(c.certificate))
    position = tampered.index(b"/Title") if b"/Title" in tampered else len(tampered) // 3
    tampered[position + 1] ^= 0x20
    body = post_pdf(client, bytes(tampered)).json()
    assert body["valid"] is False
    assert {"seal", "issued_document"} <= set(body["failed"])
    assert "changed after sealing" in by_name(body["checks"])["seal"]["message"]


def test_api_content_appended_after_sealing_fails(awarded, client):
    c = awarded
    content = issued_bytes(c.certificate) + b"\n% appended\n"
    body = post_pdf(client, content).json()
    assert body["valid"] is False and "seal" in body["failed"] and "issued_document" in body["failed"]


def test_api_revoked_credential_pdf_is_sealed_but_not_valid(awarded, client):
    c = awarded
    services.credential_revoke(actor=c.board, credential=c.credential, reason="Awarded in error")
    body = post_pdf(client, issued_bytes(c.certificate)).json()
    assert body["valid"] is False and body["failed"] == ["status"]


def test_api_unsealed_pdf_and_bad_uploads(awarded, client, settings):
    from certification import rendering

    c = awarded
    plain = rendering.html_to_pdf("<p>Not a certificate</p>")
    body = post_pdf(client, plain).json()
    assert body["valid"] is False
    checks = by_name(body["checks"])
    assert checks["seal"]["message"] == "The PDF is not sealed."
    assert not checks["embedded_credential"]["ok"] and checks["signature"]["message"].startswith("Not checked")

    not_pdf = post_pdf(client, b"plain text, not a PDF")
    assert not_pdf.status_code == 400 and "not an accepted file type" in not_pdf.json()["pdf"][0]
    assert client.post(API, {"other": "x"}).status_code == 400  # multipart without the pdf field
    settings.UPLOAD_MAX_BYTES = 1000
    too_big = post_pdf(client, issued_bytes(c.certificate))
    assert too_big.status_code == 400 and "limit" in too_big.json()["pdf"][0]


def test_pdf_checks_on_the_page_share_the_per_ip_budget(awarded, client, monkeypatch):
    from certification.rest.views import VerifyRateThrottle

    monkeypatch.setattr(VerifyRateThrottle, "get_rate", lambda self: "2/minute")
    c = awarded
    content = issued_bytes(c.certificate)
    assert upload(client, c.credential, content).status_code == 200
    assert upload(client, c.credential, content).status_code == 200
    third = upload(client, c.credential, content)
    assert third.status_code == 429 and "Too many checks" in third.content.decode()
    assert client.get(reverse("verify", args=[c.credential.credential_id])).status_code == 200  # reading stays open

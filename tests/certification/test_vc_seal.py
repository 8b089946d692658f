"""Sealed PDFs (building block, certification/vc/seal.py): embedded credential, PAdES seal, offline check."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from certification import rendering
from certification.vc import seal

from ..factories import InstitutionFactory

pytestmark = pytest.mark.django_db

CREDENTIAL = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
              "name": "Grading across Europe — Ünïcode", "credentialSubject": {"id": "urn:uuid:1"}}


@pytest.fixture(autouse=True)
def seal_dir(settings, tmp_path):
    settings.SEAL_DIR = tmp_path / "seals"
    settings.SEAL_FILES = {}
    settings.SEAL_DEMO_AUTO = False
    return settings.SEAL_DIR


@pytest.fixture(scope="module")
def plain_pdf():
    return rendering.html_to_pdf("<html><body><p>Certificate</p></body></html>")


@pytest.fixture
def institution():
    return InstitutionFactory(short_name="USEAL", legal_name="Universitat de Segells", country="ES")


@pytest.fixture
def sealed(plain_pdf, institution):
    seal.ensure_demo_seal(institution)
    return seal.seal_pdf(seal.attach_credential(plain_pdf, CREDENTIAL), institution)


def test_demo_material_subject(institution):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    key_pem, cert_pem = seal.demo_seal_material(institution)
    cert = x509.load_pem_x509_certificate(cert_pem)
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Universitat de Segells"
    assert cert.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "ES"
    assert cert.subject == cert.issuer
    assert key_pem.startswith(b"-----BEGIN PRIVATE KEY-----")


def test_demo_seal_stored_once_per_institution(institution, seal_dir):
    key_path, cert_path = seal.ensure_demo_seal(institution)
    assert key_path.parent == seal_dir / str(institution.pk)
    assert key_path.stat().st_mode & 0o777 == 0o600
    first = cert_path.read_bytes()
    assert seal.ensure_demo_seal(institution)[1].read_bytes() == first


def test_attach_keeps_the_original_and_is_readable(plain_pdf):
    pdf = seal.attach_credential(plain_pdf, CREDENTIAL)
    assert pdf.startswith(plain_pdf)  # incremental update
    reader = PdfReader(__import__("io").BytesIO(pdf))
    assert json.loads(reader.attachments["credential.json"][0]) == CREDENTIAL
    root = reader.trailer["/Root"]
    spec = root["/AF"][0].get_object()
    assert spec["/AFRelationship"] == "/Data"
    assert reader.pdf_header.startswith("%PDF-1.")  # not raised to 2.0: stays PDF/A-3 compatible


def test_sealed_pdf_is_sealed_intact_and_carries_the_credential(sealed, institution):
    result = seal.check_pdf(sealed)
    assert result["sealed"] is True
    assert result["intact"] is True
    assert result["trusted"] is True
    assert "Universitat de Segells" in result["signer"]
    assert result["credential"] == CREDENTIAL
    cert = seal.load_certificate(seal.demo_seal_paths(institution)[1])
    assert result["fingerprint"] == seal.fingerprint(cert)


def test_real_certificate_with_signed_ob3_credential(awardable):
    """The whole chain on a real certificate: WeasyPrint PDF/A-3b + Data Integrity OB 3.0 credential + seal."""
    from certification import services
    from certification.vc import verifier
    from certification.vc.issue import DATA_INTEGRITY, issue_signed

    credential = services.award_decide(actor=awardable.board, enrolment=awardable.enrolments[0],
                                       classification="15.5").credentials.get()
    pdf = rendering.render_pdf(credential.snapshot, credential_id=credential.credential_id,
                               kind="certificate", language="en")
    signed = issue_signed(credential, proof=DATA_INTEGRITY)
    issuer = credential.award.issuing_institution
    seal.ensure_demo_seal(issuer)
    result = seal.check_pdf(seal.seal_pdf(seal.attach_credential(pdf, signed), issuer))
    assert result["sealed"] and result["intact"] and result["trusted"]
    assert result["credential"] == signed
    checks = verifier.verify(result["credential"])
    assert all(check.ok for check in checks), [c for c in checks if not c.ok]


def test_one_changed_byte_breaks_the_seal(sealed):
    signature_at = sealed.index(b"/ByteRange")
    position = sealed.index(b"stream\n") + len(b"stream\n") + 100  # inside the first (compressed) stream's data
    assert position < signature_at
    tampered = bytearray(sealed)
    tampered[position] ^= 0x01
    result = seal.check_pdf(bytes(tampered))
    assert result["sealed"] is True
    assert result["intact"] is False
    assert "broken" in result["message"] or "changed" in result["message"]


def test_appending_after_sealing_is_not_intact(sealed):
    result = seal.check_pdf(seal.attach_credential(sealed, {"forged": True}, filename="other.json"))
    assert result["sealed"] is True
    assert result["intact"] is False


def test_unsealed_pdf(plain_pdf):
    result = seal.check_pdf(seal.attach_credential(plain_pdf, CREDENTIAL))
    assert result["sealed"] is False and result["intact"] is False
    assert result["credential"] == CREDENTIAL
    assert seal.check_pdf(plain_pdf)["credential"] is None


def test_not_a_pdf():
    result = seal.check_pdf(b"hello")
    assert result["sealed"] is False and result["message"]


def test_unknown_seal_is_intact_but_untrusted(sealed, seal_dir, tmp_path, settings):
    settings.SEAL_DIR = tmp_path / "elsewhere"
    result = seal.check_pdf(sealed)
    assert result["intact"] is True
    assert result["trusted"] is False


def test_no_seal_configured_raises(plain_pdf, institution):
    with pytest.raises(seal.SealError):
        seal.seal_pdf(plain_pdf, institution)


def test_configured_seal_files_are_used(plain_pdf, institution, settings, tmp_path):
    key_pem, cert_pem = seal.demo_seal_material(institution)
    (tmp_path / "k.pem").write_bytes(key_pem)
    (tmp_path / "c.pem").write_bytes(cert_pem)
    settings.SEAL_FILES = {"USEAL": (str(tmp_path / "k.pem"), str(tmp_path / "c.pem"))}
    result = seal.check_pdf(seal.seal_pdf(plain_pdf, institution))
    assert result["intact"] and result["trusted"]
    assert not seal.demo_seal_paths(institution)[0].exists()


def test_command_creates_and_prints(institution):
    out = StringIO()
    call_command("seal_certificate", "--institution", "USEAL", stdout=out)
    text = out.getvalue()
    assert "Created demo seal" in text
    assert "O=Universitat de Segells" in text and "C=ES" in text
    cert = seal.load_certificate(seal.demo_seal_paths(institution)[1])
    assert seal.fingerprint(cert) in text
    again = StringIO()
    call_command("seal_certificate", "--institution", "USEAL", stdout=again)
    assert "already present" in again.getvalue() and seal.fingerprint(cert) in again.getvalue()


def test_command_unknown_institution():
    with pytest.raises(CommandError):
        call_command("seal_certificate", "--institution", "NOPE")


def test_the_seal_key_is_parsed_once_per_process_and_again_when_its_file_changes(plain_pdf, institution, monkeypatch):
    """Parsing an RSA-3072 key costs more than the rest of a seal; pyHanko's own signer parses it per signature."""
    import os

    from cryptography.hazmat.primitives import serialization

    seal.ensure_demo_seal(institution)
    seal._SIGNERS.clear()
    parsed = []
    real = serialization.load_der_private_key
    monkeypatch.setattr(serialization, "load_der_private_key", lambda *a, **k: parsed.append(1) or real(*a, **k))
    first = seal.seal_pdf(plain_pdf, institution)
    second = seal.seal_pdf(plain_pdf, institution)
    assert len(parsed) == 1  # once when loaded, never per signature
    for pdf in (first, second):
        result = seal.check_pdf(pdf)
        assert result["intact"] is True and result["trusted"] is True

    key_path, _cert_path = seal.seal_files(institution)
    stat = key_path.stat()
    os.utime(key_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # the key file was replaced
    seal.seal_pdf(plain_pdf, institution)
    assert len(parsed) == 2

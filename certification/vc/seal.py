"""Sealed PDFs (building block): a PAdES seal of the issuing institution and the signed credential embedded.

* ``attach_credential`` embeds a JSON document (the signed OB 3.0 credential) as a PDF/A-3 associated file
  (``/EmbeddedFiles`` name tree + catalog ``/AF``, ``/AFRelationship /Data``, MIME ``application/json``).
* ``seal_pdf`` adds a PAdES signature (pyHanko, field ``Seal``, ``ETSI.CAdES.detached``) with the institution's
  X.509 seal certificate. Production: ``settings.SEAL_FILES = {"<short name>": ("/path/key.pem",
  "/path/cert.pem")}``; otherwise a self-signed demo seal under ``settings.SEAL_DIR`` (default
  ``VAR_DIR/seals``), made by ``ensure_demo_seal`` / ``manage.py seal_certificate``.
* ``check_pdf`` validates the seal offline against our seal certificates and extracts the embedded credential.

* ``seal_issued`` is what the render pipeline calls (``certification.services.document_render``): it embeds the
  credential's kept signed copy (``certification.vc.issue.signed_copy``) and seals with the issuing
  institution's seal, before the document's SHA-256 is taken.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from io import BytesIO
from pathlib import Path
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings

SEAL_FIELD = "Seal"
#: Room reserved for the CMS signature container: a P-256 or RSA-4096 seal with its certificate chain fits.
#: Fixing it skips pyHanko's dry-run signing that would otherwise estimate the size (half the sealing time).
SIGNATURE_BYTES_RESERVED = 16_384
CREDENTIAL_FILE = "credential.json"
KEY_FILE = "key.pem"
CERT_FILE = "cert.pem"
DEMO_VALIDITY_DAYS = 3 * 365


class SealError(Exception):
    """No seal material for the institution, or it cannot be loaded."""


# --- Seal material ----------------------------------------------------------------------------------------------


#: RSA, not ECDSA: pyHanko declares ISO/TS 32002 for an ECDSA (or EdDSA) signature, which makes the file PDF 2.0,
#: and PDF/A-3 is a PDF 1.7 profile. A production seal on an EC key has the same effect (docs/credentials.md).
DEMO_KEY_BITS = 3072


def demo_seal_material(institution) -> tuple[bytes, bytes]:
    """A new self-signed RSA-3072 seal certificate for ``institution`` (subject O=<legal name>, C=<country>):
    ``(key_pem, cert_pem)``. For demonstration and tests only; it is not a qualified seal."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=DEMO_KEY_BITS)
    subject = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, f"{institution.legal_name} (demo seal)"[:64]),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, institution.legal_name[:64]),
        x509.NameAttribute(NameOID.COUNTRY_NAME, str(institution.country)),
    ])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=DEMO_VALIDITY_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def seal_dir() -> Path:
    return Path(getattr(settings, "SEAL_DIR", None) or Path(settings.VAR_DIR) / "seals")


def demo_seal_paths(institution) -> tuple[Path, Path]:
    folder = seal_dir() / str(institution.pk)
    return folder / KEY_FILE, folder / CERT_FILE


def ensure_demo_seal(institution) -> tuple[Path, Path]:
    """The institution's demo seal files under ``SEAL_DIR``, created (key mode 0600) when missing."""
    key_path, cert_path = demo_seal_paths(institution)
    if not (key_path.exists() and cert_path.exists()):
        key_pem, cert_pem = demo_seal_material(institution)
        key_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key_pem)
        cert_path.write_bytes(cert_pem)
    return key_path, cert_path


def seal_files(institution) -> tuple[Path, Path]:
    """``(key path, cert path)``: the configured production seal (``SEAL_FILES``) or the stored demo seal.
    A missing demo seal is created only when ``settings.SEAL_DEMO_AUTO`` (default: ``DEBUG``) is on."""
    configured = getattr(settings, "SEAL_FILES", {}) or {}
    if institution.short_name in configured:
        key_path, cert_path = (Path(p) for p in configured[institution.short_name])
        if not (key_path.is_file() and cert_path.is_file()):
            raise SealError(f"The seal files configured for {institution.short_name} do not exist.")
        return key_path, cert_path
    key_path, cert_path = demo_seal_paths(institution)
    if key_path.exists() and cert_path.exists():
        return key_path, cert_path
    if getattr(settings, "SEAL_DEMO_AUTO", settings.DEBUG):
        return ensure_demo_seal(institution)
    raise SealError(f"No seal for {institution.short_name}: set SEAL_FILES or run "
                    f"`manage.py seal_certificate --institution {institution.short_name}`.")


def load_certificate(cert_path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(Path(cert_path).read_bytes())


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 fingerprint, colon-separated upper-case hex."""
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def trusted_certificates() -> list[asn1_x509.Certificate]:
    """Every seal certificate we know: the configured ``SEAL_FILES`` and the demo seals under ``SEAL_DIR``."""
    paths = [Path(cert) for _key, cert in (getattr(settings, "SEAL_FILES", {}) or {}).values()]
    folder = seal_dir()
    if folder.is_dir():
        paths += sorted(folder.glob(f"*/{CERT_FILE}"))
    certs, seen = [], set()
    for path in paths:
        try:
            der = load_certificate(path).public_bytes(serialization.Encoding.DER)
        except (OSError, ValueError):
            continue
        if der not in seen:
            seen.add(der)
            certs.append(asn1_x509.Certificate.load(der))
    return certs


# --- Embedding the credential -----------------------------------------------------------------------------------


def attach_credential(pdf_bytes: bytes, credential_json: dict, filename: str = "credential.json") -> bytes:
    """``pdf_bytes`` with ``credential_json`` embedded as a PDF/A-3 associated file (``/AFRelationship /Data``),
    appended as an incremental update (the original bytes are kept unchanged as a prefix)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.embed import EmbeddedFileObject, EmbeddedFileParams, FileSpec
    from pyhanko.pdf_utils.generic import pdf_name
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    data = json.dumps(credential_json, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    writer = IncrementalPdfFileWriter(BytesIO(pdf_bytes))
    now = dt.datetime.now(dt.UTC)
    stream = EmbeddedFileObject.from_file_data(
        writer, data, mime_type="application/json",
        params=EmbeddedFileParams(creation_date=now, modification_date=now))
    spec = FileSpec(file_spec_string=filename, file_name=filename, embedded_data=stream,
                    description="Signed Open Badges 3.0 credential", af_relationship=pdf_name("/Data"))
    spec_ref = writer.add_object(spec.as_pdf_object())

    # pyhanko's embed_file() would also raise the header to PDF 2.0 for /AF, which PDF/A-3 (PDF 1.7) forbids,
    # so the name tree and the catalog's /AF array are updated here.
    root = writer.root
    if "/Names" not in root:
        root["/Names"] = writer.add_object(generic.DictionaryObject())
        writer.update_root()
    names = root["/Names"]
    if "/EmbeddedFiles" not in names:
        names["/EmbeddedFiles"] = writer.add_object(generic.DictionaryObject())
        writer.update_container(names)
    tree = names["/EmbeddedFiles"]
    if "/Kids" in tree:
        raise SealError("PDFs with a nested embedded-file name tree are not supported.")
    if "/Names" not in tree:
        tree["/Names"] = writer.add_object(generic.ArrayObject())
        writer.update_container(tree)
    entries = tree["/Names"]
    # name trees are sorted by key
    pairs = [(str(entries[i]), entries.raw_get(i + 1)) for i in range(0, len(entries) - 1, 2)]
    pairs = sorted([p for p in pairs if p[0] != filename] + [(filename, spec_ref)], key=lambda p: p[0])
    entries.clear()
    for key, value in pairs:
        entries.extend([generic.pdf_string(key), value])
    writer.update_container(entries)
    if "/AF" not in root:
        root["/AF"] = writer.add_object(generic.ArrayObject())
        writer.update_root()
    af = root["/AF"]
    af.append(spec_ref)
    writer.update_container(af)

    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def embedded_files(reader) -> dict[str, bytes]:
    """``{name: data}`` of the document's embedded files (flat ``/EmbeddedFiles`` name tree)."""
    try:
        entries = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    except KeyError:
        return {}
    files = {}
    for i in range(0, len(entries) - 1, 2):
        try:
            files[str(entries[i])] = entries[i + 1]["/EF"]["/F"].data
        except KeyError:
            continue
    return files


# --- Sealing and checking ---------------------------------------------------------------------------------------


#: Loaded signers of this process, by (key file, certificate file) and their modification times: parsing and
#: validating an RSA-3072 key costs ≈ 150 ms, more than the rest of a seal; a replaced file is loaded again.
_SIGNERS: dict[tuple, Any] = {}


def _signer(institution):
    key_path, cert_path = seal_files(institution)
    try:
        cache_key = (str(key_path), key_path.stat().st_mtime_ns, str(cert_path), cert_path.stat().st_mtime_ns)
    except OSError:
        raise SealError(f"The seal key or certificate of {institution.short_name} cannot be loaded.") from None
    signer = _SIGNERS.get(cache_key)
    if signer is None:
        signer = _load_signer(key_path, cert_path)
        if signer is None:
            raise SealError(f"The seal key or certificate of {institution.short_name} cannot be loaded.")
        _SIGNERS.clear()  # one institution's seal per worker is the common case; never grow without bound
        _SIGNERS[cache_key] = signer
    return signer


def _load_signer(key_path: Path, cert_path: Path):
    """pyHanko's ``SimpleSigner``, keeping the parsed private key: its own ``sign_raw`` parses the DER key again
    for every signature (with cryptography's RSA consistency check, ≈ 150 ms each time)."""
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from pyhanko.sign import signers
    from pyhanko.sign.general import get_pyca_cryptography_hash

    class LoadedKeySigner(signers.SimpleSigner):
        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
            if mechanism == "rsassa_pkcs1v15" and isinstance(self.private_key, rsa.RSAPrivateKey):
                return self.private_key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
            return super().sign_raw(data, digest_algorithm)  # other mechanisms: pyHanko's own way

    loaded = signers.SimpleSigner.load(str(key_path), str(cert_path))
    if loaded is None:
        return None
    signer = LoadedKeySigner(signing_key=loaded.signing_key, signing_cert=loaded.signing_cert,
                             cert_registry=loaded.cert_registry)
    signer.private_key = serialization.load_der_private_key(loaded.signing_key.dump(), password=None)
    return signer


def seal_pdf(pdf_bytes: bytes, institution) -> bytes:
    """``pdf_bytes`` with the institution's PAdES seal (invisible signature field ``Seal``, SHA-256)."""
    return _seal(pdf_bytes, institution, _signer(institution))


def _seal(pdf_bytes: bytes, institution, signer) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    meta = signers.PdfSignatureMetadata(field_name=SEAL_FIELD, subfilter=fields.SigSeedSubFilter.PADES,
                                        md_algorithm="sha256", name=institution.legal_name)
    out = signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(pdf_bytes)), meta, signer=signer,
                           bytes_reserved=SIGNATURE_BYTES_RESERVED)
    return out.getvalue()


def seal_issued(pdf_bytes: bytes, credential) -> tuple[bytes, str]:
    """An issued document ready to publish: the credential's signed OB 3.0 JSON embedded as
    ``credential.json``, then the issuing institution's PAdES seal. ``(sealed bytes, seal fingerprint)``.

    Raises ``SealError`` (no seal material) or ``certification.vc.keys.IssuerKeyError`` (no signing key): both
    mean configuration, so the render fails with the message instead of being retried."""
    from . import issue

    institution = credential.award.issuing_institution
    signer = _signer(institution)
    embedded = attach_credential(pdf_bytes, issue.signed_copy(credential, issue.DATA_INTEGRITY), CREDENTIAL_FILE)
    cert = x509.load_der_x509_certificate(signer.signing_cert.dump())
    return _seal(embedded, institution, signer), fingerprint(cert)


def _credential(reader, filename: str) -> dict | None:
    try:
        data = embedded_files(reader).get(filename)
        if data is None:
            return None
        value = json.loads(data)
    except Exception:  # a damaged attachment is reported as absent; the seal check still runs
        return None
    return value if isinstance(value, dict) else None


def check_pdf(pdf_bytes: bytes, filename: str = "credential.json") -> dict[str, Any]:
    """Check the seal of an uploaded PDF offline and extract the embedded credential.

    ``{"sealed", "intact", "trusted", "signer", "fingerprint", "credential", "message"}``: ``sealed`` = the PDF
    has a signature; ``intact`` = the signature is cryptographically valid and covers the whole file (no byte
    changed, nothing appended after sealing); ``trusted`` = the signing certificate is one of our seal
    certificates (``SEAL_FILES`` / ``SEAL_DIR``). The embedded credential still needs its own verification
    (``certification.vc.verifier.verify``)."""
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    result: dict[str, Any] = {"sealed": False, "intact": False, "trusted": False, "signer": "",
                              "fingerprint": "", "credential": None, "message": ""}
    try:
        reader = PdfFileReader(BytesIO(pdf_bytes), strict=False)
        result["credential"] = _credential(reader, filename)
        signatures = reader.embedded_signatures
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        result["message"] = f"Not a readable PDF ({exc.__class__.__name__})."
        return result
    if not signatures:
        result["message"] = "The PDF is not sealed."
        return result
    signature = next((s for s in signatures if s.field_name == SEAL_FIELD), signatures[-1])
    result["sealed"] = True
    context = ValidationContext(trust_roots=trusted_certificates(), allow_fetching=False,
                                revocation_mode="soft-fail")
    try:
        status = validate_pdf_signature(signature, context)
    except Exception as exc:  # any failure to validate is reported, never raised to the uploader
        result["message"] = f"The seal cannot be validated ({exc.__class__.__name__})."
        return result
    cert = status.signing_cert
    if cert is not None:
        result["signer"] = cert.subject.human_friendly
        result["fingerprint"] = hashlib.sha256(cert.dump()).hexdigest().upper()
        result["fingerprint"] = ":".join(result["fingerprint"][i:i + 2] for i in range(0, 64, 2))
    whole_file = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    result["intact"] = bool(status.intact and status.valid and whole_file)
    result["trusted"] = bool(status.trusted)
    if not (status.intact and status.valid):
        result["message"] = "The PDF was changed after sealing: the seal is broken."
    elif not whole_file:
        result["message"] = "Content was added to the PDF after sealing."
    elif not status.trusted:
        result["message"] = "The seal is intact but its certificate is not one of our seal certificates."
    else:
        result["message"] = f"Sealed by {result['signer']}; the PDF is unchanged since sealing."
    return result

"""Personal data held by certification: the learner's awards, their credential versions (the frozen snapshot
names the learner) and the issued PDFs.

Erasure keeps the award and every credential version, valid or not, with its status, status-list entry and the
SHA-256 of each issued PDF: the award is an academic record (GDPR Art. 17(3)(b)), and a copy the learner already
shared must go on verifying. What names the learner goes:

* the learner's fields in each snapshot (names, date of birth, nationality, email), replaced by a ``withheld``
  marker: the verification page then says "Details withheld at the holder's request" instead of the name;
* the kept signed copies (``signed_json``, ``signed_jwt``): they carry a hash of the learner's email. The next
  verification signs the credential again from the redacted snapshot, with an identifier that names nobody
  (``ob3.WITHHELD_IDENTITY``), so its checks (key, signature, dates, status list, EU elements) still pass;
* the PDF files (after commit). Their rows and hashes stay, so an uploaded copy is still recognised as issued
  here, and its seal and embedded credential still verify;
* the learner's names and emails in the revocation reasons.
"""

from django.db import transaction
from django.utils import timezone

from consortium.api import personal_data

from . import rendering
from . import snapshot as snap
from .models import Award, Credential, Document, DocumentStatus


def _archive_name(document: Document) -> str:
    credential = document.credential
    slot = f"-{document.institution.short_name}" if document.institution_id else ""
    return f"{credential.credential_id}-v{credential.version}/{document.kind}{slot}-{document.language}.pdf"


def _awards(user):
    return (Award.objects.filter(enrolment__learner=user)
            .select_related("enrolment__edition__programme", "issuing_institution")
            .prefetch_related("credentials__documents__institution"))


def _export(user) -> list[dict]:
    rows = []
    for award in _awards(user):
        edition = award.enrolment.edition
        rows.append({
            "programme": edition.programme.code,
            "edition": edition.intake_code,
            "kind": award.kind,
            "decided_at": award.decided_at.isoformat(),
            "classification": award.classification,
            "issuing_institution": award.issuing_institution.legal_name,
            "credentials": [
                {
                    "credential_id": c.credential_id,
                    "version": c.version,
                    "status": c.status,
                    "issued_at": c.issued_at.isoformat(),
                    "revoked_at": c.revoked_at.isoformat() if c.revoked_at else None,
                    "revocation_reason": c.revocation_reason,
                    "verification_url": rendering.verification_url(c.credential_id),
                    "learner_as_issued": c.snapshot.get("learner", {}),
                    "documents": [
                        {"kind": d.kind, "language": d.language, "status": d.status, "sha256": d.sha256,
                         "file": f"files/certification/{_archive_name(d)}" if d.file else None}
                        for d in c.documents.all()
                    ],
                }
                for c in award.credentials.all()
            ],
        })
    return rows


def _files(user):
    documents = (Document.objects.filter(credential__award__enrolment__learner=user, status=DocumentStatus.READY)
                 .exclude(file="").select_related("credential", "institution"))
    for document in documents:
        yield _archive_name(document), document.file


def _identifiers(user) -> list[str]:
    names = []
    for data in Credential.objects.filter(award__enrolment__learner=user).values_list("snapshot", flat=True):
        learner = (data or {}).get("learner", {})
        names += [f"{learner.get('given_names', '')} {learner.get('family_names', '')}", learner.get("email", ""),
                  learner.get("esi", "")]
    return names


def _erase(user) -> None:
    redact = personal_data.redactor(personal_data.identifiers_of(user, name_parts=True))
    credentials = Credential.objects.select_for_update().filter(award__enrolment__learner=user).order_by("pk")
    for credential in credentials:
        credential.snapshot = snap.withhold_learner(credential.snapshot)
        credential.signed_json = None
        credential.signed_jwt = ""
        credential.revocation_reason = redact(credential.revocation_reason)
        # updated_at changes too: the verification page's cached checks are keyed on it.
        credential.save(update_fields=["snapshot", "signed_json", "signed_jwt", "revocation_reason", "updated_at"])
        for document in credential.documents.exclude(file=""):
            storage, name = document.file.storage, document.file.name
            transaction.on_commit(lambda storage=storage, name=name: storage.delete(name))
            document.file = ""
            document.save(update_fields=["file", "updated_at"])
    # An award shows its holder's name (from the application): partners syncing awards see the erasure too.
    Award.objects.filter(enrolment__learner=user).update(updated_at=timezone.now())


personal_data.register(
    "certification",
    description="Your awards, their credentials (verification links) and the certificates and supplements issued "
                "to you.",
    export=_export,
    erase=_erase,
    files=_files,
    identifiers=_identifiers,
    purpose="Awarding micro-credentials: the examination board's decision, the credential with the 11 EU "
            "elements, the certificate and supplement PDFs, signed Open Badges, public verification and "
            "revocation.",
    legal_basis="Art. 6(1)(b) (the learning contract) and 6(1)(e) (awarding qualifications as a task of the "
                "universities); the public verification page shows what the learner shares by passing on the link.",
    data_subjects="Learners who were awarded a programme.",
    data_categories="Name, date of birth, nationality and email as issued (frozen snapshot), programme, results "
                    "and classification, credential ids, status, issued PDFs and their SHA-256, a salted hash of "
                    "the email in the signed credential.",
    recipients="The learner; the examination board and team leader; student administrators and partner systems "
               "of participating institutions (awards:read); anyone with the verification link (name, title, "
               "awarding bodies, date, the EU elements without the date of birth, status).",
    retention="Awards are academic records, kept permanently; the verification page stays. Erasure withholds "
              "the learner's personal fields and deletes the PDFs, keeping their hashes.",
)

"""Demo data: a realistic consortium of three universities in three countries plus an employer.

Idempotent: running it again changes nothing and prints the same logins (the API token is re-issued
only if the demo token is missing, since keys are stored hashed and cannot be shown twice).
"""

import datetime as dt
import io
import struct
import zlib
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils.module_loading import import_string

from consortium import services
from consortium.models import (
    Agreement,
    AgreementStatus,
    ApiToken,
    Consortium,
    ContactService,
    Institution,
    InstitutionKind,
    Membership,
    MembershipRole,
    RevenueModel,
    Role,
    RoleAssignment,
    SharingBasis,
    User,
)

DEMO_PASSWORD = "demo-pass-2026"

INSTITUTIONS = [
    {
        "legal_name": "Katholieke Universiteit Leuven",
        "short_name": "KU Leuven",
        "kind": InstitutionKind.UNIVERSITY,
        "country": "BE",
        "city": "Leuven",
        "erasmus_code": "B  LEUVEN01",
        "pic": "999991723",
        "schac_code": "kuleuven.be",
        "website": "https://www.kuleuven.be",
        "signatory_name": "Prof. Luc Sels",
        "signatory_title": "Rector",
    },
    {
        "legal_name": "Universidad Nacional de Educación a Distancia",
        "short_name": "UNED",
        "kind": InstitutionKind.UNIVERSITY,
        "country": "ES",
        "city": "Madrid",
        "erasmus_code": "E  MADRID21",
        "pic": "999843734",
        "schac_code": "uned.es",
        "website": "https://www.uned.es",
        "signatory_name": "Prof. Ricardo Mairal Usón",
        "signatory_title": "Rector",
    },
    {
        "legal_name": "Open Universiteit",
        "short_name": "OU NL",
        "kind": InstitutionKind.UNIVERSITY,
        "country": "NL",
        "city": "Heerlen",
        "erasmus_code": "NL HEERLEN14",
        "pic": "999853435",
        "schac_code": "ou.nl",
        "website": "https://www.ou.nl",
        "signatory_name": "Prof. Theo Bastiaens",
        "signatory_title": "Rector magnificus",
    },
    {
        "legal_name": "EuroChip Design GmbH",
        "short_name": "EuroChip",
        "kind": InstitutionKind.EMPLOYER,
        "country": "DE",
        "city": "Dresden",
        "website": "https://eurochip.example",
    },
]

# email, full name, institution short name, job title, [(role, scope)] where scope is "consortium" or "institution"
PEOPLE = [
    (
        "consortium.admin@kuleuven.example",
        "Anna Peeters",
        "KU Leuven",
        "Alliance coordinator",
        [(Role.CONSORTIUM_ADMIN, "consortium")],
    ),
    (
        "inst.admin@kuleuven.example",
        "Bart Janssens",
        "KU Leuven",
        "Head of educational policy",
        [(Role.INSTITUTION_ADMIN, "institution")],
    ),
    ("leader@kuleuven.example", "Prof. Els De Smet", "KU Leuven", "Professor of microelectronics", []),
    ("board@kuleuven.example", "Prof. Jan Willems", "KU Leuven", "Chair of the programme board", []),
    ("exam.board@ou.example", "Dr. Marieke Visser", "OU NL", "Secretary of the examination board", []),
    ("examiner@uned.example", "Dr. Carmen López", "UNED", "Lecturer in digital systems", []),
    ("member@uned.example", "Dr. Javier Ruiz", "UNED", "Programme team member", []),
    (
        "inst.admin@uned.example",
        "Lucía Fernández",
        "UNED",
        "International relations office",
        [(Role.INSTITUTION_ADMIN, "institution")],
    ),
    (
        "student.admin@uned.example",
        "Pablo García",
        "UNED",
        "Student administration",
        [(Role.STUDENT_ADMIN, "institution")],
    ),
    ("finance@ou.example", "Sanne de Vries", "OU NL", "Finance officer", [(Role.FINANCE_OFFICER, "institution")]),
    (
        "finance@kuleuven.example",
        "Lotte Peeters",
        "KU Leuven",
        "Finance officer",
        [(Role.FINANCE_OFFICER, "institution")],
    ),
    (
        "inst.admin@ou.example",
        "Pieter Bakker",
        "OU NL",
        "Head of student affairs",
        [(Role.INSTITUTION_ADMIN, "institution")],
    ),
    (
        "quality@kuleuven.example",
        "An Janssens",
        "KU Leuven",
        "Quality-assurance office",
        [(Role.QUALITY_OFFICER, "institution")],
    ),
    ("partner@eurochip.example", "Katrin Schulz", "EuroChip", "Head of learning & development", []),
]

SECTIONS = {
    "governance": "Each partner appoints a coordinator. A management committee of the coordinators meets "
    "quarterly and decides by consensus, or else by a two-thirds majority. KU Leuven coordinates.",
    "obligations": "KU Leuven leads design, internal quality assurance and student administration; UNED and "
    "OU NL each develop and teach courses and assess them; EuroChip co-designs the project course.",
    "ects_recognition": "Credits earned are recognised by every partner university as elective credits in "
    "related degree programmes, per each partner's recognition rules.",
    "marketing_branding": "Partners promote the programme under the alliance brand; institutional logos are "
    "used only as agreed in the brand guide annexed to this agreement.",
    "certificate": "One joint certificate signed by the rectors of all partner universities, issued by "
    "KU Leuven on behalf of all, with a qualification supplement.",
    "intellectual_property": "Course materials remain the property of the partner that created them and "
    "are licensed CC BY-SA 4.0 to the partners for the duration of the programme.",
    "exclusivity": "No exclusivity: partners may offer related micro-credentials on their own.",
    "gdpr": "KU Leuven is controller for admission and award data; partners are joint controllers for "
    "teaching and assessment data under a joint-controller arrangement (Art. 26 GDPR).",
    "term_termination": "Five years, reviewed annually. A partner may withdraw with twelve months' notice; "
    "learners already enrolled may finish their programme.",
    "applicable_law": "Belgian law. Disputes go to mediation first, then to the courts of Leuven.",
}


def _png(width: int = 240, height: int = 60, seed: int = 0) -> bytes:
    """A small valid PNG (a wavy line), so the demo signature images are real images."""
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            on = abs((y - height // 2) - int(12 * __import__("math").sin((x + seed * 17) / 14))) < 2
            row += bytes([0, 0, 90] if on else [255, 255, 255])
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", raw)
        + chunk(b"IEND", b"")
    )


def _pdf(text: str) -> bytes:
    buf = io.BytesIO()
    buf.write(b"%PDF-1.4\n% demo signed agreement: " + text.encode("ascii", "replace") + b"\n%%EOF\n")
    return buf.getvalue()


class Command(BaseCommand):
    help = "Load the demo consortium, people, roles, agreement and a partner-system token (idempotent)."

    def handle(self, *args, **options):
        # Demo notifications would drown the logins in console output; they are not sent while seeding.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"), transaction.atomic():
            summary = self._seed()
            # Higher apps add their demo data (settings.DEMO_SEEDERS); each returns lines to print.
            summary["lines"] = []
            for path in settings.DEMO_SEEDERS:
                summary["lines"] += import_string(path)(summary["context"])
        self._print(summary)

    def _seed(self) -> dict:
        superuser = User.objects.filter(email="admin@jointcred.example").first()
        if superuser is None:
            superuser = User.objects.create_superuser(
                email="admin@jointcred.example", password=DEMO_PASSWORD, full_name="Platform Administrator"
            )
        self._verify(superuser)

        institutions = {}
        for i, data in enumerate(INSTITUTIONS):
            institution = Institution.objects.filter(short_name=data["short_name"]).first()
            if institution is None:
                institution = services.institution_create(actor=superuser, data=data)
                if institution.is_university:
                    institution.signatory_signature.save(
                        f"{institution.schac_code}.png", ContentFile(_png(seed=i)), save=True
                    )
                services.institution_contact_add(
                    actor=superuser,
                    institution=institution,
                    service=ContactService.LEGAL,
                    name=f"Legal office {institution.short_name}",
                    email=f"legal@{institution.schac_code or 'eurochip.example'}",
                )
                services.institution_contact_add(
                    actor=superuser,
                    institution=institution,
                    service=ContactService.STUDENT_ADMINISTRATION,
                    name=f"Student desk {institution.short_name}",
                    email=f"students@{institution.schac_code or 'eurochip.example'}",
                )
            institutions[data["short_name"]] = institution

        consortium = Consortium.objects.filter(acronym="EUCHIP").first()
        if consortium is None:
            consortium = services.consortium_create(
                actor=superuser,
                data={
                    "name": "European Alliance for Chip Design Education",
                    "acronym": "EUCHIP",
                    "description": "Three open and research universities and an industry partner who design and "
                    "award joint micro-credentials in semiconductor design.",
                    "website": "https://euchip.example",
                },
            )
        roles = {
            "KU Leuven": MembershipRole.LEAD,
            "UNED": MembershipRole.PARTNER,
            "OU NL": MembershipRole.PARTNER,
            "EuroChip": MembershipRole.ASSOCIATED,
        }
        for name, role in roles.items():
            if not Membership.objects.filter(consortium=consortium, institution=institutions[name]).exists():
                services.membership_add(
                    actor=superuser,
                    consortium=consortium,
                    institution=institutions[name],
                    role=role,
                    joined_on=dt.date(2025, 9, 1),
                )

        people = {}
        for email, full_name, institution_name, title, grants in PEOPLE:
            institution = institutions[institution_name]
            profile = services.staff_member_add(
                actor=superuser,
                institution=institution,
                email=email,
                full_name=full_name,
                job_title=title,
                check_policy=False,
            )
            user = profile.user
            if not user.has_usable_password():
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            self._verify(user)
            for role, scope in grants:
                services.role_grant(
                    actor=superuser,
                    user=user,
                    role=role,
                    consortium=consortium if scope == "consortium" else None,
                    institution=institution if scope == "institution" else None,
                    check_policy=False,
                )
            people[email] = user

        learner = User.objects.filter(email="learner@example.org").first()
        if learner is None:
            learner = User.objects.create_user(
                email="learner@example.org", password=DEMO_PASSWORD, full_name="Maria Kowalska"
            )
        self._verify(learner)

        self._agreement(consortium, institutions, people["consortium.admin@kuleuven.example"])

        key = None
        if not ApiToken.objects.filter(
            institution=institutions["UNED"], name="UNED student information system"
        ).exists():
            _token, key = services.apitoken_create(
                actor=superuser,
                institution=institutions["UNED"],
                name="UNED student information system",
                scopes=["institutions:read", "consortia:read", "memberships:read", "agreements:read"],
                check_policy=False,
            )
        context = {
            "consortium": consortium,
            "institutions": institutions,
            "people": people,
            "learner": learner,
            "superuser": superuser,
            "password": DEMO_PASSWORD,
        }
        return {"consortium": consortium, "token_key": key, "context": context}

    def _agreement(self, consortium, institutions, coordinator) -> None:
        title = "Consortium agreement — Chip Design micro-credentials"
        if Agreement.objects.filter(consortium=consortium, title=title).exists():
            return
        parties = [institutions[n] for n in ("KU Leuven", "UNED", "OU NL", "EuroChip")]
        agreement = services.agreement_create(
            actor=coordinator,
            consortium=consortium,
            kind="programme",
            title=title,
            reference="EUCHIP-CA-2026-01",
            parties=parties,
        )
        version = agreement.versions.get()
        services.agreement_version_update(actor=coordinator, version=version, data=SECTIONS)
        services.agreement_financial_model_set(
            actor=coordinator,
            version=version,
            revenue_model=RevenueModel.COLLECTING_PARTNER,
            collecting_institution=institutions["KU Leuven"],
            sharing_basis=SharingBasis.FIXED,
            shares={
                institutions["KU Leuven"]: Decimal("40"),
                institutions["UNED"]: Decimal("30"),
                institutions["OU NL"]: Decimal("30"),
            },
        )
        services.agreement_send_for_signature(actor=coordinator, version=version)
        for party in parties:
            services.agreement_signature_record(
                actor=coordinator,
                version=version,
                institution=party,
                signed_by_name=party.signatory_name or "Katrin Schulz",
                signed_by_title=party.signatory_title or "Managing director",
                signed_on=dt.date(2026, 1, 15),
                signed_pdf=SimpleUploadedFile(f"{party.short_name}.pdf", _pdf(party.short_name), "application/pdf"),
            )
        services.agreement_bring_into_force(actor=coordinator, version=version, effective_from=dt.date(2026, 2, 1))
        assert version.__class__.objects.get(pk=version.pk).status == AgreementStatus.IN_FORCE

    @staticmethod
    def _verify(user) -> None:
        EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})

    def _print(self, summary: dict) -> None:
        w = self.stdout.write
        w(self.style.SUCCESS(f"Demo data ready: consortium {summary['consortium'].name}."))
        for line in summary["lines"]:
            w(line)
        w("")
        w(f"Demo logins (password for all: {DEMO_PASSWORD})")
        w("  admin@jointcred.example            platform superuser (Django admin at /admin/)")
        for email, _full_name, institution, _title, _grants in PEOPLE:
            held = RoleAssignment.objects.filter(user__email=email).values_list("role", flat=True).distinct()
            roles = ", ".join(sorted({str(Role(r).label) for r in held})) or "staff"
            w(f"  {email:<34} {institution:<10} {roles}")
        w("  learner@example.org                learner")
        if summary["token_key"]:
            w("")
            w("Partner-system API token for UNED (shown once, stored hashed):")
            w(f"  Authorization: Token {summary['token_key']}")
        else:
            w("")
            w("The demo API token already exists (keys are shown once). Create another with:")
            w("  python manage.py apitoken_create --institution UNED --name 'another system' --scope institutions:read")

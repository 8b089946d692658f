"""The browser pages of the consortium app, driven through the Django test client.

Each test logs in as one of the people of the ``world`` fixture (see ``tests/conftest.py``) and checks
both the answer (status, redirect) and what the page shows or what changed in the database.
"""

import datetime as dt
import hashlib
import io
import os
import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from consortium import services
from consortium.models import (
    Addendum,
    AgreementParty,
    AgreementSignature,
    AgreementStatus,
    AgreementVersion,
    ApiToken,
    AuditEvent,
    Consortium,
    Institution,
    InstitutionContact,
    Membership,
    RevenueShare,
    RoleAssignment,
    StaffProfile,
)
from consortium.services import SECTION_FIELDS

from ..factories import ConsortiumFactory, ContactFactory, InstitutionFactory

# --- Helpers ---------------------------------------------------------------------------------------------

MISSING = uuid.UUID(int=0)  # a well-formed id that matches nothing
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXECUTABLE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def url(name: str, *args) -> str:
    return reverse(name, args=args)


def text(response) -> str:
    return response.content.decode()


def login(client, world, who: str):
    user = world.people[who]
    client.force_login(user)
    return user


def png_bytes(size: tuple[int, int] = (8, 8), noise: bool = False) -> bytes:
    if noise:
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, "white")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def png_upload(name: str = "logo.png", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(**kwargs), content_type="image/png")


def pdf_upload(name: str = "signed.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def institution_data(**overrides) -> dict:
    """A complete, valid institution form."""
    data = {
        "legal_name": "Universite Nouvelle de Paris",
        "short_name": "UNP",
        "kind": "university",
        "country": "FR",
        "city": "Paris",
        "erasmus_code": "F  PARIS99",
        "pic": "987654321",
        "schac_code": "nouvelle.example",
        "website": "https://nouvelle.example",
        "signatory_name": "Jeanne Rectrice",
        "signatory_title": "Rector",
    }
    data.update(overrides)
    return data


def institution_edit_data(institution: Institution, **overrides) -> dict:
    """The edit form as the browser would submit it for ``institution``, with ``overrides``."""
    data = {
        field: getattr(institution, field)
        for field in (
            "legal_name",
            "short_name",
            "kind",
            "city",
            "erasmus_code",
            "pic",
            "schac_code",
            "website",
            "signatory_name",
            "signatory_title",
        )
    }
    data["country"] = institution.country.code
    data.update(overrides)
    return data


def sections_data(**overrides) -> dict:
    data = {field: f"What the partners agree on {field}." for field in SECTION_FIELDS}
    data["effective_until"] = ""  # as the browser sends an empty date
    data.update(overrides)
    return data


def draft_version(world, title: str = "Joint MC in Data Science", complete: bool = True) -> AgreementVersion:
    """Arrange (through the services): an agreement of CA between UA and UB, version 1 in draft."""
    actor = world.people["CA_admin"]
    agreement = services.agreement_create(
        actor=actor, consortium=world.ca, kind="programme", title=title, parties=[world.ua, world.ub]
    )
    version = agreement.versions.get()
    if complete:
        sections = {field: f"What the partners agree on {field}." for field in SECTION_FIELDS}
        services.agreement_version_update(actor=actor, version=version, data=sections)
    return version


def version_under_signature(world, **kwargs) -> AgreementVersion:
    version = draft_version(world, **kwargs)
    services.agreement_send_for_signature(actor=world.people["CA_admin"], version=version)
    version.refresh_from_db()
    return version


def record_signature(world, version: AgreementVersion, institution: Institution) -> AgreementSignature:
    return services.agreement_signature_record(
        actor=world.people["CA_admin"],
        version=version,
        institution=institution,
        signed_by_name="A. Rector",
        signed_by_title="Rector",
        signed_on=timezone.localdate(),
        signed_pdf=pdf_upload(),
    )


def version_in_force(world, **kwargs) -> AgreementVersion:
    version = version_under_signature(world, **kwargs)
    record_signature(world, version, world.ua)
    record_signature(world, version, world.ub)
    services.agreement_bring_into_force(actor=world.people["CA_admin"], version=version)
    version.refresh_from_db()
    return version


def signature_post(institution: Institution, upload=None, **overrides) -> dict:
    data = {
        "institution": institution.pk,
        "signed_by_name": "Prof. Signing Person",
        "signed_by_title": "Rector",
        "signed_on": timezone.localdate().isoformat(),
        "signed_pdf": upload or pdf_upload(),
    }
    data.update(overrides)
    return data


@pytest.fixture
def world(world):
    """The shared world, with Erasmus codes that stay valid however far the factory sequences have run.

    The edit forms post back what is stored, and the factory's ``B  CITY<n>`` stops matching the Erasmus
    pattern once ``n`` has four digits (a long test session).
    """
    for number, institution in enumerate((world.ua, world.ub, world.uc), start=1):
        institution.erasmus_code = f"B  WORLD{number:02d}"
        institution.save(update_fields=["erasmus_code"])
    return world


# --- 1. Anonymous visitors ------------------------------------------------------------------------------

PROTECTED_PAGES = [
    ("dashboard", ()),
    ("institution-list", ()),
    ("institution-create", ()),
    ("institution-detail", (MISSING,)),
    ("institution-update", (MISSING,)),
    ("contact-add", (MISSING,)),
    ("contact-remove", (MISSING,)),
    ("institution-signature", (MISSING,)),
    ("consortium-list", ()),
    ("consortium-create", ()),
    ("consortium-detail", (MISSING,)),
    ("consortium-update", (MISSING,)),
    ("membership-add", (MISSING,)),
    ("membership-end", (MISSING,)),
    ("agreement-create", (MISSING,)),
    ("agreement-detail", (MISSING,)),
    ("agreement-version-start", (MISSING,)),
    ("agreement-version", (MISSING,)),
    ("agreement-sections", (MISSING,)),
    ("agreement-financial-model", (MISSING,)),
    ("agreement-party-add", (MISSING,)),
    ("agreement-party-remove", (MISSING,)),
    ("agreement-sign", (MISSING,)),
    ("agreement-transition", (MISSING, "send")),
    ("addendum-create", (MISSING,)),
    ("addendum-in-force", (MISSING,)),
    ("agreement-pdf", ("signature", MISSING)),
    ("token-list", ()),
    ("token-create", ()),
    ("token-revoke", (MISSING,)),
    ("staff-list", ()),
    ("staff-add", ()),
    ("role-grant", (MISSING,)),
    ("role-revoke", (MISSING,)),
    ("audit-list", ()),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "args"), PROTECTED_PAGES, ids=[p[0] for p in PROTECTED_PAGES])
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_is_sent_to_login(client, name, args, method):
    path = url(name, *args)
    response = getattr(client, method)(path)
    assert response.status_code == 302
    assert response.url == f"{reverse('account_login')}?next={path}"


@pytest.mark.django_db
def test_anonymous_post_changes_nothing(client, world):
    contact = ContactFactory(institution=world.ua)
    response = client.post(url("contact-remove", contact.pk))
    assert response.status_code == 302
    assert InstitutionContact.objects.filter(pk=contact.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/healthz", "/accounts/login/", "/api/docs/", "/api/schema/"])
def test_public_pages_answer_anonymously(client, path):
    assert client.get(path).status_code == 200


@pytest.mark.django_db
def test_home_invites_to_sign_in_and_sends_signed_in_users_to_dashboard(client, world):
    assert "Sign in" in text(client.get("/"))
    login(client, world, "UA_staff")
    response = client.get("/")
    assert response.status_code == 302
    assert response.url == reverse("dashboard")


@pytest.mark.django_db
def test_healthz_reports_ok_as_json(client):
    response = client.get("/healthz")
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"


# --- 2. Dashboard ------------------------------------------------------------------------------------


def test_dashboard_of_plain_staff(client, world):
    login(client, world, "UA_staff")
    page = text(client.get(url("dashboard")))
    assert "University UA" in page  # their institution
    assert "You have no roles yet" in page
    assert "Alliance CA" in page  # UA is a member of CA
    assert "Alliance CB" not in page
    assert "New consortium" not in page


def test_dashboard_of_consortium_admin_lists_role_and_agreements_awaiting_signature(client, world):
    version = version_under_signature(world, title="Awaiting Agreement")
    login(client, world, "CA_admin")
    response = client.get(url("dashboard"))
    page = text(response)
    assert response.status_code == 200
    assert "Consortium administrator — CA" in page
    assert "Alliance CA" in page
    assert "Awaiting Agreement v1" in page
    assert url("agreement-version", version.pk) in page
    # The navigation offers what the policy allows a consortium administrator.
    assert url("audit-list") in page
    assert url("staff-list") not in page


def test_dashboard_of_institution_admin_of_another_consortium(client, world):
    version_under_signature(world, title="Awaiting Agreement")
    login(client, world, "UC_admin")
    page = text(client.get(url("dashboard")))
    assert "Institution administrator — UC" in page
    assert "Alliance CB" in page
    assert "Alliance CA" not in page
    assert "Awaiting Agreement" not in page
    assert "Nothing awaits your signature." in page


def test_dashboard_of_learner(client, world):
    login(client, world, "learner")
    response = client.get(url("dashboard"))
    page = text(response)
    assert response.status_code == 200
    assert "You have a learner account" in page
    assert "You are not part of any consortium yet." in page
    assert url("institution-list") not in page


def test_dashboard_of_superuser(client, world):
    login(client, world, "superuser")
    page = text(client.get(url("dashboard")))
    assert "You are a platform administrator." in page
    assert "Alliance CA" in page and "Alliance CB" in page
    assert url("consortium-create") in page


# --- 3. Institutions ------------------------------------------------------------------------------------


def listed(response) -> set[str]:
    return {i.short_name for i in response.context["object_list"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"UA", "UB", "UC", "EA"}),
        ({"q": "UB"}, {"UB"}),
        ({"q": "  university uc  "}, {"UC"}),
        ({"country": "ES"}, {"UB"}),
        ({"country": "nl"}, {"UC"}),
        ({"kind": "employer"}, {"EA"}),
        ({"kind": "university", "country": "BE"}, {"UA"}),
        ({"q": "nothing-like-this"}, set()),
    ],
)
def test_institution_list_filters(client, world, query, expected):
    login(client, world, "UA_staff")
    response = client.get(url("institution-list"), query)
    assert response.status_code == 200
    assert listed(response) == expected
    page = text(response)
    for short_name in {"UA", "UB", "UC", "EA"}:
        assert (f"University {short_name}" in page) == (short_name in expected)
    if not expected:
        assert "No institution matches these filters." in page


def test_institution_list_paginates_and_keeps_the_filters(client, world):
    InstitutionFactory.create_batch(30, country="IT", city="Roma")
    login(client, world, "UA_staff")
    first = client.get(url("institution-list"), {"country": "IT"})
    assert len(first.context["object_list"]) == 25
    assert "Page 1 of 2" in text(first)
    assert "?country=IT&amp;page=2" in text(first)
    second = client.get(url("institution-list"), {"country": "IT", "page": 2})
    assert len(second.context["object_list"]) == 5
    assert "Page 2 of 2" in text(second)
    assert listed(first).isdisjoint(listed(second))
    assert "30 results" in text(second)


@pytest.mark.parametrize("page", ["abc", "0", "-1", "999", ""])
def test_institution_list_tolerates_odd_page_numbers(client, world, page):
    login(client, world, "UA_staff")
    response = client.get(url("institution-list"), {"page": page})
    assert response.status_code == 200
    assert listed(response) == {"UA", "UB", "UC", "EA"}


@pytest.mark.parametrize("extra", [5, 30])
def test_institution_list_query_count_does_not_grow(client, world, extra, django_assert_max_num_queries):
    InstitutionFactory.create_batch(extra)
    login(client, world, "UA_staff")
    with django_assert_max_num_queries(8):
        response = client.get(url("institution-list"))
    assert response.status_code == 200
    assert len(response.context["object_list"]) == min(25, 4 + extra)


def test_institution_list_is_refused_to_learners(client, world):
    login(client, world, "learner")
    assert client.get(url("institution-list")).status_code == 403


PRIVATE_MARKER = "Private to the institution and its consortium administrators"


@pytest.mark.parametrize(
    ("who", "sees_private"),
    [
        ("UA_staff", True),  # own institution
        ("UA_students", True),
        ("UA_admin", True),
        ("CA_admin", True),  # administers a consortium UA belongs to
        ("superuser", True),
        ("UB_admin", False),  # partner in the same consortium, but not UA's
        ("UB_staff", False),
        ("UC_staff", False),  # another consortium
        ("UC_admin", False),
    ],
)
def test_institution_detail_private_section(client, world, who, sees_private):
    ContactFactory(institution=world.ua, name="Contact Alpha", email="alpha@ua.example", service="legal")
    world.ua.signatory_signature.save("signature.png", ContentFile(png_bytes()), save=True)
    login(client, world, who)
    response = client.get(url("institution-detail", world.ua.pk))
    page = text(response)
    assert response.status_code == 200
    assert "University UA" in page  # the public profile is joint
    assert (PRIVATE_MARKER in page) == sees_private
    assert ("Contact Alpha" in page) == sees_private
    assert ("alpha@ua.example" in page) == sees_private
    assert (url("institution-signature", world.ua.pk) in page) == sees_private


def test_institution_detail_shows_memberships_only_of_visible_consortia(client, world):
    login(client, world, "UC_staff")
    page = text(client.get(url("institution-detail", world.ua.pk)))
    assert "Alliance CA" not in page
    assert "Not a member of any consortium you can see." in page
    login(client, world, "UB_staff")
    assert "Alliance CA" in text(client.get(url("institution-detail", world.ua.pk)))


def test_institution_create_by_consortium_admin(client, world):
    login(client, world, "CA_admin")
    assert client.get(url("institution-create")).status_code == 200
    response = client.post(url("institution-create"), institution_data())
    created = Institution.objects.get(short_name="UNP")
    assert response.status_code == 302
    assert response.url == url("institution-detail", created.pk)
    assert created.erasmus_code == "F  PARIS99"
    assert created.country.code == "FR"
    assert "Institution created." in text(client.get(response.url))
    event = AuditEvent.objects.get(action="institution.created", object_id=str(created.pk))
    assert event.via == "browser"
    assert event.actor == world.people["CA_admin"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"erasmus_code": "not-an-erasmus-code"}, "An Erasmus code looks like"),
        ({"pic": "12345"}, "A PIC is exactly nine digits."),
        ({"pic": "ABCDEFGHI"}, "A PIC is exactly nine digits."),
        ({"schac_code": "Not A Domain"}, "A SCHAC home organisation code is the institution"),
        ({"short_name": "UA"}, "Institution with this Short name already exists."),
        ({"short_name": "X" * 300}, "Ensure this value has at most 64 characters (it has 300)."),
        ({"legal_name": ""}, "This field is required."),
        ({"country": "XX"}, "Select a valid choice."),
        ({"kind": "castle"}, "Select a valid choice."),
        ({"website": "not a url"}, "Enter a valid URL."),
    ],
)
def test_institution_create_refuses_invalid_data(client, world, overrides, message):
    login(client, world, "CA_admin")
    before = Institution.objects.count()
    response = client.post(url("institution-create"), institution_data(**overrides))
    assert response.status_code == 200
    assert message in text(response)
    assert "Please correct" in text(response) or 'class="error"' in text(response)
    assert Institution.objects.count() == before


def test_institution_create_refuses_a_duplicate_erasmus_code(client, world):
    login(client, world, "CA_admin")
    response = client.post(url("institution-create"), institution_data(erasmus_code=world.ub.erasmus_code))
    assert response.status_code == 200
    assert "Please correct the following:" in text(response)
    assert not Institution.objects.filter(short_name="UNP").exists()


@pytest.mark.parametrize("who", ["UA_admin", "UA_staff", "UC_staff"])
def test_institution_create_is_for_consortium_admins_only(client, world, who):
    login(client, world, who)
    assert client.get(url("institution-create")).status_code == 403
    assert client.post(url("institution-create"), institution_data()).status_code == 403
    assert not Institution.objects.filter(short_name="UNP").exists()


def test_institution_edit_by_its_admin(client, world):
    login(client, world, "UA_admin")
    form = client.get(url("institution-update", world.ua.pk))
    assert form.status_code == 200
    assert "Edit UA" in text(form)
    assert 'value="Leuven"' in text(form)
    response = client.post(url("institution-update", world.ua.pk), institution_edit_data(world.ua, city="Antwerp"))
    assert response.status_code == 302
    assert response.url == url("institution-detail", world.ua.pk)
    world.ua.refresh_from_db()
    assert world.ua.city == "Antwerp"
    assert AuditEvent.objects.get(action="institution.updated").changes == {"city": ["Leuven", "Antwerp"]}


def test_institution_edit_by_consortium_admin(client, world):
    login(client, world, "CA_admin")
    response = client.post(url("institution-update", world.ub.pk), institution_edit_data(world.ub, city="Sevilla"))
    assert response.status_code == 302
    world.ub.refresh_from_db()
    assert world.ub.city == "Sevilla"


@pytest.mark.parametrize("who", ["UB_admin", "UA_staff", "UA_students", "UC_admin"])
def test_institution_edit_is_refused_to_others(client, world, who):
    login(client, world, who)
    assert client.get(url("institution-update", world.ua.pk)).status_code == 403
    response = client.post(url("institution-update", world.ua.pk), institution_edit_data(world.ua, city="Elsewhere"))
    assert response.status_code == 403
    world.ua.refresh_from_db()
    assert world.ua.city == "Leuven"


def test_institution_edit_invalid_data_keeps_the_row(client, world):
    login(client, world, "UA_admin")
    response = client.post(url("institution-update", world.ua.pk), institution_edit_data(world.ua, pic="1"))
    assert response.status_code == 200
    assert "A PIC is exactly nine digits." in text(response)
    world.ua.refresh_from_db()
    assert world.ua.pic != "1"


# Signature image


@pytest.mark.parametrize(
    ("who", "status"),
    [("UA_staff", 200), ("CA_admin", 200), ("superuser", 200), ("UB_admin", 403), ("UC_staff", 403)],
)
def test_signature_image_is_served_only_to_allowed_people(client, world, who, status):
    image = png_bytes()
    world.ua.signatory_signature.save("signature.png", ContentFile(image), save=True)
    login(client, world, who)
    response = client.get(url("institution-signature", world.ua.pk))
    assert response.status_code == status
    if status == 200:
        assert b"".join(response.streaming_content) == image
        assert response["Content-Type"] == "image/png"


def test_signature_image_missing_is_404(client, world):
    login(client, world, "UA_staff")
    assert client.get(url("institution-signature", world.ua.pk)).status_code == 404


def test_signature_image_is_never_a_public_media_url(client, world):
    world.ua.signatory_signature.save("signature.png", ContentFile(png_bytes()), save=True)
    login(client, world, "UA_staff")
    page = text(client.get(url("institution-detail", world.ua.pk)))
    assert world.ua.signatory_signature.name not in page


# Uploads


@pytest.mark.parametrize("field", ["logo", "signatory_signature"])
def test_upload_of_a_real_png_is_accepted(client, world, field):
    login(client, world, "UA_admin")
    data = institution_edit_data(world.ua, **{field: png_upload("picture.png")})
    response = client.post(url("institution-update", world.ua.pk), data)
    assert response.status_code == 302
    world.ua.refresh_from_db()
    stored = getattr(world.ua, field)
    assert stored.name
    with stored.open("rb") as handle:
        assert handle.read().startswith(b"\x89PNG")


def test_uploaded_logo_is_shown_on_the_detail_page_and_served_publicly(client, world):
    login(client, world, "UA_admin")
    upload = png_upload()
    response = client.post(url("institution-update", world.ua.pk), institution_edit_data(world.ua, logo=upload))
    assert response.status_code == 302
    assert url("institution-logo", world.ua.pk) in text(client.get(url("institution-detail", world.ua.pk)))
    client.logout()
    response = client.get(url("institution-logo", world.ua.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == png_bytes()


def test_logo_missing_is_404(client, world):
    assert client.get(url("institution-logo", world.ua.pk)).status_code == 404
    assert client.get(url("institution-logo", MISSING)).status_code == 404


def _refused_upload(client, world, field, upload, *messages):
    login(client, world, "UA_admin")
    response = client.post(
        url("institution-update", world.ua.pk), institution_edit_data(world.ua, city="Changed", **{field: upload})
    )
    assert response.status_code == 200
    for message in messages:
        assert message in text(response)
    world.ua.refresh_from_db()
    assert not getattr(world.ua, field)
    assert world.ua.city == "Leuven"  # nothing of the form was saved


@pytest.mark.parametrize("field", ["logo", "signatory_signature"])
def test_upload_of_a_renamed_executable_is_refused(client, world, field):
    upload = SimpleUploadedFile("logo.png", EXECUTABLE_BYTES, content_type="image/png")
    _refused_upload(client, world, field, upload, "Upload a valid image")


@pytest.mark.parametrize("field", ["logo", "signatory_signature"])
def test_upload_of_a_real_image_of_another_type_is_refused(client, world, field):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "GIF")  # a valid image, but neither PNG nor JPEG
    upload = SimpleUploadedFile("logo.png", buffer.getvalue(), content_type="image/png")
    _refused_upload(client, world, field, upload, "logo.png is not an accepted file type. Accepted: PNG, JPEG")


@pytest.mark.parametrize("field", ["logo", "signatory_signature"])
def test_upload_of_an_empty_file_is_refused(client, world, field):
    upload = SimpleUploadedFile("logo.png", b"", content_type="image/png")
    _refused_upload(client, world, field, upload, "The submitted file is empty.")


@pytest.mark.parametrize("field", ["logo", "signatory_signature"])
def test_upload_of_an_oversized_file_is_refused(client, world, settings, field):
    settings.UPLOAD_MAX_BYTES = 1000
    upload = png_upload("big.png", size=(64, 64), noise=True)
    assert upload.size > 1000
    _refused_upload(client, world, field, upload, "big.png is", "the limit is 1000")


def test_upload_on_create_is_checked_too(client, world):
    login(client, world, "CA_admin")
    upload = SimpleUploadedFile("logo.png", EXECUTABLE_BYTES, content_type="image/png")
    response = client.post(url("institution-create"), institution_data(logo=upload))
    assert response.status_code == 200
    assert "Upload a valid image" in text(response)
    assert not Institution.objects.filter(short_name="UNP").exists()


def test_clearing_the_logo_removes_it(client, world):
    world.ua.logo.save("logo.png", ContentFile(png_bytes()), save=True)
    login(client, world, "UA_admin")
    response = client.post(
        url("institution-update", world.ua.pk), institution_edit_data(world.ua, **{"logo-clear": "on"})
    )
    assert response.status_code == 302
    world.ua.refresh_from_db()
    assert not world.ua.logo
    assert client.get(url("institution-detail", world.ua.pk)).status_code == 200


def test_editing_without_a_new_upload_keeps_the_stored_image(client, world):
    world.ua.signatory_signature.save("signature.png", ContentFile(png_bytes()), save=True)
    stored = world.ua.signatory_signature.name
    login(client, world, "UA_admin")
    response = client.post(url("institution-update", world.ua.pk), institution_edit_data(world.ua, city="Gent"))
    assert response.status_code == 302
    world.ua.refresh_from_db()
    assert world.ua.signatory_signature.name == stored
    assert world.ua.city == "Gent"


# --- 4. Contacts ---------------------------------------------------------------------------------------


def contact_data(**overrides) -> dict:
    data = {"service": "ict", "name": "Helpdesk Person", "email": "helpdesk@ua.example", "phone": "+32 16 00 00 00"}
    data.update(overrides)
    return data


@pytest.mark.parametrize("who", ["UA_admin", "CA_admin"])
def test_contact_add(client, world, who):
    login(client, world, who)
    assert client.get(url("contact-add", world.ua.pk)).status_code == 200
    response = client.post(url("contact-add", world.ua.pk), contact_data())
    assert response.status_code == 302
    assert response.url == url("institution-detail", world.ua.pk)
    contact = InstitutionContact.objects.get(institution=world.ua)
    assert (contact.service, contact.email) == ("ict", "helpdesk@ua.example")
    page = text(client.get(response.url))
    assert "Contact added." in page
    assert "helpdesk@ua.example" in page


@pytest.mark.parametrize("who", ["UB_admin", "UA_staff", "UC_admin"])
def test_contact_add_is_refused_to_others(client, world, who):
    login(client, world, who)
    assert client.get(url("contact-add", world.ua.pk)).status_code == 403
    assert client.post(url("contact-add", world.ua.pk), contact_data()).status_code == 403
    assert not InstitutionContact.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"service": "catering"}, "Select a valid choice."),
        ({"name": ""}, "This field is required."),
        ({"phone": "1" * 41}, "Ensure this value has at most 40 characters"),
    ],
)
def test_contact_add_invalid(client, world, overrides, message):
    login(client, world, "UA_admin")
    response = client.post(url("contact-add", world.ua.pk), contact_data(**overrides))
    assert response.status_code == 200
    assert message in text(response)
    assert not InstitutionContact.objects.exists()


def test_contact_remove_is_post_only(client, world):
    contact = ContactFactory(institution=world.ua)
    login(client, world, "UA_admin")
    assert client.get(url("contact-remove", contact.pk)).status_code == 405
    assert InstitutionContact.objects.filter(pk=contact.pk).exists()


def test_contact_remove(client, world):
    contact = ContactFactory(institution=world.ua, name="Leaving Person")
    login(client, world, "UA_admin")
    response = client.post(url("contact-remove", contact.pk), follow=True)
    assert response.redirect_chain[-1][0] == url("institution-detail", world.ua.pk)
    assert "Contact removed." in text(response)
    assert "Leaving Person" not in text(response)
    assert not InstitutionContact.objects.filter(pk=contact.pk).exists()
    assert AuditEvent.objects.filter(action="institution.contact_removed", via="browser").exists()


@pytest.mark.parametrize("who", ["UB_admin", "UA_staff", "UC_admin"])
def test_contact_remove_is_refused_to_others(client, world, who):
    contact = ContactFactory(institution=world.ua)
    login(client, world, who)
    assert client.post(url("contact-remove", contact.pk)).status_code == 403
    assert InstitutionContact.objects.filter(pk=contact.pk).exists()


def test_contact_remove_unknown_is_404(client, world):
    login(client, world, "UA_admin")
    assert client.post(url("contact-remove", MISSING)).status_code == 404


# --- 5. Consortia and memberships -------------------------------------------------------------------


def test_consortium_list_shows_only_own_consortia(client, world):
    login(client, world, "UC_staff")
    response = client.get(url("consortium-list"))
    assert response.status_code == 200
    assert {c.acronym for c in response.context["object_list"]} == {"CB"}
    assert "Alliance CB" in text(response)
    assert "Alliance CA" not in text(response)


def test_consortium_list_of_a_member(client, world):
    login(client, world, "UB_staff")
    response = client.get(url("consortium-list"))
    assert {c.acronym for c in response.context["object_list"]} == {"CA"}
    assert [c.member_count for c in response.context["object_list"]] == [3]


def test_consortium_list_of_superuser_offers_create(client, world):
    login(client, world, "superuser")
    response = client.get(url("consortium-list"))
    assert {c.acronym for c in response.context["object_list"]} == {"CA", "CB"}
    assert url("consortium-create") in text(response)


def test_consortium_list_is_ordered_and_paginated_consistently(client, world):
    for acronym in ("ZULU", "ALFA", "MIKE", "DELTA", "XRAY", "BRAVO"):
        ConsortiumFactory(acronym=acronym)
    login(client, world, "superuser")
    response = client.get(url("consortium-list"))
    assert response.context["object_list"].ordered
    assert [c.acronym for c in response.context["object_list"]] == [
        "ALFA",
        "BRAVO",
        "CA",
        "CB",
        "DELTA",
        "MIKE",
        "XRAY",
        "ZULU",
    ]


def test_consortium_list_is_refused_to_learners(client, world):
    login(client, world, "learner")
    assert client.get(url("consortium-list")).status_code == 403


def test_consortium_detail_for_a_member(client, world):
    login(client, world, "UB_staff")
    response = client.get(url("consortium-detail", world.ca.pk))
    page = text(response)
    assert response.status_code == 200
    for name in ("University UA", "University UB", "University EA"):
        assert name in page
    assert url("membership-add", world.ca.pk) not in page  # members do not manage members
    assert url("consortium-update", world.ca.pk) not in page


def test_consortium_detail_for_its_admin_offers_management(client, world):
    login(client, world, "CA_admin")
    page = text(client.get(url("consortium-detail", world.ca.pk)))
    assert url("membership-add", world.ca.pk) in page
    assert url("agreement-create", world.ca.pk) in page
    assert url("consortium-update", world.ca.pk) in page


@pytest.mark.parametrize("name", ["consortium-detail", "consortium-update", "membership-add", "agreement-create"])
def test_consortium_of_another_alliance_is_404(client, world, name):
    login(client, world, "UC_staff")
    assert client.get(url(name, world.ca.pk)).status_code == 404


def test_consortium_create_by_superuser(client, world):
    login(client, world, "superuser")
    assert client.get(url("consortium-create")).status_code == 200
    response = client.post(
        url("consortium-create"),
        {"name": "Alliance New", "acronym": "NEW", "description": "A third one", "website": ""},
    )
    created = Consortium.objects.get(acronym="NEW")
    assert response.status_code == 302
    assert response.url == url("consortium-detail", created.pk)


@pytest.mark.parametrize("who", ["CA_admin", "UA_admin"])
def test_consortium_create_is_superuser_only(client, world, who):
    login(client, world, who)
    assert client.get(url("consortium-create")).status_code == 403
    assert client.post(url("consortium-create"), {"name": "Alliance New", "acronym": "NEW"}).status_code == 403
    assert not Consortium.objects.filter(acronym="NEW").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "Alliance CA", "acronym": "ZZ"}, "Consortium with this Name already exists."),
        ({"name": "Alliance Long", "acronym": "A" * 300}, "Ensure this value has at most 32 characters"),
        ({"name": "", "acronym": ""}, "This field is required."),
    ],
)
def test_consortium_create_invalid(client, world, data, message):
    login(client, world, "superuser")
    response = client.post(url("consortium-create"), data)
    assert response.status_code == 200
    assert message in text(response)
    assert Consortium.objects.count() == 2


def test_consortium_update_by_its_admin(client, world):
    login(client, world, "CA_admin")
    response = client.post(
        url("consortium-update", world.ca.pk),
        {"name": "Alliance CA renamed", "acronym": "CA", "description": "", "website": ""},
    )
    assert response.status_code == 302
    world.ca.refresh_from_db()
    assert world.ca.name == "Alliance CA renamed"


def test_consortium_update_by_a_member_is_refused(client, world):
    login(client, world, "UA_admin")
    response = client.post(url("consortium-update", world.ca.pk), {"name": "Hijacked", "acronym": "CA"})
    assert response.status_code == 403
    world.ca.refresh_from_db()
    assert world.ca.name == "Alliance CA"


def membership_data(institution, role="partner", joined_on="2025-03-01") -> dict:
    return {"institution": institution.pk, "role": role, "joined_on": joined_on}


def test_membership_add(client, world):
    login(client, world, "CA_admin")
    assert client.get(url("membership-add", world.ca.pk)).status_code == 200
    response = client.post(url("membership-add", world.ca.pk), membership_data(world.uc))
    assert response.status_code == 302
    assert response.url == url("consortium-detail", world.ca.pk)
    membership = Membership.objects.get(consortium=world.ca, institution=world.uc)
    assert (membership.role, membership.joined_on) == ("partner", dt.date(2025, 3, 1))
    page = text(client.get(response.url))
    assert "Member added." in page
    assert "University UC" in page


def test_membership_add_refuses_an_employer_as_lead(client, world):
    employer = InstitutionFactory(short_name="EB", kind="employer", erasmus_code="", pic="", schac_code="")
    login(client, world, "CA_admin")
    response = client.post(url("membership-add", world.cb.pk), membership_data(employer, role="lead"))
    assert response.status_code == 404  # CA_admin does not even see CB
    response = client.post(url("membership-add", world.ca.pk), membership_data(employer, role="lead"))
    assert response.status_code == 200
    assert "Only universities can be lead or full partners; add EB as an associated partner." in text(response)
    assert not Membership.objects.filter(institution=employer).exists()


def test_membership_add_refuses_a_second_lead(client, world):
    login(client, world, "CA_admin")
    response = client.post(url("membership-add", world.ca.pk), membership_data(world.uc, role="lead"))
    assert response.status_code == 200
    assert "CA already has a lead institution." in text(response)
    assert not Membership.objects.filter(consortium=world.ca, institution=world.uc).exists()


def test_membership_add_refuses_a_current_member(client, world):
    login(client, world, "CA_admin")
    response = client.post(url("membership-add", world.ca.pk), membership_data(world.ub))
    assert response.status_code == 200
    assert "Select a valid choice." in text(response)
    assert Membership.objects.filter(consortium=world.ca, institution=world.ub).count() == 1


def test_membership_add_form_offers_only_non_members(client, world):
    login(client, world, "CA_admin")
    choices = client.get(url("membership-add", world.ca.pk)).context["form"].fields["institution"].queryset
    assert set(choices) == {world.uc}


@pytest.mark.parametrize("who", ["UA_admin", "UB_staff"])
def test_membership_add_is_refused_to_members(client, world, who):
    login(client, world, who)
    assert client.post(url("membership-add", world.ca.pk), membership_data(world.uc)).status_code == 403
    assert not Membership.objects.filter(consortium=world.ca, institution=world.uc).exists()


def test_membership_end(client, world):
    membership = Membership.objects.get(consortium=world.ca, institution=world.ub)
    login(client, world, "CA_admin")
    form = client.get(url("membership-end", membership.pk))
    assert form.status_code == 200
    assert "End the membership of UB" in text(form)
    response = client.post(url("membership-end", membership.pk), {"left_on": "2025-06-30"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.left_on == dt.date(2025, 6, 30)


def test_membership_end_before_joining_is_refused(client, world):
    membership = Membership.objects.get(consortium=world.ca, institution=world.ub)
    login(client, world, "CA_admin")
    response = client.post(url("membership-end", membership.pk), {"left_on": "2024-12-31"})
    assert response.status_code == 200
    assert "The leaving date cannot be before the joining date (2025-01-01)." in text(response)
    membership.refresh_from_db()
    assert membership.left_on is None
    assert not AuditEvent.objects.filter(action="membership.ended").exists()


def test_membership_end_twice_is_refused(client, world):
    membership = Membership.objects.get(consortium=world.ca, institution=world.ub)
    login(client, world, "CA_admin")
    client.post(url("membership-end", membership.pk), {"left_on": "2025-06-30"})
    response = client.post(url("membership-end", membership.pk), {"left_on": "2025-07-30"})
    assert response.status_code == 200
    assert "UB already left on 2025-06-30." in text(response)
    membership.refresh_from_db()
    assert membership.left_on == dt.date(2025, 6, 30)


@pytest.mark.parametrize(("who", "status"), [("UB_admin", 403), ("UC_admin", 404)])
def test_membership_end_is_refused_to_others(client, world, who, status):
    membership = Membership.objects.get(consortium=world.ca, institution=world.ub)
    login(client, world, who)
    assert client.post(url("membership-end", membership.pk), {"left_on": "2025-06-30"}).status_code == status
    membership.refresh_from_db()
    assert membership.left_on is None


# --- 6. Agreements through the browser ----------------------------------------------------------------


def test_agreement_lifecycle_through_the_browser(client, world):
    ca_admin = login(client, world, "CA_admin")

    # Create: version 1 in draft, with the two parties, and a list of what is missing.
    create_url = url("agreement-create", world.ca.pk)
    form = client.get(create_url)
    assert set(form.context["form"].fields["parties"].queryset) == {world.ua, world.ub, world.ea}
    response = client.post(
        create_url,
        {
            "kind": "programme",
            "title": "Joint MC in Data Science",
            "reference": "CA-2025-01",
            "parties": [world.ua.pk, world.ub.pk],
        },
    )
    assert response.status_code == 302
    version = AgreementVersion.objects.get(agreement__title="Joint MC in Data Science")
    assert response.url == url("agreement-detail", version.agreement.pk)
    response = client.get(response.url, follow=True)
    assert response.redirect_chain[-1][0] == url("agreement-version", version.pk)
    page = text(response)
    assert (version.number, version.status) == (1, AgreementStatus.DRAFT)
    assert {(p.institution.short_name, p.role) for p in version.parties.all()} == {("UA", "lead"), ("UB", "partner")}
    assert "Agreement created as a draft (version 1)." in page
    assert "Before it can go out for signature:" in page
    assert "Sections still empty: Governance" in page

    # Sending now is refused; the reasons are shown after the redirect.
    response = client.post(url("agreement-transition", version.pk, "send"), follow=True)
    assert response.redirect_chain[-1][0] == url("agreement-version", version.pk)
    assert "This version is not ready for signature." in text(response)
    assert "Sections still empty" in text(response)
    version.refresh_from_db()
    assert version.status == AgreementStatus.DRAFT

    # Sections.
    assert client.get(url("agreement-sections", version.pk)).status_code == 200
    response = client.post(url("agreement-sections", version.pk), sections_data(governance="A steering board."))
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.governance == "A steering board."
    page = text(client.get(url("agreement-version", version.pk)))
    assert "Sections still empty" not in page
    assert "A steering board." in page

    # Financial model: fixed shares must add up to 100 %.
    fm_url = url("agreement-financial-model", version.pk)
    assert client.get(fm_url).status_code == 200
    model = {
        "revenue_model": "collecting_partner",
        "collecting_institution": world.ua.pk,
        "sharing_basis": "fixed",
        "costs_shared": "on",
    }
    response = client.post(fm_url, {**model, f"share_{world.ua.pk}": "60", f"share_{world.ub.pk}": "30"})
    assert response.status_code == 200
    assert "Fixed shares must add up to 100 %; they add up to 90 %." in text(response)
    version.refresh_from_db()
    assert version.revenue_model == "each_keeps_own"
    assert not RevenueShare.objects.filter(version=version).exists()
    response = client.post(fm_url, {**model, f"share_{world.ua.pk}": "60", f"share_{world.ub.pk}": "40"})
    assert response.status_code == 302
    version.refresh_from_db()
    assert (version.revenue_model, version.collecting_institution, version.sharing_basis, version.costs_shared) == (
        "collecting_partner",
        world.ua,
        "fixed",
        True,
    )
    assert {s.institution.short_name: int(s.percent) for s in version.revenue_shares.all()} == {"UA": 60, "UB": 40}

    # Send for signature.
    response = client.post(url("agreement-transition", version.pk, "send"), follow=True)
    assert "Sent for signature." in text(response)
    version.refresh_from_db()
    assert version.status == AgreementStatus.UNDER_SIGNATURE

    # Sections can no longer be edited.
    response = client.post(url("agreement-sections", version.pk), sections_data(governance="Changed later."))
    assert response.status_code == 200
    assert "can no longer be edited" in text(response)
    version.refresh_from_db()
    assert version.governance == "A steering board."

    # Signatures: a non-PDF is refused, a PDF is recorded.
    sign_url = url("agreement-sign", version.pk)
    assert client.get(sign_url).status_code == 200
    fake = SimpleUploadedFile("signed.pdf", png_bytes(), content_type="application/pdf")
    response = client.post(sign_url, signature_post(world.ua, upload=fake))
    assert response.status_code == 200
    assert "signed.pdf is not an accepted file type. Accepted: PDF" in text(response)
    assert not AgreementSignature.objects.exists()
    response = client.post(sign_url, signature_post(world.ua))
    assert response.status_code == 302
    signature = AgreementSignature.objects.get(version=version, institution=world.ua)
    assert signature.recorded_by == ca_admin
    with signature.signed_pdf.open("rb") as handle:
        assert handle.read() == PDF_BYTES

    # Not in force while UB has not signed.
    response = client.post(url("agreement-transition", version.pk, "in-force"), follow=True)
    assert "Not every party has signed yet. UB" in text(response)
    version.refresh_from_db()
    assert version.status == AgreementStatus.UNDER_SIGNATURE

    response = client.post(sign_url, signature_post(world.ub))
    assert response.status_code == 302
    response = client.post(url("agreement-transition", version.pk, "in-force"), follow=True)
    assert "The agreement is in force." in text(response)
    version.refresh_from_db()
    assert version.status == AgreementStatus.IN_FORCE
    assert version.effective_from == timezone.localdate()

    # A new version copies parties and model; version 1 stays in force until v2 is.
    response = client.post(url("agreement-version-start", version.agreement.pk))
    v2 = AgreementVersion.objects.get(agreement=version.agreement, number=2)
    assert response.status_code == 302
    assert response.url == url("agreement-version", v2.pk)
    assert v2.status == AgreementStatus.DRAFT
    assert {p.institution.short_name for p in v2.parties.all()} == {"UA", "UB"}
    assert v2.governance == "A steering board."
    version.refresh_from_db()
    assert version.status == AgreementStatus.IN_FORCE

    # Terminate: a reason is required.
    terminate_url = url("agreement-transition", version.pk, "terminate")
    response = client.post(terminate_url, {"reason": "", "terminated_on": "2025-12-31"}, follow=True)
    assert "Give the reason and date of termination." in text(response)
    version.refresh_from_db()
    assert version.status == AgreementStatus.IN_FORCE
    response = client.post(
        terminate_url, {"reason": "The programme closes.", "terminated_on": "2025-12-31"}, follow=True
    )
    assert "The agreement was terminated." in text(response)
    assert "The programme closes." in text(response)
    version.refresh_from_db()
    assert (version.status, version.terminated_on) == (AgreementStatus.TERMINATED, dt.date(2025, 12, 31))

    # Everything above went through the browser and was audited as such.
    actions = set(AuditEvent.objects.filter(via="browser", consortium_id=world.ca.pk).values_list("action", flat=True))
    assert {
        "agreement.created",
        "agreement.updated",
        "agreement.financial_model_set",
        "agreement.under_signature",
        "agreement.signed",
        "agreement.in_force",
        "agreement.version_started",
        "agreement.terminated",
    } <= actions


def test_terminate_with_only_whitespace_as_reason_is_refused(client, world):
    version = version_in_force(world)
    login(client, world, "CA_admin")
    response = client.post(
        url("agreement-transition", version.pk, "terminate"),
        {"reason": "   ", "terminated_on": "2025-12-31"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Give the reason" in text(response)
    version.refresh_from_db()
    assert version.status == AgreementStatus.IN_FORCE


def test_return_to_draft_and_back(client, world):
    version = version_under_signature(world)
    login(client, world, "CA_admin")
    response = client.post(url("agreement-transition", version.pk, "draft"), follow=True)
    assert "Returned to draft." in text(response)
    version.refresh_from_db()
    assert version.status == AgreementStatus.DRAFT


def test_return_to_draft_refused_once_someone_signed(client, world):
    version = version_under_signature(world)
    record_signature(world, version, world.ua)
    login(client, world, "CA_admin")
    response = client.post(url("agreement-transition", version.pk, "draft"), follow=True)
    assert "Some parties have already signed" in text(response)
    version.refresh_from_db()
    assert version.status == AgreementStatus.UNDER_SIGNATURE


def test_financial_model_each_keeps_own_with_shares_is_refused(client, world):
    version = draft_version(world)
    login(client, world, "CA_admin")
    response = client.post(
        url("agreement-financial-model", version.pk), {"revenue_model": "each_keeps_own", f"share_{world.ua.pk}": "100"}
    )
    assert response.status_code == 200
    assert "Revenue shares only apply when one partner collects" in text(response)
    assert not RevenueShare.objects.exists()


@pytest.mark.parametrize(
    ("share", "message"),
    [
        ("abc", "Enter a number."),
        ("150", "Ensure this value is less than or equal to 100."),
        ("-5", "Ensure this value is greater than or equal to 0."),
    ],
)
def test_financial_model_rejects_bad_numbers(client, world, share, message):
    version = draft_version(world)
    login(client, world, "CA_admin")
    response = client.post(
        url("agreement-financial-model", version.pk),
        {
            "revenue_model": "collecting_partner",
            "collecting_institution": world.ua.pk,
            "sharing_basis": "fixed",
            f"share_{world.ua.pk}": share,
            f"share_{world.ub.pk}": "40",
        },
    )
    assert response.status_code == 200
    assert message in text(response)
    assert not RevenueShare.objects.exists()


def test_financial_model_collecting_partner_must_be_a_party(client, world):
    version = draft_version(world)
    login(client, world, "CA_admin")
    response = client.post(
        url("agreement-financial-model", version.pk),
        {"revenue_model": "collecting_partner", "collecting_institution": world.ea.pk, "sharing_basis": "ects_taught"},
    )
    assert response.status_code == 200
    assert "Select a valid choice." in text(response)
    version.refresh_from_db()
    assert version.collecting_institution is None


def test_party_add_and_remove(client, world):
    version = draft_version(world)
    login(client, world, "CA_admin")
    form = client.get(url("agreement-party-add", version.pk))
    assert set(form.context["form"].fields["institution"].queryset) == {world.ea}
    response = client.post(url("agreement-party-add", version.pk), {"institution": world.ea.pk})
    assert response.status_code == 302
    party = AgreementParty.objects.get(version=version, institution=world.ea)
    assert party.role == "associated"
    assert client.get(url("agreement-party-remove", party.pk)).status_code == 405
    response = client.post(url("agreement-party-remove", party.pk), follow=True)
    assert "Party removed." in text(response)
    assert not AgreementParty.objects.filter(pk=party.pk).exists()


def test_party_add_refuses_a_non_member(client, world):
    version = draft_version(world)
    login(client, world, "CA_admin")
    response = client.post(url("agreement-party-add", version.pk), {"institution": world.uc.pk})
    assert response.status_code == 200
    assert "Select a valid choice." in text(response)
    assert not AgreementParty.objects.filter(version=version, institution=world.uc).exists()


def test_party_remove_refused_once_under_signature(client, world):
    version = version_under_signature(world)
    party = version.parties.get(institution=world.ub)
    login(client, world, "CA_admin")
    response = client.post(url("agreement-party-remove", party.pk), follow=True)
    assert "can no longer be edited" in text(response)
    assert AgreementParty.objects.filter(pk=party.pk).exists()


def test_signature_in_the_future_is_refused(client, world):
    version = version_under_signature(world)
    login(client, world, "CA_admin")
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = client.post(url("agreement-sign", version.pk), signature_post(world.ua, signed_on=tomorrow))
    assert response.status_code == 200
    assert "The signing date cannot be in the future." in text(response)
    assert not AgreementSignature.objects.exists()


def test_signature_while_draft_is_refused(client, world):
    version = draft_version(world)
    login(client, world, "CA_admin")
    response = client.post(url("agreement-sign", version.pk), signature_post(world.ua))
    assert response.status_code == 200
    assert "Signatures are recorded only while the version is under signature" in text(response)
    assert not AgreementSignature.objects.exists()


def test_institution_admin_of_a_party_records_its_own_signature(client, world):
    version = version_under_signature(world)
    ub_admin = login(client, world, "UB_admin")
    page = text(client.get(url("agreement-version", version.pk)))
    assert url("agreement-sign", version.pk) in page  # UB's row offers "Record signature"
    form = client.get(url("agreement-sign", version.pk))
    assert set(form.context["form"].fields["institution"].queryset) == {world.ub}
    # Not UA's signature...
    response = client.post(url("agreement-sign", version.pk), signature_post(world.ua))
    assert response.status_code == 200
    assert "Select a valid choice." in text(response)
    assert not AgreementSignature.objects.filter(institution=world.ua).exists()
    # ...but UB's.
    response = client.post(url("agreement-sign", version.pk), signature_post(world.ub))
    assert response.status_code == 302
    assert AgreementSignature.objects.get(version=version, institution=world.ub).recorded_by == ub_admin


@pytest.mark.parametrize("transition", ["send", "draft", "in-force", "terminate"])
def test_institution_admin_of_a_party_cannot_move_the_agreement(client, world, transition):
    version = version_under_signature(world)
    login(client, world, "UB_admin")
    response = client.post(url("agreement-transition", version.pk, transition), {"reason": "x"})
    assert response.status_code == 403
    version.refresh_from_db()
    assert version.status == AgreementStatus.UNDER_SIGNATURE


def test_institution_admin_cannot_send_a_draft(client, world):
    version = draft_version(world)
    login(client, world, "UB_admin")
    assert client.post(url("agreement-transition", version.pk, "send")).status_code == 403
    version.refresh_from_db()
    assert version.status == AgreementStatus.DRAFT
    page = text(client.get(url("agreement-version", version.pk)))
    assert "Send for signature" not in page  # no management buttons for party admins
    assert url("agreement-sections", version.pk) not in page


@pytest.mark.parametrize("name", ["agreement-sections", "agreement-financial-model", "agreement-party-add"])
def test_agreement_editing_pages_are_for_consortium_admins(client, world, name):
    version = draft_version(world)
    login(client, world, "UB_admin")
    assert client.get(url(name, version.pk)).status_code == 403


def test_plain_staff_of_a_party_cannot_sign(client, world):
    version = version_under_signature(world)
    login(client, world, "UB_staff")
    response = client.post(url("agreement-sign", version.pk), signature_post(world.ub))
    assert response.status_code == 200
    assert "Select a valid choice." in text(response)
    assert not AgreementSignature.objects.exists()


@pytest.mark.parametrize("name", ["agreement-version", "agreement-sign", "agreement-sections", "addendum-create"])
def test_agreement_pages_of_another_consortium_are_404(client, world, name):
    version = draft_version(world)
    login(client, world, "UC_admin")
    assert client.get(url(name, version.pk)).status_code == 404
    assert client.get(url("agreement-detail", version.agreement.pk)).status_code == 404


def test_addendum_brings_an_associated_partner_in(client, world):
    version = version_in_force(world)
    login(client, world, "CA_admin")
    page = text(client.get(url("agreement-version", version.pk)))
    assert url("addendum-create", version.pk) in page

    form = client.get(url("addendum-create", version.pk))
    assert set(form.context["form"].fields["institution"].queryset) == {world.ea}
    response = client.post(
        url("addendum-create", version.pk),
        {"institution": world.ea.pk, "role": "associated", "summary": "EA hosts internships."},
    )
    assert response.status_code == 302
    addendum = Addendum.objects.get(version=version)
    assert (addendum.number, addendum.status, addendum.institution) == (1, "draft", world.ea)
    assert not version.parties.filter(institution=world.ea).exists()

    in_force_url = url("addendum-in-force", addendum.pk)
    assert client.get(in_force_url).status_code == 200
    fake = SimpleUploadedFile("addendum.pdf", EXECUTABLE_BYTES, content_type="application/pdf")
    response = client.post(in_force_url, {"effective_from": "2025-09-01", "signed_pdf": fake})
    assert response.status_code == 200
    assert "addendum.pdf is not an accepted file type" in text(response)
    addendum.refresh_from_db()
    assert addendum.status == "draft"

    response = client.post(
        in_force_url, {"effective_from": "2025-09-01", "signed_pdf": pdf_upload("addendum.pdf")}, follow=True
    )
    assert response.redirect_chain[-1][0] == url("agreement-version", version.pk)
    assert "The addendum is in force; the new partner is a party." in text(response)
    addendum.refresh_from_db()
    assert (addendum.status, addendum.effective_from) == ("in_force", dt.date(2025, 9, 1))
    party = version.parties.get(institution=world.ea)
    assert (party.role, party.joined_by) == ("associated", addendum)
    page = text(response)
    assert "University EA" in page
    assert "by addendum 1" in page
    assert url("agreement-pdf", "addendum", addendum.pk) in page

    # A second time is refused.
    response = client.post(in_force_url, {"effective_from": "2025-09-01", "signed_pdf": pdf_upload()})
    assert response.status_code == 200
    assert "Addendum 1 is In force." in text(response)


def test_addendum_only_to_a_version_in_force(client, world):
    version = draft_version(world)
    login(client, world, "CA_admin")
    response = client.post(
        url("addendum-create", version.pk), {"institution": world.ea.pk, "role": "associated", "summary": "Too early."}
    )
    assert response.status_code == 200
    assert "Partners join by addendum only to a version in force." in text(response)
    assert not Addendum.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"), [("UB_staff", 200), ("CA_admin", 200), ("UC_staff", 404), ("UC_admin", 404)]
)
def test_signed_pdf_is_served_to_members_only(client, world, who, status):
    version = version_under_signature(world)
    signature = record_signature(world, version, world.ua)
    login(client, world, who)
    response = client.get(url("agreement-pdf", "signature", signature.pk))
    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment")
        assert b"".join(response.streaming_content) == PDF_BYTES


def test_signed_addendum_pdf_is_served_to_members(client, world):
    version = version_in_force(world)
    addendum = services.addendum_create(
        actor=world.people["CA_admin"], version=version, institution=world.ea, summary="EA joins.", role="associated"
    )
    services.addendum_bring_into_force(actor=world.people["CA_admin"], addendum=addendum, signed_pdf=pdf_upload())
    login(client, world, "UB_staff")
    response = client.get(url("agreement-pdf", "addendum", addendum.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    login(client, world, "UC_staff")
    assert client.get(url("agreement-pdf", "addendum", addendum.pk)).status_code == 404


def test_pdf_of_an_unknown_kind_is_404(client, world):
    version = version_under_signature(world)
    signature = record_signature(world, version, world.ua)
    login(client, world, "CA_admin")
    assert client.get(url("agreement-pdf", "contract", signature.pk)).status_code == 404
    assert client.get(url("agreement-pdf", "addendum", signature.pk)).status_code == 404


def test_addendum_without_pdf_is_404(client, world):
    version = version_in_force(world)
    addendum = services.addendum_create(
        actor=world.people["CA_admin"], version=version, institution=world.ea, summary="EA joins.", role="associated"
    )
    login(client, world, "CA_admin")
    assert client.get(url("agreement-pdf", "addendum", addendum.pk)).status_code == 404


def test_version_start_refused_while_a_draft_is_open(client, world):
    version = draft_version(world)
    login(client, world, "CA_admin")
    response = client.post(url("agreement-version-start", version.agreement.pk), follow=True)
    assert response.redirect_chain[-1][0] == url("agreement-version", version.pk)
    assert "Version 1 is still Draft; finish it before starting another." in text(response)
    assert version.agreement.versions.count() == 1


def test_agreement_create_refuses_a_duplicate_title(client, world):
    draft_version(world, title="Only Once")
    login(client, world, "CA_admin")
    response = client.post(
        url("agreement-create", world.ca.pk), {"kind": "programme", "title": "Only Once", "parties": [world.ua.pk]}
    )
    assert response.status_code == 200
    assert "Agreement with this Consortium and Title already exists." in text(response)
    assert version_count(world) == 1


def version_count(world) -> int:
    return AgreementVersion.objects.filter(agreement__consortium=world.ca).count()


@pytest.mark.parametrize("who", ["UA_admin", "UB_staff"])
def test_agreement_create_is_for_consortium_admins(client, world, who):
    login(client, world, who)
    response = client.post(url("agreement-create", world.ca.pk), {"kind": "programme", "title": "Mine"})
    assert response.status_code == 403
    assert version_count(world) == 0


# --- 7. API tokens --------------------------------------------------------------------------------------


def token_data(institution, name="Student information system", scopes=("institutions:read",), **overrides):
    data = {"institution": institution.pk, "name": name, "scopes": list(scopes), "expires_on": ""}
    data.update(overrides)
    return data


def test_token_create_shows_the_key_once_and_stores_only_its_hash(client, world):
    ua_admin = login(client, world, "UA_admin")
    form = client.get(url("token-create"))
    assert form.status_code == 200
    assert set(form.context["form"].fields["institution"].queryset) == {world.ua}
    response = client.post(url("token-create"), token_data(world.ua, scopes=["institutions:read", "consortia:read"]))
    assert response.status_code == 200
    key = response.context["key"]
    assert key and key in text(response)
    assert "it is shown only once" in text(response)

    token = ApiToken.objects.get(institution=world.ua, name="Student information system")
    assert key not in token.key_hash
    assert hashlib.sha256(key.encode()).hexdigest() == token.key_hash
    assert token.prefix == key[:8]
    assert token.scopes == ["consortia:read", "institutions:read"]
    assert token.created_by == ua_admin
    assert token.expires_at > timezone.now() + dt.timedelta(days=300)

    listing = text(client.get(url("token-list")))
    assert "Student information system" in listing
    assert token.prefix in listing
    assert key not in listing


def test_token_create_with_an_expiry_date(client, world):
    login(client, world, "UA_admin")
    expires = timezone.localdate() + dt.timedelta(days=30)
    response = client.post(url("token-create"), token_data(world.ua, expires_on=expires.isoformat()))
    assert response.status_code == 200
    token = ApiToken.objects.get(institution=world.ua)
    assert timezone.localtime(token.expires_at).date() == expires


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"scopes": []}, "This field is required."),
        ({"scopes": ["everything:write"]}, "Select a valid choice. everything:write is not one of the available"),
        ({"expires_on": "2000-01-01"}, "The expiry date must be in the future."),
        ({"expires_on": "someday"}, "Enter a valid date."),
        ({"name": "N" * 300}, "Ensure this value has at most 100 characters"),
    ],
)
def test_token_create_invalid(client, world, overrides, message):
    login(client, world, "UA_admin")
    response = client.post(url("token-create"), token_data(world.ua, **overrides))
    assert response.status_code == 200
    assert message in text(response)
    assert not ApiToken.objects.exists()


def test_token_create_refuses_a_duplicate_name(client, world):
    services.apitoken_create(
        actor=world.people["UA_admin"], institution=world.ua, name="SIS", scopes=["institutions:read"]
    )
    login(client, world, "UA_admin")
    response = client.post(url("token-create"), token_data(world.ua, name="SIS"))
    assert response.status_code == 200
    assert "UA already has a token called “SIS”." in text(response)
    assert ApiToken.objects.count() == 1


def test_token_create_for_another_institution_is_refused(client, world):
    login(client, world, "UA_admin")
    response = client.post(url("token-create"), token_data(world.ub))
    assert response.status_code == 200
    assert "Select a valid choice." in text(response)
    assert not ApiToken.objects.exists()


def test_token_list_shows_only_own_institutions_tokens(client, world):
    services.apitoken_create(
        actor=world.people["UA_admin"], institution=world.ua, name="UA system", scopes=["institutions:read"]
    )
    services.apitoken_create(
        actor=world.people["UB_admin"], institution=world.ub, name="UB system", scopes=["institutions:read"]
    )
    login(client, world, "UA_admin")
    response = client.get(url("token-list"))
    assert response.status_code == 200
    assert [t.name for t in response.context["object_list"]] == ["UA system"]
    assert "UA system" in text(response)
    assert "UB system" not in text(response)


def test_token_revoke(client, world):
    token, key = services.apitoken_create(
        actor=world.people["UA_admin"], institution=world.ua, name="Old system", scopes=["institutions:read"]
    )
    login(client, world, "UA_admin")
    assert client.get(url("token-revoke", token.pk)).status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None

    response = client.post(url("token-revoke", token.pk), follow=True)
    assert response.redirect_chain[-1][0] == url("token-list")
    assert "Token revoked" in text(response)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert services.apitoken_authenticate(key) is None
    assert "revoked" in text(response)

    response = client.post(url("token-revoke", token.pk), follow=True)
    assert "This token was already revoked" in text(response)


def test_token_of_another_institution_cannot_be_revoked(client, world):
    token, _key = services.apitoken_create(
        actor=world.people["UB_admin"], institution=world.ub, name="UB system", scopes=["institutions:read"]
    )
    login(client, world, "UA_admin")
    assert client.post(url("token-revoke", token.pk)).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.parametrize("who", ["UA_staff", "UA_students", "CA_admin", "learner"])
@pytest.mark.parametrize("name", ["token-list", "token-create"])
def test_tokens_are_for_institution_admins_only(client, world, who, name):
    login(client, world, who)
    assert client.get(url(name)).status_code == 403


# --- 8. Staff and roles ---------------------------------------------------------------------------------


def shown(page: str, user) -> bool:
    return f">{user.email}<" in page


def test_staff_list_shows_own_institution_only(client, world):
    login(client, world, "UA_admin")
    response = client.get(url("staff-list"))
    page = text(response)
    assert response.status_code == 200
    for who in ("UA_admin", "UA_students", "UA_staff", "CA_admin"):
        assert shown(page, world.people[who]), who
    for who in ("UB_admin", "UB_staff", "UC_admin", "UC_staff"):
        assert not shown(page, world.people[who]), who
    assert {p.institution for p in response.context["object_list"]} == {world.ua}


def test_staff_list_search(client, world):
    login(client, world, "UA_admin")
    target = world.people["UA_students"]
    response = client.get(url("staff-list"), {"q": target.email})
    assert [p.user for p in response.context["object_list"]] == [target]


def test_staff_add(client, world):
    login(client, world, "UA_admin")
    assert client.get(url("staff-add")).status_code == 200
    response = client.post(
        url("staff-add"),
        {
            "institution": world.ua.pk,
            "email": "New.Person@UA.example",
            "full_name": "New Person",
            "job_title": "Coordinator",
        },
    )
    assert response.status_code == 302
    assert response.url == url("staff-list")
    profile = StaffProfile.objects.get(user__email="new.person@ua.example")
    assert (profile.institution, profile.job_title) == (world.ua, "Coordinator")
    page = text(client.get(url("staff-list")))
    assert "Staff member added." in page
    assert ">new.person@ua.example<" in page


def test_staff_add_refuses_staff_of_another_institution(client, world):
    ub_staff = world.people["UB_staff"]
    login(client, world, "UA_admin")
    response = client.post(
        url("staff-add"), {"institution": world.ua.pk, "email": ub_staff.email, "full_name": "Someone"}
    )
    assert response.status_code == 200
    assert f"{ub_staff.email} is already staff of UB." in text(response)
    ub_staff.staff_profile.refresh_from_db()
    assert ub_staff.staff_profile.institution == world.ub


def test_staff_add_to_another_institution_is_refused(client, world):
    login(client, world, "UA_admin")
    response = client.post(url("staff-add"), {"institution": world.ub.pk, "email": "x@ub.example", "full_name": "X"})
    assert response.status_code == 200
    assert "Select a valid choice." in text(response)
    assert not StaffProfile.objects.filter(user__email="x@ub.example").exists()


def test_role_grant_and_revoke(client, world):
    ua_staff = world.people["UA_staff"]
    login(client, world, "UA_admin")
    profile = ua_staff.staff_profile
    assert client.get(url("role-grant", profile.pk)).status_code == 405
    response = client.post(url("role-grant", profile.pk), {"role": "finance_officer"}, follow=True)
    assert "Role granted." in text(response)
    assignment = RoleAssignment.objects.get(user=ua_staff, role="finance_officer")
    assert assignment.institution == world.ua
    assert url("role-revoke", assignment.pk) in text(response)

    assert client.get(url("role-revoke", assignment.pk)).status_code == 405
    response = client.post(url("role-revoke", assignment.pk), follow=True)
    assert "Role revoked." in text(response)
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert AuditEvent.objects.filter(action="role.revoked", institution_id=world.ua.pk, via="browser").exists()


@pytest.mark.parametrize("role", ["", "consortium_admin", "wizard"])
def test_role_grant_refuses_unknown_roles(client, world, role):
    ua_staff = world.people["UA_staff"]
    login(client, world, "UA_admin")
    response = client.post(url("role-grant", ua_staff.staff_profile.pk), {"role": role}, follow=True)
    assert "Choose a role." in text(response)
    assert not RoleAssignment.objects.filter(user=ua_staff).exists()


def test_other_institution_admin_cannot_touch_ua_roles(client, world):
    assignment = RoleAssignment.objects.get(user=world.people["UA_students"], role="student_admin")
    login(client, world, "UB_admin")
    assert client.post(url("role-revoke", assignment.pk)).status_code == 404
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists()
    profile = world.people["UA_staff"].staff_profile
    assert client.post(url("role-grant", profile.pk), {"role": "student_admin"}).status_code == 404
    assert not RoleAssignment.objects.filter(user=world.people["UA_staff"]).exists()


def test_consortium_admin_role_cannot_be_revoked_from_the_staff_page(client, world):
    assignment = RoleAssignment.objects.get(user=world.people["CA_admin"], role="consortium_admin")
    login(client, world, "UA_admin")
    assert client.post(url("role-revoke", assignment.pk)).status_code == 404
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists()


@pytest.mark.parametrize("who", ["UA_staff", "UA_students", "CA_admin", "learner"])
def test_staff_pages_are_for_institution_admins_only(client, world, who):
    login(client, world, who)
    assert client.get(url("staff-list")).status_code == 403
    assert client.get(url("staff-add")).status_code == 403


# --- 9. Audit trail ----------------------------------------------------------------------------------


def test_audit_trail_shows_browser_actions_to_the_consortium_admin_only(client, world):
    login(client, world, "CA_admin")
    client.post(
        url("agreement-create", world.ca.pk),
        {"kind": "framework", "title": "Framework Agreement", "parties": [world.ua.pk, world.ub.pk]},
    )
    event = AuditEvent.objects.get(action="agreement.created")
    assert (event.via, event.consortium_id) == ("browser", world.ca.pk)

    response = client.get(url("audit-list"), {"action": "agreement."})
    page = text(response)
    assert response.status_code == 200
    assert "<code>agreement.created</code>" in page
    assert "Framework Agreement" in page
    assert "Browser" in page
    assert [e.action for e in response.context["object_list"]] == ["agreement.created"]
    assert not client.get(url("audit-list"), {"via": "api"}).context["object_list"]
    assert client.get(url("audit-list"), {"via": "browser"}).context["object_list"]

    login(client, world, "UC_admin")
    response = client.get(url("audit-list"))
    assert response.status_code == 200
    assert "agreement.created" not in text(response)
    assert "Framework Agreement" not in text(response)


def test_audit_trail_of_an_institution_admin_shows_own_institution(client, world):
    login(client, world, "UA_admin")
    client.post(url("contact-add", world.ua.pk), contact_data(name="UA Helpdesk"))
    login(client, world, "UB_admin")
    client.post(url("contact-add", world.ub.pk), contact_data(name="UB Helpdesk"))
    login(client, world, "UA_admin")
    response = client.get(url("audit-list"))
    assert [e.institution_id for e in response.context["object_list"]] == [world.ua.pk]
    assert "UA Helpdesk" in text(response)
    assert "UB Helpdesk" not in text(response)


@pytest.mark.parametrize("who", ["UA_staff", "UA_students", "learner"])
def test_audit_trail_is_refused_to_others(client, world, who):
    login(client, world, who)
    assert client.get(url("audit-list")).status_code == 403


# --- 10. Garbage input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/institutions/not-a-uuid/",
        "/institutions/123/edit/",
        "/institutions/xyz/signature/",
        "/consortia/1/",
        "/memberships/%27%20OR%201=1/end/",
        "/agreements/42/",
        "/agreements/versions/abc/",
        "/agreements/signature/abc/pdf/",
        "/tokens/abc/revoke/",
        "/staff/abc/roles/grant/",
    ],
)
def test_malformed_ids_are_404(client, world, path):
    login(client, world, "superuser")
    assert client.get(path).status_code == 404
    assert client.post(path).status_code == 404


@pytest.mark.parametrize(
    ("name", "args"),
    [p for p in PROTECTED_PAGES if MISSING in p[1]],
    ids=[p[0] for p in PROTECTED_PAGES if MISSING in p[1]],
)
def test_unknown_ids_are_404(client, world, name, args):
    """Even the superuser, who may do anything, gets 404 for an id that matches nothing."""
    login(client, world, "superuser")
    path = url(name, *args)
    assert client.get(path).status_code == 404
    assert client.post(path).status_code == 404


def test_unknown_transition_is_404(client, world):
    version = draft_version(world)
    login(client, world, "CA_admin")
    assert client.post(url("agreement-transition", version.pk, "explode")).status_code == 404
    version.refresh_from_db()
    assert version.status == AgreementStatus.DRAFT


@pytest.fixture
def forms_world(world):
    """The objects the forms below are about: a draft, a version in force with a draft addendum."""
    world.draft = draft_version(world, title="Draft Agreement")
    world.in_force = version_in_force(world, title="Agreement In Force")
    world.addendum = services.addendum_create(
        actor=world.people["CA_admin"],
        version=world.in_force,
        institution=world.ea,
        summary="EA joins.",
        role="associated",
    )
    world.under_signature = version_under_signature(world, title="Agreement Under Signature")
    return world


FORM_PAGES = [
    ("CA_admin", "institution-create", lambda w: ()),
    ("UA_admin", "institution-update", lambda w: (w.ua.pk,)),
    ("UA_admin", "contact-add", lambda w: (w.ua.pk,)),
    ("superuser", "consortium-create", lambda w: ()),
    ("CA_admin", "consortium-update", lambda w: (w.ca.pk,)),
    ("CA_admin", "membership-add", lambda w: (w.ca.pk,)),
    ("CA_admin", "membership-end", lambda w: (w.ca.memberships.get(institution=w.ub).pk,)),
    ("CA_admin", "agreement-create", lambda w: (w.ca.pk,)),
    ("CA_admin", "agreement-financial-model", lambda w: (w.draft.pk,)),
    ("CA_admin", "agreement-party-add", lambda w: (w.draft.pk,)),
    ("CA_admin", "agreement-sign", lambda w: (w.under_signature.pk,)),
    ("CA_admin", "addendum-create", lambda w: (w.in_force.pk,)),
    ("CA_admin", "addendum-in-force", lambda w: (w.addendum.pk,)),
    ("UA_admin", "token-create", lambda w: ()),
    ("UA_admin", "staff-add", lambda w: ()),
]


@pytest.mark.parametrize(("who", "name", "args"), FORM_PAGES, ids=[f[1] for f in FORM_PAGES])
def test_forms_render_and_refuse_empty_posts(client, forms_world, who, name, args):
    login(client, forms_world, who)
    path = url(name, *args(forms_world))
    assert client.get(path).status_code == 200
    audit_before = AuditEvent.objects.count()
    response = client.post(path, {})
    assert response.status_code == 200
    assert "This field is required." in text(response)
    assert AuditEvent.objects.count() == audit_before  # nothing was done


def test_empty_sections_form_is_a_valid_edit_not_a_crash(client, world):
    version = draft_version(world)
    login(client, world, "CA_admin")
    response = client.post(url("agreement-sections", version.pk), {"effective_until": "not-a-date"})
    assert response.status_code == 200
    assert "Enter a valid date." in text(response)
    version.refresh_from_db()
    assert version.governance  # unchanged


BAD_INPUT = [
    (
        "CA_admin",
        "institution-create",
        lambda w: (),
        lambda w: institution_data(short_name="S" * 300),
        "Ensure this value has at most 64 characters (it has 300).",
    ),
    (
        "UA_admin",
        "institution-update",
        lambda w: (w.ua.pk,),
        lambda w: institution_edit_data(w.ua, short_name="S" * 300),
        "Ensure this value has at most 64 characters (it has 300).",
    ),
    (
        "superuser",
        "consortium-create",
        lambda w: (),
        lambda w: {"name": "N", "acronym": "A" * 300},
        "Ensure this value has at most 32 characters (it has 300).",
    ),
    (
        "CA_admin",
        "agreement-create",
        lambda w: (w.ca.pk,),
        lambda w: {"kind": "programme", "title": "T" * 300},
        "Ensure this value has at most 255 characters (it has 300).",
    ),
    (
        "UA_admin",
        "contact-add",
        lambda w: (w.ua.pk,),
        lambda w: contact_data(name="N" * 300),
        "Ensure this value has at most 255 characters (it has 300).",
    ),
    (
        "UA_admin",
        "staff-add",
        lambda w: (),
        lambda w: {"institution": w.ua.pk, "email": "person@ua.example", "full_name": "F" * 300},
        "Ensure this value has at most 255 characters (it has 300).",
    ),
    (
        "UA_admin",
        "staff-add",
        lambda w: (),
        lambda w: {"institution": "not-a-uuid", "email": "not an email", "full_name": "F"},
        "Enter a valid email address.",
    ),
    (
        "CA_admin",
        "membership-add",
        lambda w: (w.ca.pk,),
        lambda w: {"institution": "not-a-uuid", "role": "lead", "joined_on": "31/31/2025"},
        "Enter a valid date.",
    ),
    (
        "CA_admin",
        "membership-add",
        lambda w: (w.ca.pk,),
        lambda w: {"institution": w.uc.pk, "role": "overlord", "joined_on": "2025-01-01"},
        "Select a valid choice.",
    ),
]


@pytest.mark.parametrize(("who", "name", "args", "data", "message"), BAD_INPUT, ids=[b[1] for b in BAD_INPUT])
def test_overlong_or_malformed_input_gives_form_errors(client, world, who, name, args, data, message):
    login(client, world, who)
    audit_before = AuditEvent.objects.count()
    response = client.post(url(name, *args(world)), data(world))
    assert response.status_code == 200
    assert message in text(response)
    assert AuditEvent.objects.count() == audit_before


@pytest.mark.parametrize(
    "query",
    [{"country": "ZZZZ"}, {"kind": "<script>alert(1)</script>"}, {"q": "%' OR 1=1 --"}, {"q": "x" * 5000}],
)
def test_institution_list_survives_garbage_filters(client, world, query):
    login(client, world, "UA_staff")
    response = client.get(url("institution-list"), query)
    assert response.status_code == 200
    assert not response.context["object_list"]
    assert "<script>alert(1)</script>" not in text(response)


def test_audit_list_survives_garbage_filters(client, world):
    login(client, world, "CA_admin")
    response = client.get(url("audit-list"), {"via": "<b>nope</b>", "action": "x" * 1000, "page": "last"})
    assert response.status_code == 200
    assert "<b>nope</b>" not in text(response)


def test_posts_without_csrf_token_are_refused(world):
    contact = ContactFactory(institution=world.ua)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.people["UA_admin"])
    assert browser.post(url("contact-remove", contact.pk)).status_code == 403
    assert InstitutionContact.objects.filter(pk=contact.pk).exists()


def test_unsafe_next_is_not_used_as_cancel_link(client, world):
    login(client, world, "UA_admin")
    response = client.get(url("contact-add", world.ua.pk), {"next": "https://evil.example/"})
    assert response.context["cancel_url"] == "/dashboard/"
    response = client.get(url("contact-add", world.ua.pk), {"next": url("institution-detail", world.ua.pk)})
    assert response.context["cancel_url"] == url("institution-detail", world.ua.pk)


def test_learner_gets_403_not_500_on_management_pages(client, world):
    login(client, world, "learner")
    for path in (url("institution-create"), url("consortium-create"), url("staff-add"), url("token-create")):
        assert client.get(path).status_code == 403, path

"""The partner REST API under ``/api/v1/``: authentication, scopes, isolation, errors and the lifecycle."""

import datetime as dt
import hashlib

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from consortium import services
from consortium.models import Agreement, AgreementVersion, ApiToken, AuditEvent, Institution, Membership
from consortium.rest.throttling import PerTokenRateThrottle

from ..factories import (
    AgreementFactory,
    AgreementPartyFactory,
    AgreementVersionFactory,
    ConsortiumFactory,
    ContactFactory,
    InstitutionFactory,
    MembershipFactory,
    RoleAssignmentFactory,
    StaffFactory,
)

API = "/api/v1"
SECTIONS = (
    "governance",
    "obligations",
    "ects_recognition",
    "marketing_branding",
    "certificate",
    "intellectual_property",
    "exclusivity",
    "gdpr",
    "term_termination",
    "applicable_law",
)


def ids(response) -> set[str]:
    return {row["id"] for row in response.json()["results"]}


def short_names(response) -> list[str]:
    return [row["short_name"] for row in response.json()["results"]]


def make_token(institution, scopes, name="partner system", **kwargs):
    """A fresh token and its key (the key is only available at creation)."""
    return services.apitoken_create(
        actor=None, institution=institution, name=name, scopes=scopes, check_policy=False, **kwargs
    )


def client_for_key(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def session_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def cb_agreement(world):
    """An agreement in consortium CB (UC only), with its first version."""
    agreement = AgreementFactory(consortium=world.cb, title="CB framework", kind="framework")
    version = AgreementVersionFactory(agreement=agreement)
    AgreementPartyFactory(version=version, institution=world.uc, role="lead")
    return agreement


@pytest.fixture
def ca_agreement(world):
    agreement = AgreementFactory(consortium=world.ca, title="CA programme")
    version = AgreementVersionFactory(agreement=agreement)
    AgreementPartyFactory(version=version, institution=world.ua, role="lead")
    AgreementPartyFactory(version=version, institution=world.ub, role="partner")
    return agreement


# --- 1. Token authentication ------------------------------------------------------------------------


class TestTokenAuthentication:
    def test_valid_token_is_accepted(self, world):
        _token, key = make_token(world.ua, ["institutions:read"])
        response = client_for_key(key).get(f"{API}/institutions/")
        assert response.status_code == 200
        assert response.json()["count"] == 4

    def test_wrong_key_is_401_with_json_detail(self, world):
        make_token(world.ua, ["institutions:read"])
        response = client_for_key("not-the-key-at-all").get(f"{API}/institutions/")
        assert response.status_code == 401
        assert response["Content-Type"].startswith("application/json")
        assert response.json()["detail"]
        assert response["WWW-Authenticate"] == "Token"

    def test_malformed_authorization_header_is_401(self, world):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Token two parts")
        response = client.get(f"{API}/institutions/")
        assert response.status_code == 401
        assert "detail" in response.json()

    def test_revoked_token_is_401(self, world):
        token, key = make_token(world.ua, ["institutions:read"])
        client = client_for_key(key)
        assert client.get(f"{API}/institutions/").status_code == 200
        services.apitoken_revoke(actor=world.people["UA_admin"], token=token)
        response = client.get(f"{API}/institutions/")
        assert response.status_code == 401
        assert response.json()["detail"]

    def test_token_with_revoked_at_set_directly_is_401(self, world):
        token, key = make_token(world.ua, ["institutions:read"])
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
        response = client_for_key(key).get(f"{API}/institutions/")
        assert response.status_code == 401
        assert response.json()["detail"]

    def test_expired_token_is_401(self, world):
        token, key = make_token(world.ua, ["institutions:read"])
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
        response = client_for_key(key).get(f"{API}/institutions/")
        assert response.status_code == 401
        assert response.json()["detail"]

    def test_last_used_at_is_recorded(self, world):
        token, key = make_token(world.ua, ["institutions:read"])
        assert token.last_used_at is None
        before = timezone.now()
        assert client_for_key(key).get(f"{API}/institutions/").status_code == 200
        token.refresh_from_db()
        assert token.last_used_at is not None
        assert token.last_used_at >= before

    def test_failed_authentication_does_not_touch_last_used_at(self, world):
        token, key = make_token(world.ua, ["institutions:read"])
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
        client_for_key(key).get(f"{API}/institutions/")
        token.refresh_from_db()
        assert token.last_used_at is None

    def test_only_the_sha256_of_the_key_is_stored(self, world):
        token, key = make_token(world.ua, ["institutions:read"])
        token.refresh_from_db()
        assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
        assert token.prefix == key[:8]
        stored = ApiToken.objects.filter(pk=token.pk).values().get()
        assert key not in {str(v) for v in stored.values()}

    def test_token_acts_for_its_institution(self, world):
        _token, key = make_token(world.ua, ["institutions:read"])
        response = client_for_key(key).get(f"{API}/institutions/{world.ua.id}/")
        assert response.status_code == 200
        assert response.json()["short_name"] == "UA"


# --- 2. Scopes -----------------------------------------------------------------------------------------


class TestScopes:
    def test_read_scope_lists_institutions_but_not_consortia(self, world):
        _token, key = make_token(world.ua, ["institutions:read"])
        client = client_for_key(key)
        assert client.get(f"{API}/institutions/").status_code == 200
        response = client.get(f"{API}/consortia/")
        assert response.status_code == 403
        assert response.json()["detail"]

    def test_missing_scope_refuses_detail_too(self, world):
        _token, key = make_token(world.ua, ["institutions:read"])
        client = client_for_key(key)
        assert client.get(f"{API}/consortia/{world.ca.id}/").status_code == 403
        assert client.get(f"{API}/memberships/").status_code == 403
        assert client.get(f"{API}/agreements/").status_code == 403

    def test_consortia_scope_allows_consortia_only(self, world):
        _token, key = make_token(world.ua, ["consortia:read"])
        client = client_for_key(key)
        assert client.get(f"{API}/consortia/").status_code == 200
        assert client.get(f"{API}/institutions/").status_code == 403

    def test_read_scope_cannot_write(self, world):
        _token, key = make_token(world.ua, ["institutions:read"])
        response = client_for_key(key).patch(f"{API}/institutions/{world.ua.id}/", {"city": "Gent"})
        assert response.status_code == 403
        world.ua.refresh_from_db()
        assert world.ua.city == "Leuven"

    def test_write_scope_allows_write(self, world):
        _token, key = make_token(world.ua, ["institutions:read", "institutions:write"])
        response = client_for_key(key).patch(f"{API}/institutions/{world.ua.id}/", {"city": "Gent"})
        assert response.status_code == 200
        world.ua.refresh_from_db()
        assert world.ua.city == "Gent"

    def test_consortia_read_cannot_patch_consortium(self, world):
        _token, key = make_token(world.ua, ["consortia:read"])
        response = client_for_key(key).patch(f"{API}/consortia/{world.ca.id}/", {"description": "x"})
        assert response.status_code == 403
        world.ca.refresh_from_db()
        assert world.ca.description == ""

    def test_memberships_read_cannot_create_membership(self, world):
        _token, key = make_token(world.ua, ["memberships:read", "consortia:read"])
        response = client_for_key(key).post(
            f"{API}/memberships/",
            {"consortium": str(world.ca.id), "institution": str(world.uc.id), "role": "partner"},
        )
        assert response.status_code == 403
        assert not Membership.objects.filter(consortium=world.ca, institution=world.uc).exists()

    def test_agreements_read_cannot_transition(self, world, ca_agreement):
        _token, key = make_token(world.ua, ["agreements:read"])
        version = ca_agreement.versions.get()
        client = client_for_key(key)
        assert client.get(f"{API}/agreement-versions/{version.id}/").status_code == 200
        response = client.post(f"{API}/agreement-versions/{version.id}/terminate/", {"reason": "because"})
        assert response.status_code == 403
        version.refresh_from_db()
        assert version.status == "draft"

    def test_tokens_cannot_create_institutions(self, world):
        _token, key = make_token(world.ua, ["institutions:read", "institutions:write"])
        response = client_for_key(key).post(
            f"{API}/institutions/",
            {"legal_name": "New U", "short_name": "NU", "kind": "university", "country": "FR", "city": "Lyon"},
        )
        assert response.status_code == 403
        assert not Institution.objects.filter(short_name="NU").exists()


# --- 3. Isolation between institutions and consortia -----------------------------------------------------


class TestIsolation:
    def test_ua_token_lists_only_its_consortia(self, world):
        _token, key = make_token(world.ua, ["consortia:read"])
        response = client_for_key(key).get(f"{API}/consortia/")
        assert response.status_code == 200
        assert ids(response) == {str(world.ca.id)}

    def test_uc_token_lists_only_cb(self, world):
        _token, key = make_token(world.uc, ["consortia:read"])
        response = client_for_key(key).get(f"{API}/consortia/")
        assert ids(response) == {str(world.cb.id)}

    def test_memberships_are_filtered(self, world):
        _token, key = make_token(world.ua, ["memberships:read"])
        response = client_for_key(key).get(f"{API}/memberships/")
        assert response.status_code == 200
        expected = {str(m.id) for m in Membership.objects.filter(consortium=world.ca)}
        assert ids(response) == expected
        assert len(expected) == 3
        assert {row["consortium"] for row in response.json()["results"]} == {str(world.ca.id)}

    def test_memberships_of_a_consortium_left_are_hidden(self, world):
        Membership.objects.filter(consortium=world.ca, institution=world.ub).update(left_on=dt.date(2025, 6, 1))
        _token, key = make_token(world.ub, ["memberships:read", "consortia:read"])
        client = client_for_key(key)
        # No active membership anywhere: the collection itself is refused.
        for url in (f"{API}/memberships/", f"{API}/consortia/"):
            response = client.get(url)
            assert response.status_code == 403, url
            assert "results" not in response.json()
        assert client.get(f"{API}/consortia/{world.ca.id}/").status_code == 404

    def test_agreements_are_filtered(self, world, ca_agreement, cb_agreement):
        _token, key = make_token(world.ua, ["agreements:read"])
        response = client_for_key(key).get(f"{API}/agreements/")
        assert response.status_code == 200
        assert ids(response) == {str(ca_agreement.id)}

    def test_uc_token_does_not_see_ca_agreements(self, world, ca_agreement, cb_agreement):
        _token, key = make_token(world.uc, ["agreements:read"])
        client = client_for_key(key)
        response = client.get(f"{API}/agreements/")
        assert ids(response) == {str(cb_agreement.id)}
        assert client.get(f"{API}/agreements/{ca_agreement.id}/").status_code == 404
        ca_version = ca_agreement.versions.get()
        assert client.get(f"{API}/agreement-versions/{ca_version.id}/").status_code == 404

    def test_associated_employer_token_sees_its_consortium(self, world, ca_agreement):
        _token, key = make_token(world.ea, ["agreements:read", "consortia:read"])
        client = client_for_key(key)
        assert ids(client.get(f"{API}/consortia/")) == {str(world.ca.id)}
        assert ids(client.get(f"{API}/agreements/")) == {str(ca_agreement.id)}

    def test_detail_of_other_consortium_objects_is_404(self, world, cb_agreement):
        _token, key = make_token(world.ua, ["consortia:read", "memberships:read", "agreements:read"])
        client = client_for_key(key)
        cb_membership = Membership.objects.get(consortium=world.cb)
        cb_version = cb_agreement.versions.get()
        for url in (
            f"{API}/consortia/{world.cb.id}/",
            f"{API}/memberships/{cb_membership.id}/",
            f"{API}/agreements/{cb_agreement.id}/",
            f"{API}/agreement-versions/{cb_version.id}/",
        ):
            response = client.get(url)
            assert response.status_code == 404, url
            assert "detail" in response.json()

    def test_writes_to_other_consortium_objects_are_404(self, world, cb_agreement):
        _token, key = make_token(world.ua, ["memberships:write", "agreements:write", "consortia:write"])
        client = client_for_key(key)
        cb_membership = Membership.objects.get(consortium=world.cb)
        cb_version = cb_agreement.versions.get()
        assert client.post(f"{API}/memberships/{cb_membership.id}/end/", {}).status_code == 404
        assert client.post(f"{API}/agreement-versions/{cb_version.id}/terminate/", {"reason": "x"}).status_code == 404
        assert client.patch(f"{API}/consortia/{world.cb.id}/", {"description": "x"}).status_code == 404
        cb_membership.refresh_from_db()
        assert cb_membership.left_on is None

    def test_own_detail_is_visible(self, world, ca_agreement):
        _token, key = make_token(world.ub, ["consortia:read", "agreements:read"])
        client = client_for_key(key)
        assert client.get(f"{API}/consortia/{world.ca.id}/").json()["acronym"] == "CA"
        body = client.get(f"{API}/agreements/{ca_agreement.id}/").json()
        assert body["title"] == "CA programme"
        assert body["versions"][0]["status"] == "draft"

    def test_contacts_only_for_own_institution(self, world):
        ContactFactory(institution=world.ua, name="Ann Legal")
        ContactFactory(institution=world.ub, name="Bob Legal")
        _token, key = make_token(world.ua, ["institutions:read"])
        client = client_for_key(key)
        rows = {row["short_name"]: row for row in client.get(f"{API}/institutions/").json()["results"]}
        assert [c["name"] for c in rows["UA"]["contacts"]] == ["Ann Legal"]
        assert rows["UB"]["contacts"] is None
        assert rows["UC"]["contacts"] is None
        assert client.get(f"{API}/institutions/{world.ub.id}/").json()["contacts"] is None
        assert client.get(f"{API}/institutions/{world.ua.id}/").json()["contacts"][0]["name"] == "Ann Legal"

    def test_consortium_admin_sees_contacts_of_members_only(self, world):
        ContactFactory(institution=world.ub, name="Bob Legal")
        ContactFactory(institution=world.uc, name="Carl Legal")
        client = session_client(world.people["CA_admin"])
        rows = {row["short_name"]: row for row in client.get(f"{API}/institutions/").json()["results"]}
        assert [c["name"] for c in rows["UB"]["contacts"]] == ["Bob Legal"]
        assert rows["UC"]["contacts"] is None

    def test_signature_image_is_never_exposed(self, world):
        _token, key = make_token(world.ua, ["institutions:read"])
        body = client_for_key(key).get(f"{API}/institutions/{world.ua.id}/").json()
        assert "signatory_signature" not in body
        assert body["has_signature_image"] is False


# --- 4. Session authentication ---------------------------------------------------------------------------


class TestSessionAuthentication:
    def test_logged_in_user_can_read(self, world):
        client = session_client(world.people["UB_staff"])
        assert ids(client.get(f"{API}/consortia/")) == {str(world.ca.id)}

    def test_consortium_admin_creates_membership(self, world):
        client = session_client(world.people["CA_admin"])
        response = client.post(
            f"{API}/memberships/",
            {
                "consortium": str(world.ca.id),
                "institution": str(world.uc.id),
                "role": "partner",
                "joined_on": "2025-03-01",
            },
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["institution_short_name"] == "UC"
        assert body["joined_on"] == "2025-03-01"
        membership = Membership.objects.get(pk=body["id"])
        assert membership.consortium == world.ca and membership.role == "partner"

    def test_joined_on_defaults_to_today(self, world):
        client = session_client(world.people["CA_admin"])
        response = client.post(
            f"{API}/memberships/",
            {"consortium": str(world.ca.id), "institution": str(world.uc.id), "role": "partner"},
        )
        assert response.status_code == 201, response.content
        assert response.json()["joined_on"] == timezone.localdate().isoformat()

    def test_consortium_admin_creates_agreement(self, world):
        client = session_client(world.people["CA_admin"])
        response = client.post(
            f"{API}/agreements/",
            {
                "consortium": str(world.ca.id),
                "kind": "programme",
                "title": "Data science",
                "parties": [str(world.ua.id), str(world.ub.id)],
            },
        )
        assert response.status_code == 201, response.content
        agreement = Agreement.objects.get(pk=response.json()["id"])
        version = agreement.versions.get()
        assert version.status == "draft"
        assert {p.institution.short_name: p.role for p in version.parties.all()} == {"UA": "lead", "UB": "partner"}
        assert response.json()["versions"] == [{"id": str(version.id), "number": 1, "status": "draft"}]

    def test_staff_of_other_consortium_cannot_create(self, world):
        client = session_client(world.people["UC_staff"])
        response = client.post(
            f"{API}/memberships/",
            {"consortium": str(world.ca.id), "institution": str(world.uc.id), "role": "partner"},
        )
        assert response.status_code in (400, 403)
        response = client.post(
            f"{API}/agreements/", {"consortium": str(world.ca.id), "kind": "framework", "title": "Sneaky"}
        )
        assert response.status_code in (400, 403)
        assert not Membership.objects.filter(consortium=world.ca, institution=world.uc).exists()
        assert not Agreement.objects.filter(title="Sneaky").exists()

    def test_admin_of_another_consortium_cannot_create_in_ca(self, world):
        """A consortium admin of CB passes the general check but not the one on CA."""
        cb_admin = StaffFactory(institution=world.uc).user
        RoleAssignmentFactory(user=cb_admin, role="consortium_admin", consortium=world.cb)
        client = session_client(cb_admin)
        response = client.post(
            f"{API}/agreements/", {"consortium": str(world.ca.id), "kind": "framework", "title": "Sneaky"}
        )
        assert response.status_code == 400
        assert "consortium" in response.json()
        response = client.post(
            f"{API}/memberships/",
            {"consortium": str(world.ca.id), "institution": str(world.uc.id), "role": "partner"},
        )
        assert response.status_code == 400
        assert response.json() == {"consortium": ["Unknown consortium."]}
        assert not Agreement.objects.filter(title="Sneaky").exists()
        assert not Membership.objects.filter(consortium=world.ca, institution=world.uc).exists()

    def test_admin_of_another_consortium_who_can_see_ca_is_still_refused(self, world):
        """Staff of UB (a CA member) administering CB: may see CA, may not manage it."""
        ub_cb_admin = StaffFactory(institution=world.ub).user
        RoleAssignmentFactory(user=ub_cb_admin, role="consortium_admin", consortium=world.cb)
        client = session_client(ub_cb_admin)
        response = client.post(
            f"{API}/agreements/", {"consortium": str(world.ca.id), "kind": "framework", "title": "Sneaky"}
        )
        assert response.status_code == 403
        assert not Agreement.objects.filter(title="Sneaky").exists()

    def test_anonymous_is_refused(self, world):
        client = APIClient()
        for url in ("institutions", "consortia", "memberships", "agreements"):
            response = client.get(f"{API}/{url}/")
            assert response.status_code in (401, 403), url
            assert "detail" in response.json()
        response = client.post(
            f"{API}/agreements/", {"consortium": str(world.ca.id), "kind": "framework", "title": "Anon"}
        )
        assert response.status_code in (401, 403)
        assert not Agreement.objects.filter(title="Anon").exists()

    def test_learner_without_staff_profile_sees_nothing(self, world):
        client = session_client(world.people["learner"])
        assert client.get(f"{API}/institutions/").status_code == 403
        assert client.get(f"{API}/consortia/").status_code == 403

    def test_session_post_needs_csrf(self, world):
        client = APIClient(enforce_csrf_checks=True)
        client.force_login(world.people["CA_admin"])
        response = client.post(
            f"{API}/agreements/", {"consortium": str(world.ca.id), "kind": "framework", "title": "No CSRF"}
        )
        assert response.status_code == 403
        assert not Agreement.objects.filter(title="No CSRF").exists()


# --- 5. Agreement lifecycle ----------------------------------------------------------------------------


class TestAgreementLifecycle:
    @pytest.fixture
    def admin(self, world):
        return session_client(world.people["CA_admin"])

    @pytest.fixture
    def version_id(self, world, admin):
        response = admin.post(
            f"{API}/agreements/",
            {
                "consortium": str(world.ca.id),
                "kind": "programme",
                "title": "Green skills",
                "reference": "GS-1",
                "parties": [str(world.ua.id), str(world.ub.id)],
            },
        )
        assert response.status_code == 201, response.content
        return response.json()["versions"][0]["id"]

    def test_read_version(self, world, admin, version_id):
        body = admin.get(f"{API}/agreement-versions/{version_id}/").json()
        assert body["status"] == "draft"
        assert body["number"] == 1
        assert {p["institution_short_name"] for p in body["parties"]} == {"UA", "UB"}
        assert all(body[s] == "" for s in SECTIONS)

    def test_patch_sections(self, admin, version_id):
        response = admin.patch(
            f"{API}/agreement-versions/{version_id}/", {"governance": "A steering board.", "gdpr": "Joint controllers."}
        )
        assert response.status_code == 200, response.content
        assert response.json()["governance"] == "A steering board."
        version = AgreementVersion.objects.get(pk=version_id)
        assert version.gdpr == "Joint controllers."
        assert AuditEvent.objects.filter(action="agreement.updated", object_id=version_id, via="api").exists()

    def test_patch_cannot_change_status(self, admin, version_id):
        response = admin.patch(f"{API}/agreement-versions/{version_id}/", {"status": "in_force"})
        assert response.status_code == 200
        assert AgreementVersion.objects.get(pk=version_id).status == "draft"

    def test_fixed_shares_not_summing_to_100(self, world, admin, version_id):
        response = admin.post(
            f"{API}/agreement-versions/{version_id}/financial-model/",
            {
                "revenue_model": "collecting_partner",
                "collecting_institution": str(world.ua.id),
                "sharing_basis": "fixed",
                "shares": {str(world.ua.id): "60", str(world.ub.id): "30"},
            },
        )
        assert response.status_code == 400
        body = response.json()
        assert body["detail"]
        assert any("100" in reason for reason in body["reasons"])
        version = AgreementVersion.objects.get(pk=version_id)
        assert version.revenue_model == "each_keeps_own"
        assert not version.revenue_shares.exists()

    def test_valid_fixed_shares(self, world, admin, version_id):
        response = admin.post(
            f"{API}/agreement-versions/{version_id}/financial-model/",
            {
                "revenue_model": "collecting_partner",
                "collecting_institution": str(world.ua.id),
                "sharing_basis": "fixed",
                "shares": {str(world.ua.id): "70", str(world.ub.id): "30"},
            },
        )
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["revenue_model"] == "collecting_partner"
        assert body["collecting_institution"] == str(world.ua.id)
        assert {s["institution"]: s["percent"] for s in body["revenue_shares"]} == {
            str(world.ua.id): "70.00",
            str(world.ub.id): "30.00",
        }

    def test_shares_for_a_non_party(self, world, admin, version_id):
        response = admin.post(
            f"{API}/agreement-versions/{version_id}/financial-model/",
            {
                "revenue_model": "collecting_partner",
                "collecting_institution": str(world.ua.id),
                "sharing_basis": "fixed",
                "shares": {str(world.ua.id): "50", str(world.uc.id): "50"},
            },
        )
        assert response.status_code == 400
        assert any("UC" in reason for reason in response.json()["reasons"])

    def test_shares_with_unknown_institution(self, world, admin, version_id):
        unknown = "00000000-0000-0000-0000-000000000000"
        response = admin.post(
            f"{API}/agreement-versions/{version_id}/financial-model/",
            {
                "revenue_model": "collecting_partner",
                "collecting_institution": str(world.ua.id),
                "sharing_basis": "fixed",
                "shares": {str(world.ua.id): "50", unknown: "50"},
            },
        )
        assert response.status_code == 400
        assert "shares" in response.json()

    def test_shares_with_malformed_institution_id(self, world, admin, version_id):
        response = admin.post(
            f"{API}/agreement-versions/{version_id}/financial-model/",
            {
                "revenue_model": "collecting_partner",
                "collecting_institution": str(world.ua.id),
                "sharing_basis": "fixed",
                "shares": {"not-a-uuid": "100"},
            },
        )
        assert response.status_code == 400
        assert "shares" in response.json()

    def test_invalid_revenue_model_is_field_error(self, admin, version_id):
        response = admin.post(f"{API}/agreement-versions/{version_id}/financial-model/", {"revenue_model": "pyramid"})
        assert response.status_code == 400
        assert "revenue_model" in response.json()

    def test_send_for_signature_before_ready(self, admin, version_id):
        response = admin.post(f"{API}/agreement-versions/{version_id}/send-for-signature/")
        assert response.status_code == 400
        body = response.json()
        assert body["detail"]
        assert any("empty" in reason for reason in body["reasons"])
        assert AgreementVersion.objects.get(pk=version_id).status == "draft"

    def test_bring_into_force_on_draft_is_409(self, admin, version_id):
        response = admin.post(f"{API}/agreement-versions/{version_id}/bring-into-force/")
        assert response.status_code == 409
        assert "cannot become" in response.json()["detail"]
        version = AgreementVersion.objects.get(pk=version_id)
        assert version.status == "draft"
        assert version.effective_from is None

    def test_terminate_draft_is_409(self, admin, version_id):
        response = admin.post(f"{API}/agreement-versions/{version_id}/terminate/", {"reason": "No longer needed."})
        assert response.status_code == 409
        assert response.json()["detail"]
        version = AgreementVersion.objects.get(pk=version_id)
        assert version.status == "draft"
        assert version.terminated_on is None
        assert version.termination_reason == ""

    def test_terminate_needs_a_reason(self, admin, version_id):
        response = admin.post(f"{API}/agreement-versions/{version_id}/terminate/", {})
        assert response.status_code == 400
        assert "reason" in response.json()

    def test_return_to_draft_from_draft_is_409(self, admin, version_id):
        response = admin.post(f"{API}/agreement-versions/{version_id}/return-to-draft/")
        assert response.status_code == 409
        assert response.json()["detail"]

    def test_ready_version_goes_out_for_signature_and_back(self, admin, version_id):
        response = admin.patch(f"{API}/agreement-versions/{version_id}/", {s: f"Text of {s}." for s in SECTIONS})
        assert response.status_code == 200
        response = admin.post(f"{API}/agreement-versions/{version_id}/send-for-signature/")
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "under_signature"
        # Sections are frozen while under signature.
        response = admin.patch(f"{API}/agreement-versions/{version_id}/", {"governance": "Changed."})
        assert response.status_code == 409
        assert AgreementVersion.objects.get(pk=version_id).governance == "Text of governance."
        # Nobody has signed yet: bringing into force lists the missing parties.
        response = admin.post(f"{API}/agreement-versions/{version_id}/bring-into-force/")
        assert response.status_code == 409
        assert set(response.json()["reasons"]) == {"UA", "UB"}
        response = admin.post(f"{API}/agreement-versions/{version_id}/return-to-draft/")
        assert response.status_code == 200
        assert response.json()["status"] == "draft"
        assert list(
            AuditEvent.objects.filter(object_id=version_id, action__in=["agreement.under_signature", "agreement.draft"])
            .order_by("at")
            .values_list("action", "via")
        ) == [("agreement.under_signature", "api"), ("agreement.draft", "api")]

    def test_partner_staff_cannot_manage(self, world, version_id):
        client = session_client(world.people["UB_admin"])
        assert client.get(f"{API}/agreement-versions/{version_id}/").status_code == 200
        response = client.patch(f"{API}/agreement-versions/{version_id}/", {"governance": "Mine."})
        assert response.status_code == 403
        assert AgreementVersion.objects.get(pk=version_id).governance == ""


# --- 6. Errors ------------------------------------------------------------------------------------------


class TestErrors:
    @pytest.fixture
    def admin(self, world):
        return session_client(world.people["CA_admin"])

    def test_create_institution(self, admin):
        response = admin.post(
            f"{API}/institutions/",
            {
                "legal_name": "Université de Lyon",
                "short_name": "ULY",
                "kind": "university",
                "country": "FR",
                "city": "Lyon",
                "pic": "987654321",
            },
        )
        assert response.status_code == 201, response.content
        assert response.json()["short_name"] == "ULY"
        assert Institution.objects.get(short_name="ULY").pic == "987654321"

    def test_invalid_pic_is_a_field_error(self, admin):
        response = admin.post(
            f"{API}/institutions/",
            {
                "legal_name": "Université de Lyon",
                "short_name": "ULY",
                "kind": "university",
                "country": "FR",
                "city": "Lyon",
                "pic": "12AB",
            },
        )
        assert response.status_code == 400
        assert response["Content-Type"].startswith("application/json")
        assert "pic" in response.json()
        assert isinstance(response.json()["pic"], list)
        assert not Institution.objects.filter(short_name="ULY").exists()

    def test_missing_fields_are_field_errors(self, admin):
        response = admin.post(f"{API}/institutions/", {"city": "Lyon"})
        assert response.status_code == 400
        body = response.json()
        assert {"legal_name", "short_name", "kind", "country"} <= set(body)
        assert "city" not in body

    def test_invalid_choice_is_a_field_error(self, admin):
        response = admin.post(
            f"{API}/institutions/",
            {"legal_name": "X", "short_name": "X", "kind": "castle", "country": "ZZ", "city": "Lyon"},
        )
        assert response.status_code == 400
        assert {"kind", "country"} <= set(response.json())

    def test_duplicate_short_name_is_a_field_error(self, world, admin):
        response = admin.post(
            f"{API}/institutions/",
            {"legal_name": "Another UA", "short_name": "UA", "kind": "university", "country": "FR", "city": "Lyon"},
        )
        assert response.status_code == 400
        assert "short_name" in response.json()

    def test_duplicate_pic_is_400_not_500(self, world, admin):
        response = admin.post(
            f"{API}/institutions/",
            {
                "legal_name": "PIC clash",
                "short_name": "PC",
                "kind": "university",
                "country": "FR",
                "city": "Lyon",
                "pic": world.ua.pic,
            },
        )
        assert response.status_code == 400
        assert not Institution.objects.filter(short_name="PC").exists()

    def test_domain_rule_is_400_with_detail(self, world, admin):
        """Only universities may be full partners: the service's rule reaches the client as JSON."""
        employer = InstitutionFactory(short_name="EB", kind="employer", erasmus_code="", pic="", schac_code="")
        response = admin.post(
            f"{API}/memberships/",
            {"consortium": str(world.ca.id), "institution": str(employer.id), "role": "partner"},
        )
        assert response.status_code == 400
        assert "EB" in response.json()["detail"]

    def test_second_lead_is_refused(self, world, admin):
        response = admin.post(
            f"{API}/memberships/",
            {"consortium": str(world.ca.id), "institution": str(world.uc.id), "role": "lead"},
        )
        assert response.status_code == 400
        assert response.json()["detail"]

    def test_ending_a_membership_twice_is_409(self, world, admin):
        membership = Membership.objects.get(consortium=world.ca, institution=world.ub)
        response = admin.post(f"{API}/memberships/{membership.id}/end/", {"left_on": "2025-06-30"})
        assert response.status_code == 200, response.content
        assert response.json()["left_on"] == "2025-06-30"
        response = admin.post(f"{API}/memberships/{membership.id}/end/", {})
        assert response.status_code == 409
        assert response.json()["detail"]

    def test_invalid_uuid_in_path_is_404(self, world, admin):
        for url in (
            f"{API}/institutions/not-a-uuid/",
            f"{API}/consortia/not-a-uuid/",
            f"{API}/memberships/not-a-uuid/",
            f"{API}/agreements/not-a-uuid/",
            f"{API}/agreement-versions/not-a-uuid/",
        ):
            response = admin.get(url)
            assert response.status_code == 404, url
            assert "detail" in response.json()
        assert admin.post(f"{API}/agreement-versions/not-a-uuid/terminate/", {"reason": "x"}).status_code == 404
        assert admin.patch(f"{API}/institutions/not-a-uuid/", {"city": "x"}).status_code == 404

    def test_invalid_uuid_in_path_is_404_for_tokens(self, world):
        _token, key = make_token(world.ua, ["institutions:read", "institutions:write"])
        client = client_for_key(key)
        assert client.get(f"{API}/institutions/12345/").status_code == 404
        assert client.patch(f"{API}/institutions/12345/", {"city": "x"}).status_code == 404

    def test_unknown_object_is_404(self, admin):
        response = admin.get(f"{API}/institutions/00000000-0000-0000-0000-000000000000/")
        assert response.status_code == 404

    def test_malformed_json_is_400(self, world, admin):
        response = admin.generic(
            "POST", f"{API}/institutions/", '{"legal_name": "Broken",', content_type="application/json"
        )
        assert response.status_code == 400
        assert "detail" in response.json()

    def test_malformed_json_with_token_is_400(self, world):
        _token, key = make_token(world.ua, ["institutions:read", "institutions:write"])
        response = client_for_key(key).generic(
            "PATCH", f"{API}/institutions/{world.ua.id}/", "{city: Gent}", content_type="application/json"
        )
        assert response.status_code == 400
        assert "detail" in response.json()

    def test_unknown_related_id_is_field_error(self, world, admin):
        response = admin.post(
            f"{API}/memberships/",
            {"consortium": "00000000-0000-0000-0000-000000000000", "institution": "nope", "role": "partner"},
        )
        assert response.status_code == 400
        assert {"consortium", "institution"} <= set(response.json())

    def test_method_not_allowed(self, world, admin):
        response = admin.delete(f"{API}/institutions/{world.ua.id}/")
        # The policy refuses undeclared actions before DRF's method check: 403 or 405, never a deletion.
        assert response.status_code in (403, 405)
        assert Institution.objects.filter(pk=world.ua.pk).exists()


# --- 7. Pagination, filtering, search, ordering --------------------------------------------------------


class TestListing:
    def test_pagination_envelope(self, world):
        _token, key = make_token(world.ua, ["institutions:read"])
        body = client_for_key(key).get(f"{API}/institutions/?page_size=2").json()
        assert set(body) >= {"count", "next", "previous", "results"}
        assert body["count"] == 4
        assert len(body["results"]) == 2
        assert body["next"] and "page=2" in body["next"]
        assert body["previous"] is None

    def test_second_page(self, world):
        _token, key = make_token(world.ua, ["institutions:read"])
        client = client_for_key(key)
        first = short_names(client.get(f"{API}/institutions/?page_size=3"))
        body = client.get(f"{API}/institutions/?page_size=3&page=2").json()
        assert body["next"] is None
        assert body["previous"]
        assert len(body["results"]) == 1
        assert set(first + [r["short_name"] for r in body["results"]]) == {"EA", "UA", "UB", "UC"}

    def test_page_out_of_range_is_404(self, world):
        _token, key = make_token(world.ua, ["institutions:read"])
        assert client_for_key(key).get(f"{API}/institutions/?page=99").status_code == 404

    def test_page_size_is_capped_at_200(self, world):
        Institution.objects.bulk_create(
            [
                Institution(
                    legal_name=f"Bulk {n}", short_name=f"B{n:03d}", kind="university", country="FR", city="Paris"
                )
                for n in range(210)
            ]
        )
        _token, key = make_token(world.ua, ["institutions:read"])
        client = client_for_key(key)
        body = client.get(f"{API}/institutions/?page_size=1000").json()
        assert body["count"] == 214
        assert len(body["results"]) == 200
        assert body["next"] is not None
        assert len(client.get(f"{API}/institutions/").json()["results"]) == 50

    def test_filter_by_country(self, world):
        _token, key = make_token(world.ua, ["institutions:read"])
        response = client_for_key(key).get(f"{API}/institutions/?country=ES")
        assert response.status_code == 200
        assert short_names(response) == ["UB"]

    def test_filter_by_kind(self, world):
        _token, key = make_token(world.ua, ["institutions:read"])
        assert short_names(client_for_key(key).get(f"{API}/institutions/?kind=employer")) == ["EA"]
        assert short_names(client_for_key(key).get(f"{API}/institutions/?kind=university")) == ["UA", "UB", "UC"]

    def test_invalid_filter_value_is_400(self, world):
        _token, key = make_token(world.ua, ["institutions:read"])
        response = client_for_key(key).get(f"{API}/institutions/?kind=castle")
        assert response.status_code == 400
        assert "kind" in response.json()

    def test_search(self, world):
        world.ub.city = "Salamanca"
        world.ub.save()
        _token, key = make_token(world.ua, ["institutions:read"])
        client = client_for_key(key)
        assert short_names(client.get(f"{API}/institutions/?search=salamanca")) == ["UB"]
        assert short_names(client.get(f"{API}/institutions/?search=University UC")) == ["UC"]
        assert client.get(f"{API}/institutions/?search=nowhere").json()["count"] == 0

    def test_ordering(self, world):
        _token, key = make_token(world.ua, ["institutions:read"])
        client = client_for_key(key)
        assert short_names(client.get(f"{API}/institutions/")) == ["EA", "UA", "UB", "UC"]
        assert short_names(client.get(f"{API}/institutions/?ordering=-short_name")) == ["UC", "UB", "UA", "EA"]
        assert short_names(client.get(f"{API}/institutions/?ordering=country")) == ["UA", "EA", "UB", "UC"]

    def test_ordering_by_unlisted_field_is_ignored(self, world):
        _token, key = make_token(world.ua, ["institutions:read"])
        response = client_for_key(key).get(f"{API}/institutions/?ordering=-pic")
        assert response.status_code == 200
        assert short_names(response) == ["EA", "UA", "UB", "UC"]

    def test_filter_memberships_by_role(self, world):
        _token, key = make_token(world.ua, ["memberships:read"])
        response = client_for_key(key).get(f"{API}/memberships/?role=associated")
        assert [row["institution_short_name"] for row in response.json()["results"]] == ["EA"]

    def test_filter_memberships_by_other_consortium_gives_nothing(self, world):
        _token, key = make_token(world.ua, ["memberships:read"])
        response = client_for_key(key).get(f"{API}/memberships/?consortium={world.cb.id}")
        assert response.status_code == 200
        assert response.json()["count"] == 0


# --- 8. Throttling ------------------------------------------------------------------------------------


class TestThrottling:
    @pytest.fixture(autouse=True)
    def _low_rate(self, monkeypatch):
        monkeypatch.setattr(PerTokenRateThrottle, "THROTTLE_RATES", {"api": "3/minute"})

    def test_fourth_request_is_throttled_per_token(self, world):
        _t1, key1 = make_token(world.ua, ["institutions:read"], name="one")
        _t2, key2 = make_token(world.ua, ["institutions:read"], name="two")
        first = client_for_key(key1)
        for _ in range(3):
            assert first.get(f"{API}/institutions/").status_code == 200
        response = first.get(f"{API}/institutions/")
        assert response.status_code == 429
        assert response.json()["detail"]
        assert int(response["Retry-After"]) > 0
        assert client_for_key(key2).get(f"{API}/institutions/").status_code == 200

    def test_other_institution_token_has_its_own_budget(self, world):
        _t1, key1 = make_token(world.ua, ["institutions:read"])
        _t2, key2 = make_token(world.ub, ["institutions:read"])
        first = client_for_key(key1)
        for _ in range(4):
            first.get(f"{API}/institutions/")
        assert first.get(f"{API}/institutions/").status_code == 429
        assert client_for_key(key2).get(f"{API}/institutions/").status_code == 200

    def test_session_users_have_their_own_budget(self, world):
        ua_staff = session_client(world.people["UA_staff"])
        for _ in range(3):
            assert ua_staff.get(f"{API}/institutions/").status_code == 200
        assert ua_staff.get(f"{API}/institutions/").status_code == 429
        assert session_client(world.people["UB_staff"]).get(f"{API}/institutions/").status_code == 200


# --- 9. OpenAPI schema and docs ----------------------------------------------------------------------------


class TestSchema:
    def test_schema_lists_the_api(self, db):
        response = APIClient().get("/api/schema/?format=json")
        assert response.status_code == 200
        schema = response.json()
        paths = schema["paths"]
        for expected in (
            "/api/v1/institutions/",
            "/api/v1/institutions/{id}/",
            "/api/v1/consortia/",
            "/api/v1/memberships/",
            "/api/v1/memberships/{id}/end/",
            "/api/v1/agreements/",
            "/api/v1/agreement-versions/{id}/",
            "/api/v1/agreement-versions/{id}/financial-model/",
            "/api/v1/agreement-versions/{id}/bring-into-force/",
        ):
            assert expected in paths, expected
        assert schema["components"]["securitySchemes"]["tokenAuth"]["type"] == "apiKey"
        assert {"tokenAuth": []} in paths["/api/v1/institutions/"]["get"]["security"]

    def test_schema_by_accept_header(self, db):
        response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        assert response.status_code == 200
        assert "/api/v1/agreement-versions/{id}/" in response.json()["paths"]

    def test_schema_documents_write_bodies(self, db):
        schema = APIClient().get("/api/schema/?format=json").json()
        post = schema["paths"]["/api/v1/agreements/"]["post"]
        ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        component = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        assert {"consortium", "kind", "title"} <= set(component["required"])

    def test_docs_render_without_cdn(self, db):
        response = APIClient().get("/api/docs/")
        assert response.status_code == 200
        html = response.content.decode()
        assert "swagger" in html.lower()
        for marker in ("cdn.", "unpkg", "jsdelivr"):
            assert marker not in html


# --- 10. Audit -----------------------------------------------------------------------------------------------


class TestAudit:
    def test_token_write_is_audited_as_api(self, world):
        _token, key = make_token(world.ua, ["institutions:read", "institutions:write"], name="sis")
        response = client_for_key(key).patch(f"{API}/institutions/{world.ua.id}/", {"city": "Gent"})
        assert response.status_code == 200
        event = AuditEvent.objects.get(action="institution.updated", object_id=str(world.ua.id))
        assert event.via == "api"
        assert event.actor is None
        assert event.actor_label.startswith("token:")
        assert event.actor_label == "token:sis@UA"
        assert event.changes == {"city": ["Leuven", "Gent"]}
        assert event.institution_id == world.ua.id

    def test_session_write_is_audited_as_api_with_the_person(self, world):
        admin = world.people["CA_admin"]
        response = session_client(admin).post(
            f"{API}/agreements/", {"consortium": str(world.ca.id), "kind": "framework", "title": "Framework"}
        )
        assert response.status_code == 201
        event = AuditEvent.objects.get(action="agreement.created")
        assert event.via == "api"
        assert event.actor == admin
        assert event.actor_label == admin.email
        assert event.consortium_id == world.ca.id

    def test_refused_write_records_nothing(self, world):
        _token, key = make_token(world.ua, ["institutions:read", "institutions:write"])
        before = AuditEvent.objects.count()
        assert client_for_key(key).patch(f"{API}/institutions/{world.ub.id}/", {"city": "x"}).status_code == 403
        assert AuditEvent.objects.count() == before

    def test_no_change_records_nothing(self, world):
        _token, key = make_token(world.ua, ["institutions:read", "institutions:write"])
        response = client_for_key(key).patch(f"{API}/institutions/{world.ua.id}/", {"city": "Leuven"})
        assert response.status_code == 200
        assert not AuditEvent.objects.filter(action="institution.updated").exists()


# --- 11. Query counts ---------------------------------------------------------------------------------------


def _add_institutions(count: int, consortium) -> None:
    for _ in range(count):
        institution = InstitutionFactory()
        ContactFactory(institution=institution)
        MembershipFactory(consortium=consortium, institution=institution, role="partner")


class TestQueryCounts:
    BOUND = 10

    @pytest.mark.parametrize("extra", [1, 36])
    def test_institution_list_with_token(self, world, django_assert_max_num_queries, extra):
        _add_institutions(extra, world.ca)
        assert Institution.objects.count() == 4 + extra
        _token, key = make_token(world.ua, ["institutions:read"])
        client = client_for_key(key)
        with django_assert_max_num_queries(self.BOUND):
            response = client.get(f"{API}/institutions/")
        assert response.status_code == 200
        assert response.json()["count"] == 4 + extra

    @pytest.mark.parametrize("extra", [1, 36])
    def test_institution_list_for_consortium_admin(self, world, django_assert_max_num_queries, extra):
        """The contacts check for a consortium administrator must not query once per institution."""
        _add_institutions(extra, world.ca)
        client = session_client(world.people["CA_admin"])
        with django_assert_max_num_queries(self.BOUND):
            response = client.get(f"{API}/institutions/")
        assert response.status_code == 200
        rows = response.json()["results"]
        assert len(rows) == 4 + extra
        assert all(row["contacts"] is not None for row in rows if row["short_name"] != "UC")
        assert next(row for row in rows if row["short_name"] == "UC")["contacts"] is None

    @pytest.mark.parametrize("extra", [1, 36])
    def test_membership_list(self, world, django_assert_max_num_queries, extra):
        _add_institutions(extra, world.ca)
        _token, key = make_token(world.ua, ["memberships:read"])
        client = client_for_key(key)
        with django_assert_max_num_queries(self.BOUND):
            response = client.get(f"{API}/memberships/")
        assert response.json()["count"] == 3 + extra


# --- 12. Partner token writes -------------------------------------------------------------------------------


class TestPartnerWrites:
    def test_token_patches_own_institution(self, world):
        _token, key = make_token(world.ua, ["institutions:read", "institutions:write"])
        response = client_for_key(key).patch(f"{API}/institutions/{world.ua.id}/", {"city": "Gent"})
        assert response.status_code == 200
        assert response.json()["city"] == "Gent"
        world.ua.refresh_from_db()
        assert world.ua.city == "Gent"

    def test_token_cannot_patch_other_institution(self, world):
        _token, key = make_token(world.ua, ["institutions:read", "institutions:write"])
        response = client_for_key(key).patch(f"{API}/institutions/{world.ub.id}/", {"city": "Gent"})
        assert response.status_code == 403
        assert response.json()["detail"]
        world.ub.refresh_from_db()
        assert world.ub.city == "Leuven"

    def test_token_patch_is_validated(self, world):
        _token, key = make_token(world.ua, ["institutions:read", "institutions:write"])
        response = client_for_key(key).patch(f"{API}/institutions/{world.ua.id}/", {"pic": "abc"})
        assert response.status_code == 400
        assert "pic" in response.json()
        world.ua.refresh_from_db()
        assert world.ua.pic != "abc"

    def test_token_cannot_change_read_only_fields(self, world):
        _token, key = make_token(world.ua, ["institutions:read", "institutions:write"])
        original_id = world.ua.id
        response = client_for_key(key).patch(
            f"{API}/institutions/{world.ua.id}/", {"id": "00000000-0000-0000-0000-000000000000", "city": "Gent"}
        )
        assert response.status_code == 200
        assert response.json()["id"] == str(original_id)

    def test_token_cannot_manage_consortium_even_with_write_scope(self, world):
        """Managing a consortium is for its administrators, not for a member's system."""
        _token, key = make_token(
            world.ua, ["consortia:read", "consortia:write", "memberships:write", "agreements:write"]
        )
        client = client_for_key(key)
        assert client.patch(f"{API}/consortia/{world.ca.id}/", {"description": "Ours."}).status_code == 403
        response = client.post(
            f"{API}/agreements/", {"consortium": str(world.ca.id), "kind": "framework", "title": "By token"}
        )
        assert response.status_code == 403
        world.ca.refresh_from_db()
        assert world.ca.description == ""
        assert not Agreement.objects.filter(title="By token").exists()

    def test_consortium_admin_patches_consortium(self, world):
        response = session_client(world.people["CA_admin"]).patch(
            f"{API}/consortia/{world.ca.id}/", {"description": "Green skills alliance."}
        )
        assert response.status_code == 200
        world.ca.refresh_from_db()
        assert world.ca.description == "Green skills alliance."


def test_superuser_sees_consortia_without_members(world):
    """A consortium with no members is visible to platform superusers (and to nobody else)."""
    lonely = ConsortiumFactory(acronym="LONE")
    response = session_client(world.people["superuser"]).get(f"{API}/consortia/")
    assert ids(response) == {str(world.ca.id), str(world.cb.id), str(lonely.id)}
    assert str(lonely.id) not in ids(session_client(world.people["CA_admin"]).get(f"{API}/consortia/"))

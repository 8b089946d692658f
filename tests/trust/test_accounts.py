"""Accounts: login throttling and lockout, MFA enforced for staff, session expiry, security headers."""

import datetime as dt

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from ..factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple 42"


def _user(**kwargs):
    from allauth.account.models import EmailAddress

    user = UserFactory(**kwargs)
    user.set_password(PASSWORD)
    user.save()
    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    return user


def _login(client, email, password):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_repeated_failed_logins_lock_the_account_out_with_a_clear_message(client):
    user = _user()
    for _ in range(5):
        response = _login(client, user.email, "wrong password")
        assert response.status_code == 200
        assert "Too many failed login attempts" not in response.content.decode()
    locked = _login(client, user.email, PASSWORD)  # even the right password is refused while locked out
    assert locked.status_code == 200
    assert "Too many failed login attempts. Try again later." in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_another_account_is_not_locked_by_someone_elses_failures(client):
    victim, other = _user(), _user()
    for _ in range(5):
        _login(client, victim.email, "wrong password")
    response = _login(client, other.email, PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(other.pk)


@pytest.fixture
def mfa_required(settings):
    settings.MFA_REQUIRED_FOR_STAFF = True


def test_staff_without_an_authenticator_are_sent_to_set_one_up(client, mfa_required):
    staff = StaffFactory().user
    client.force_login(staff)
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))
    page = client.get(response["Location"], follow=True)  # allauth asks for the password again first
    assert page.status_code == 200
    assert "Your role requires two-factor authentication" in page.content.decode()
    api = client.get("/api/v1/applications/")
    assert api.status_code == 403 and api.json()["code"] == "mfa_required"
    assert client.get("/verify/unknown-credential-id/").status_code in (200, 404)  # public pages stay open


def test_staff_with_an_authenticator_and_learners_are_let_through(client, mfa_required):
    staff = StaffFactory().user
    Authenticator.objects.create(user=staff, type=Authenticator.Type.TOTP, data={"secret": "x"})
    client.force_login(staff)
    assert client.get("/dashboard/").status_code == 200
    learner = UserFactory()
    client.force_login(learner)
    assert client.get("/dashboard/").status_code == 200


def test_mfa_is_not_enforced_when_switched_off(client, settings):
    settings.MFA_REQUIRED_FOR_STAFF = False
    client.force_login(StaffFactory().user)
    assert client.get("/dashboard/").status_code == 200


def test_an_expired_session_signs_the_user_out(client):
    client.force_login(UserFactory())
    assert client.get("/dashboard/").status_code == 200
    Session.objects.update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    response = client.get("/dashboard/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_pages_carry_a_content_security_policy_and_frame_protection(client):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[-1].split(";")[0]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"

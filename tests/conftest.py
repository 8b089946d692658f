import ipaddress
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection
from rest_framework.test import APIClient

from consortium import policy
from consortium.celery import app as celery_app
from consortium.services import apitoken_create

from .factories import (
    ConsortiumFactory,
    InstitutionFactory,
    MembershipFactory,
    RoleAssignmentFactory,
    StaffFactory,
    UserFactory,
)


class NetworkBlocked(OSError):
    """The tests reach nothing but this machine: PostgreSQL, Redis, live test servers and workers on loopback."""


def _loopback(host) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True, scope="session")
def _no_network():
    """Every connection to a non-loopback address fails (before any packet is sent), so a test that would reach
    the network (a JSON-LD context, a did:web resolution, a font, a CDN) fails loudly instead."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def check(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
            raise NetworkBlocked(f"Network access to {address[0]!r} is blocked in the tests (loopback only).")

    def connect(sock, address):
        check(sock, address)
        return real_connect(sock, address)

    def connect_ex(sock, address):
        check(sock, address)
        return real_connect_ex(sock, address)

    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
    try:
        yield
    finally:
        socket.socket.connect, socket.socket.connect_ex = real_connect, real_connect_ex


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    """Every test writes files to its own folders."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.SEAL_DIR = tmp_path / "seals"
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "private", "base_url": None},
        },
    }
    # pytest-django's ``settings`` fires setting_changed, which resets Django's storage handler.


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def world(db):
    """Two consortia: A (lead UA, partner UB, associated employer EA) and B (lead UC).

    Each university has an institution admin, a student admin and a plain staff member; consortium A
    has a consortium admin at UA.
    """
    ua = InstitutionFactory(short_name="UA", country="BE")
    ub = InstitutionFactory(short_name="UB", country="ES")
    uc = InstitutionFactory(short_name="UC", country="NL")
    ea = InstitutionFactory(short_name="EA", country="DE", kind="employer", erasmus_code="", pic="", schac_code="")
    ca = ConsortiumFactory(acronym="CA")
    cb = ConsortiumFactory(acronym="CB")
    MembershipFactory(consortium=ca, institution=ua, role="lead")
    MembershipFactory(consortium=ca, institution=ub, role="partner")
    MembershipFactory(consortium=ca, institution=ea, role="associated")
    MembershipFactory(consortium=cb, institution=uc, role="lead")

    people = {}
    for inst in (ua, ub, uc):
        people[f"{inst.short_name}_admin"] = StaffFactory(institution=inst).user
        RoleAssignmentFactory(user=people[f"{inst.short_name}_admin"], role="institution_admin", institution=inst)
        people[f"{inst.short_name}_students"] = StaffFactory(institution=inst).user
        RoleAssignmentFactory(user=people[f"{inst.short_name}_students"], role="student_admin", institution=inst)
        people[f"{inst.short_name}_staff"] = StaffFactory(institution=inst).user
    people["CA_admin"] = StaffFactory(institution=ua).user
    RoleAssignmentFactory(user=people["CA_admin"], role="consortium_admin", consortium=ca)
    people["learner"] = UserFactory()
    people["superuser"] = UserFactory(is_superuser=True, is_staff=True)

    class World:
        pass

    w = World()
    w.ua, w.ub, w.uc, w.ea, w.ca, w.cb = ua, ub, uc, ea, ca, cb
    w.people = people
    return w


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def token_client(db):
    """``token_client(institution, scopes)`` → an APIClient authenticated with a fresh token."""

    def make(institution, scopes=None):
        _token, key = apitoken_create(
            actor=None,
            institution=institution,
            name=f"test-{institution.short_name}",
            scopes=scopes or policy.api_scopes(),
            check_policy=False,
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        client.token = _token
        return client

    return make


ROOT = Path(__file__).resolve().parents[1]


def _database_url() -> str:
    s = connection.settings_dict
    if s["ENGINE"] != "django.db.backends.postgresql":
        return ""
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def worker(settings):
    redis_url = os.environ.get("REDIS_URL", "")
    database_url = _database_url()
    reason = ""
    if not redis_url:
        reason = "REDIS_URL is not set: no broker for a real worker (CI sets it)"
    elif not database_url:
        reason = "the test database is not PostgreSQL, so a worker process cannot share it (CI uses PostgreSQL)"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"The real-worker test must run in CI: {reason}")
        pytest.skip(reason)

    queue = f"test-{uuid.uuid4().hex[:8]}"
    from cryptography.fernet import Fernet

    encryption_key = Fernet.generate_key().decode()
    settings.CREDENTIAL_KEY_ENCRYPTION_KEY = [encryption_key]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "consortium.settings",
        "DJANGO_SECRET_KEY": "worker-test-secret",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "EMAIL_URL": "dummymail://",
        "DB_CONN_MAX_AGE": "0",
        # Issuer keys and demo seals shared with this test process, so both sign and check the same material.
        "CREDENTIAL_KEY_ENCRYPTION_KEY": encryption_key,
        "SEAL_DEMO_AUTO": "true",
        "SEAL_DIR": str(settings.SEAL_DIR),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "consortium",
            "worker",
            "-Q",
            queue,
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield queue
    finally:
        celery_app.conf.task_always_eager = previous
        process.terminate()
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        print(output[-4000:])

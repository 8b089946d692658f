import ipaddress
import os
import socket
import uuid

import pytest
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
from .workers import Workers, unavailable_reason, worker_env, workers_redis_url
from .workers import database_url as _database_url
from .workers import reset_celery_connections as _reset_celery_connections


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


@pytest.fixture
def worker_process(settings, tmp_path):
    """A :class:`Workers` for this test's own queue on the workers' Redis database (none started yet)."""
    database_url = _database_url()
    if reason := unavailable_reason():
        if os.environ.get("CI"):
            pytest.fail(f"The real-worker test must run in CI: {reason}")
        pytest.skip(reason)

    from cryptography.fernet import Fernet

    encryption_key = Fernet.generate_key().decode()
    settings.CREDENTIAL_KEY_ENCRYPTION_KEY = [encryption_key]
    env = worker_env(database_url=database_url, encryption_key=encryption_key, seal_dir=settings.SEAL_DIR)
    log_dir = tmp_path / "workers"
    log_dir.mkdir()
    saved = {key: celery_app.conf[key] for key in
             ("broker_url", "result_backend", "task_always_eager", "task_default_queue")}
    workers = Workers(queue=f"test-{uuid.uuid4().hex[:8]}", broker_url=workers_redis_url(), env=env,
                      log_dir=log_dir)
    # This process is the client of a real worker here, so it may wait for results (Celery's "never call
    # result.get() within a task" guard is a process-wide flag that an earlier eager call can leave set).
    from celery.result import allow_join_result

    try:
        with allow_join_result():
            yield workers
    finally:
        workers.stop()
        workers.purge()
        celery_app.conf.update(saved)
        _reset_celery_connections()
        print(workers.output()[-6000:])


@pytest.fixture
def worker(worker_process):
    """One real worker (solo pool) on this test's queue; the queue's name."""
    worker_process.start()
    return worker_process.queue

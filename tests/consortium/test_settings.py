"""Settings come from the environment: SQLite + eager Celery by default, PostgreSQL/Redis when set."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
    "'eager': settings.CELERY_TASK_ALWAYS_EAGER, 'broker': settings.CELERY_BROKER_URL, "
    "'cache': settings.CACHES['default']['BACKEND'], 'debug': settings.DEBUG, "
    "'mfa_for_staff': settings.MFA_REQUIRED_FOR_STAFF}))"
)


def _clean_env(**extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_DEBUG", "DJANGO_SECRET_KEY", "DJANGO_SETTINGS_MODULE")
    }
    env.update(DJANGO_SETTINGS_MODULE="consortium.settings", **extra)
    return env


def _probe(tmp_path, **extra):
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=_clean_env(VAR_DIR=str(tmp_path), **extra),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_defaults_are_sqlite_and_eager(tmp_path):
    found = _probe(tmp_path, DJANGO_DEBUG="true")
    assert found == {
        "engine": "django.db.backends.sqlite3",
        "eager": True,
        "broker": "memory://",
        "cache": "django.core.cache.backends.locmem.LocMemCache",
        "debug": True,
        "mfa_for_staff": False,
    }
    assert (tmp_path / "dev-secret-key").read_text().strip(), "a dev secret is generated and kept in var/"


def test_urls_switch_to_postgresql_and_redis(tmp_path):
    found = _probe(
        tmp_path, DJANGO_SECRET_KEY="x" * 50, DATABASE_URL="postgres://u@db:5432/app", REDIS_URL="redis://cache:6379/1"
    )
    assert found["engine"] == "django.db.backends.postgresql"
    assert found["eager"] is False
    assert found["broker"] == "redis://cache:6379/1"
    assert found["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert found["debug"] is False


def test_secret_key_required_without_debug(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=_clean_env(VAR_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = _clean_env(
        VAR_DIR=str(tmp_path),
        DJANGO_SECRET_KEY="k8$Lq2!vXz9@pR4#mN7^tW1&yB6*eH3(uJ5)sD0_fG-aC+iK=oQ",
        DJANGO_ALLOWED_HOSTS="jointcred.example.eu",
        PUBLIC_BASE_URL="https://jointcred.example.eu",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_tests_use_the_configured_services(settings):
    """In CI (DATABASE_URL/REDIS_URL set) the suite really runs on PostgreSQL and Redis."""
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    if os.environ.get("REDIS_URL"):
        from django.core.cache import cache

        cache.set("ping", "pong", 5)
        assert cache.get("ping") == "pong"
        assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    if os.environ.get("CI"):
        assert os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"), "CI must run on the real services"


def test_staff_mfa_is_required_in_production_and_off_in_the_demo(tmp_path):
    assert _probe(tmp_path, DJANGO_DEBUG="false", DJANGO_SECRET_KEY="s" * 60)["mfa_for_staff"] is True
    assert _probe(tmp_path, DJANGO_DEBUG="true")["mfa_for_staff"] is False

"""Test overrides: a fixed secret, a fast password hasher, in-memory email.

The database and broker still come from ``DATABASE_URL``/``REDIS_URL`` when they are set, so CI runs
against real PostgreSQL and Redis.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-used-anywhere-else-0123456789")
os.environ.setdefault("VAR_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", "test"))

from .settings import *  # noqa: F403
from .settings import REDIS_URL

WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# Most tests run tasks in-process; the tests marked ``celery_worker`` drive a real worker via Redis.
CELERY_TASK_ALWAYS_EAGER = True
# Issuer signing keys are encrypted with a key derived from the test SECRET_KEY (certification/vc/keys.py).
CREDENTIAL_KEY_DERIVE_FROM_SECRET = True
# Demo seals (self-signed, under VAR_DIR/test) are made on first use, as in development.
SEAL_DEMO_AUTO = True
# The fake payment provider (off in production) serves the finance tests.
PAYMENT_PROVIDERS = {"fake": "finance.payments.FakeProvider"}
CELERY_TASK_EAGER_PROPAGATES = True
# Staff MFA is tested on its own (tests/trust/test_accounts.py); the other tests sign staff in without TOTP.
MFA_REQUIRED_FOR_STAFF = False
# Webhook tests deliver to a receiver on 127.0.0.1 (tests/consortium/test_webhooks.py).
WEBHOOK_ALLOW_LOOPBACK = True
if REDIS_URL:
    CACHES["default"]["KEY_PREFIX"] = f"test-{os.getpid()}"  # noqa: F405
